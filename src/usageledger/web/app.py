"""The application factory: `create_app(settings, engine)` builds everything; nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from usageledger.alerting import after_sync_hook
from usageledger.config import Settings
from usageledger.store import create_engine_for, migrate, resume_pending_scrub
from usageledger.sync import BackgroundSyncs
from usageledger.web import (
    api,
    api_allocation,
    api_budgets,
    api_destinations,
    api_exports,
    api_finance,
    api_overview,
    api_users,
    pages_account,
    pages_allocation,
    pages_budgets,
    pages_destinations,
    pages_finance,
    pages_identity,
    pages_integrations,
    pages_overview,
    scim,
)
from usageledger.web.deps import Services
from usageledger.web.errors import install_error_handlers, render_unhandled
from usageledger.web.security import SecurityHeadersMiddleware, load_session_secret
from usageledger.web.templating import templates

__all__ = ["SESSION_COOKIE", "create_app"]

SESSION_COOKIE = "usageledger_session"
_HERE = Path(__file__).resolve().parent

_DESCRIPTION = """\
Daily Anthropic usage and cost, synced with an Admin API key.

Authenticate with `Authorization: Bearer <personal access token>` (an admin creates tokens under
Company settings › Users & tokens, or with `POST /api/v1/tokens`), or with the browser session
(then send the page's CSRF token in `X-CSRF-Token` on POST and DELETE).

Every error has one shape: `{"error": {"type": "…", "message": "…"}}`.
"""


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the web app. Without an engine, one is created from `settings` and migrated to the newest schema."""
    settings = settings or Settings()
    if engine is None:
        engine = create_engine_for(settings)
        migrate(engine)
    resume_pending_scrub(settings, engine)  # a disconnect's scrub that a reader held up
    app = FastAPI(
        title="usageledger",
        version="1",
        description=_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = Services(
        settings=settings, engine=engine, syncs=BackgroundSyncs(settings, engine, after_sync_hook(settings))
    )

    app.add_middleware(
        SessionMiddleware,
        secret_key=load_session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.session_lifetime_days * 24 * 3600),  # the server-side session decides earlier
        same_site="lax",
        https_only=settings.cookies_secure,
    )
    app.add_middleware(SecurityHeadersMiddleware, on_error=render_unhandled)
    install_error_handlers(app)
    scim.install_scim_errors(app)

    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "docs.html", {})

    app.include_router(pages_account.router)
    app.include_router(pages_integrations.router)
    app.include_router(api.router)
    app.include_router(api_users.router)
    app.include_router(pages_overview.router)
    app.include_router(api_overview.router)
    app.include_router(pages_allocation.router)
    app.include_router(api_allocation.router)
    app.include_router(pages_identity.router)
    app.include_router(scim.router)  # SCIM: its own token and error shape (web/scim.py)
    app.include_router(api_exports.router)
    app.include_router(pages_finance.router)
    app.include_router(api_finance.router)
    app.include_router(pages_destinations.router)
    app.include_router(api_destinations.router)
    app.include_router(pages_budgets.router)
    app.include_router(api_budgets.router)
    return app
