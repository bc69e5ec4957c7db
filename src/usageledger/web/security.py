"""Security plumbing: the session secret, CSRF tokens and the response security headers."""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usageledger.config import Settings
from usageledger.private_files import make_private_dir

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SECURITY_HEADERS",
    "SecurityHeadersMiddleware",
    "csrf_token",
    "csrf_valid",
    "load_session_secret",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}

# /docs runs Swagger UI from its package files (see app.py); it sets inline styles, so only there styles relax.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)


def load_session_secret(settings: Settings) -> str:
    """The secret that signs session cookies: the setting, else a generated file (0600) beside the key file."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path: Path = settings.key_file.with_name("session.key")
    if path.exists():
        return path.read_text().strip()
    make_private_dir(path.parent)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_valid(request: Request, submitted: object) -> bool:
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, and answers unhandled errors itself so they get them too.

    Every response but the static assets also gets `Cache-Control: no-store`: pages, API answers and
    CSVs show a workspace's usage and cost, redirects and errors tell who is signed in, and none of it
    may stay in a browser's or a proxy's cache.
    """

    CACHEABLE_PREFIXES = ("/static/", "/docs/assets/")

    def __init__(
        self, app: ASGIApp, on_error: Callable[[Scope], tuple[int, list[tuple[bytes, bytes]], bytes]]
    ):
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = _DOCS_CSP if path.startswith("/docs") else SECURITY_HEADERS["content-security-policy"]
        extra = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
        extra[0] = (b"content-security-policy", csp.encode())
        if not path.startswith(self.CACHEABLE_PREFIXES):
            extra.append((b"cache-control", b"no-store"))
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers: list[Any] = list(message.get("headers", []))
                headers += [(n, v) for n, v in extra if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                status, headers, body = self.on_error(scope)
                await send_with_headers({"type": "http.response.start", "status": status, "headers": headers})
                await send_with_headers({"type": "http.response.body", "body": body})
            raise
