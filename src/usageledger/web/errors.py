"""Error mapping, in one place: the API's JSON envelope and the pages' HTML error page."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from usageledger.errors import UsageLedgerError
from usageledger.store.engine import DATABASE_UNAVAILABLE_ERRORS, database_unavailable

__all__ = [
    "ApiError",
    "LoginRequired",
    "error_envelope",
    "install_error_handlers",
    "is_api_path",
    "render_unhandled",
]

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

_STATUS_TYPES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}

_STATUS_MESSAGES = {
    401: "Sign in, or send 'Authorization: Bearer <personal access token>'.",
    403: "Your role does not allow this; ask a workspace admin.",
    404: "Nothing here: check the address or the id.",
    405: "This method is not allowed here.",
}


class ApiError(Exception):
    """An HTTP error with a stable envelope `type` (unauthorized, forbidden, validation_error …)."""

    def __init__(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = headers


class LoginRequired(Exception):
    """A page needs a signed-in user: pages redirect to the sign-in page, the API answers 401."""


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")


def error_envelope(type_: str, message: str) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message}}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "Invalid request — " + "; ".join(parts) if parts else "Invalid request."


def _respond(
    request: Request, status: int, type_: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    if is_api_path(request.url.path):
        return JSONResponse(error_envelope(type_, message), status_code=status, headers=headers)
    from usageledger.web.templating import render_error

    return render_error(request, status, message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UsageLedgerError)
    async def _ours(request: Request, exc: UsageLedgerError) -> Response:
        return _respond(request, exc.http_status, exc.type, exc.message)

    async def _database(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DBAPIError)  # registered for DATABASE_UNAVAILABLE_ERRORS only
        error = database_unavailable(exc)  # down, full, read-only or gone: a 503 that says so, not a 500
        log.warning("%s %s: %s", request.method, request.url.path, error.message)  # for the operator
        return _respond(request, error.http_status, error.type, error.message)

    for unavailable in DATABASE_UNAVAILABLE_ERRORS:
        app.add_exception_handler(unavailable, _database)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        return _respond(request, exc.status, exc.type, exc.message, exc.headers)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if is_api_path(request.url.path):
            return JSONResponse(error_envelope("unauthorized", _STATUS_MESSAGES[401]), status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        type_ = _STATUS_TYPES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        message = _STATUS_MESSAGES.get(exc.status_code) or detail or "Request failed."
        if exc.status_code not in _STATUS_MESSAGES and detail:
            message = detail
        return _respond(request, exc.status_code, type_, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _respond(request, 422, "validation_error", _validation_message(exc))


def render_unhandled(scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 500 answer for a bug: no details, nothing from the request echoed back."""
    message = "Something went wrong on our side; the error was logged. Try again, or check the server log."
    if is_api_path(scope.get("path", "")):
        body = json.dumps(error_envelope("internal_error", message)).encode()
        ctype = b"application/json"
    else:
        body = (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Error · usageledger</title>"
            '<link rel="stylesheet" href="/static/app.css"></head><body><main class="narrow">'
            f"<h1>Internal error</h1><p>{message}</p><p><a href='/'>Back to usageledger</a></p></main></body></html>"
        ).encode()
        ctype = b"text/html; charset=utf-8"
    return 500, [(b"content-type", ctype), (b"content-length", str(len(body)).encode())], body
