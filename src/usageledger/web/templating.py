"""Jinja2 templates from the package, with the context every page needs (user, CSRF token, flash message)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from usageledger.web.security import CSRF_FIELD, csrf_token

__all__ = ["compact", "count", "flash", "money", "percent", "render", "render_error", "templates"]

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


# --- money, compact numbers and counts (the overview's filters: exact Decimal in, exact value in a title) ---

_CENT = Decimal("0.01")
_COMPACT_STEPS = (
    (Decimal(10) ** 12, "T"),
    (Decimal(10) ** 9, "B"),
    (Decimal(10) ** 6, "M"),
    (Decimal(10) ** 3, "k"),
)


def _exact(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise TypeError("money and counts are exact: pass a Decimal or an int, never a float")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _titled(shown: str, exact: str) -> Markup:
    if shown == exact:
        return Markup("<span>{}</span>").format(shown)
    return Markup('<span title="{}">{}</span>').format(exact, shown)


def _money_text(amount: Decimal) -> str:
    rounded = amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    return f"{'−' if rounded < 0 else ''}${abs(rounded):,.2f}"


def money(value: object) -> Markup:
    """`$54,619.04`, with the exact amount (`$54,619.03986927`) on hover when it has more digits; `—` for none."""
    amount = _exact(value)
    if amount is None:
        return Markup("—")
    shown = _money_text(amount)
    if amount == amount.quantize(_CENT):
        return _titled(shown, shown)
    return _titled(shown, f"{'−' if amount < 0 else ''}${abs(amount):,f}")


def compact(value: object, unit: str = "") -> Markup:
    """`127.2B` for big numbers so they fit their tile, the exact count on hover; `unit="$"` for money."""
    number = _exact(value)
    if number is None:
        return Markup("—")
    prefix = "$" if unit == "$" else ""
    exact = f"{prefix}{number:,f}" if prefix else f"{number:,}"
    for step, suffix in _COMPACT_STEPS:
        if abs(number) >= step:
            shown = (number / step).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
            return _titled(f"{prefix}{shown:,}{suffix}", exact)
    return _titled(_money_text(number) if prefix else f"{number:,}", exact)


def count(value: object) -> str:
    """`45,708`; `—` for no value."""
    number = _exact(value)
    return "—" if number is None else f"{number:,}"


def percent(value: object, signed: bool = False) -> str:
    """A share or a change in percent, one decimal: `41.2 %`, `+25.0 %`; `—` when there is none."""
    number = _exact(value)
    if number is None:
        return "—"
    shown = number.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    sign = "+" if signed and shown > 0 else ("−" if shown < 0 else "")
    return f"{sign}{abs(shown)} %"


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
_env.filters.update(money=money, compact=compact, count=count, percent=percent)

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
        429: "Slow down",
    }
    title = titles.get(status, "Something went wrong")
    response = render(request, "error.html", status_code=status, title=title, status=status, message=message)
    if headers:
        response.headers.update(headers)
    return response
