"""The web app: FastAPI pages (Jinja2), the JSON API under /api/v1, sign-in and security headers."""

from __future__ import annotations

from usageledger.web.app import SESSION_COOKIE, create_app

__all__ = ["SESSION_COOKIE", "create_app"]
