"""Jinja2 templates from the package, with the context every page needs (user, CSRF token, flash message)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from usageledger.web.formatting import (
    event_details,
    format_compact,
    format_count,
    format_money,
    format_percent,
    format_share,
)
from usageledger.web.security import CSRF_FIELD, csrf_token

__all__ = ["flash", "render", "render_error", "templates"]

_HERE = Path(__file__).resolve().parent


def _fmt_int(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, int | Decimal | float):
        return f"{value:,}"
    return str(value)


def _fmt_usd(value: object) -> str:
    if value is None:
        return "—"
    amount = Decimal(str(value))
    return f"${amount:,.2f}"


def _fmt_time(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return "never"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["int"] = _fmt_int
_env.filters["usd"] = _fmt_usd
_env.filters["when"] = _fmt_time
_env.filters["money"] = format_money
_env.filters["compact"] = format_compact
_env.filters["count"] = format_count
_env.filters["share"] = format_share
_env.filters["percent"] = format_percent
_env.filters["event_details"] = event_details

templates = Jinja2Templates(env=_env)


def flash(request: Request, message: str, level: str = "info") -> None:
    """A one-time message shown on the next page rendered for this session."""
    request.session["flash"] = {"message": message, "level": level}


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    base = {
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "flash": request.session.pop("flash", None),
        "path": request.url.path,
        "title": "",
    }
    base.update(context)
    return templates.TemplateResponse(request, template, base, status_code=status_code)


def render_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    titles = {
        401: "Sign in needed",
        403: "Not allowed",
        404: "Not found",
        405: "Not allowed",
        413: "Too large",
        429: "Slow down",
    }
    title = titles.get(status, "Something went wrong")
    response = render(request, "error.html", status_code=status, title=title, status=status, message=message)
    if headers:
        response.headers.update(headers)
    return response
