"""Dependencies: the app's services, the signed-in user (session or bearer token), roles and CSRF checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from usageledger.config import Settings
from usageledger.errors import NotFoundError
from usageledger.store.accounts import UserRow, get_user, user_for_token
from usageledger.store.sessions import (
    SessionLifetime,
    create_session,
    end_session,
    find_session,
    purge_expired_sessions,
)
from usageledger.web.errors import ApiError, LoginRequired
from usageledger.web.login_limits import LoginThrottle
from usageledger.web.security import CSRF_FIELD, CSRF_HEADER, csrf_valid

__all__ = [
    "AdminUser",
    "ApiAdmin",
    "ApiUser",
    "MAX_FIELD_BYTES",
    "MAX_FORM_FIELDS",
    "CsrfForm",
    "PageUser",
    "Services",
    "ServicesDep",
    "require_form_csrf",
    "session_lifetime",
    "session_user",
    "sign_in",
    "sign_out",
]

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_ADMIN_ONLY = (
    "Only workspace admins can connect, disconnect or sync integrations and manage users and tokens. "
    "Ask an admin of your workspace to do it, or to make you an admin."
)


@dataclass
class Services:
    """What the app was built with; one per app, kept on `app.state.services`."""

    settings: Settings
    engine: Engine
    syncs: Any  # usageledger.sync.BackgroundSyncs
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(_services)]


# The signed cookie holds only this random token (and the CSRF token and flash message); who is signed in,
# and until when, lives in the web_sessions table, so ending a session there ends it everywhere at once.
_SESSION_TOKEN = "session_token"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def session_lifetime(settings: Settings) -> SessionLifetime:
    return SessionLifetime(
        idle=dt.timedelta(hours=settings.session_idle_hours),
        absolute=dt.timedelta(days=settings.session_lifetime_days),
    )


def _user_of_session(services: Services, token: str) -> UserRow | None:
    with services.engine.begin() as conn:
        found = find_session(conn, token, lifetime=session_lifetime(services.settings), now=_now())
        if found is None:
            return None
        try:
            user = get_user(conn, found.user_id)
        except NotFoundError:
            return None
    return user if user.tenant_id == found.tenant_id else None


def session_user(request: Request, services: Services) -> UserRow | None:
    """The user of this browser's live server-side session, or None (and the cookie's session is cleared)."""
    token = request.session.get(_SESSION_TOKEN)
    if not isinstance(token, str):
        return None
    user = _user_of_session(services, token)
    if user is None:
        request.session.clear()
    return user


def sign_in(request: Request, user: UserRow) -> None:
    """Start a fresh server-side session for `user` (a new CSRF token too, so a planted session is worthless).

    A session this browser had before is ended, and expired sessions of anyone are cleaned up."""
    services: Services = request.app.state.services
    lifetime, now = session_lifetime(services.settings), _now()
    previous = request.session.get(_SESSION_TOKEN)
    with services.engine.begin() as conn:
        if isinstance(previous, str):
            end_session(conn, previous)
        purge_expired_sessions(conn, lifetime=lifetime, now=now)
        token = create_session(conn, user_id=user.id, tenant_id=user.tenant_id, lifetime=lifetime, now=now)
    request.session.clear()
    request.session[_SESSION_TOKEN] = token


def sign_out(request: Request) -> None:
    """End this browser's session in the database, so a copy of the cookie is worthless too."""
    token = request.session.get(_SESSION_TOKEN)
    if isinstance(token, str):
        services: Services = request.app.state.services
        with services.engine.begin() as conn:
            end_session(conn, token)
    request.session.clear()


# --- pages ----------------------------------------------------------------------------------------------


def _page_user(request: Request, services: ServicesDep) -> UserRow:
    user = session_user(request, services)
    if user is None:
        raise LoginRequired()
    request.state.user = user
    return user


PageUser = Annotated[UserRow, Depends(_page_user)]


def _page_admin(user: PageUser) -> UserRow:
    if not user.is_admin:
        raise ApiError(403, "forbidden", _ADMIN_ONLY)
    return user


AdminUser = Annotated[UserRow, Depends(_page_admin)]


# Every form of ours is a few short fields; these bound what one request can make the parser hold.
MAX_FORM_FIELDS = 100
MAX_FIELD_BYTES = 64 * 1024
_FORM_TOO_LARGE = (
    f"This form is too large: at most {MAX_FORM_FIELDS} fields of at most {MAX_FIELD_BYTES // 1024} KB "
    "each, and no file uploads. Shorten what you entered and submit it again."
)


async def _bounded_form(request: Request) -> FormData:
    """The request's form, parsed within our bounds; a form beyond them is a 413, never a 500."""
    try:
        return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES)
    except StarletteHTTPException as exc:
        # Starlette answers 400 for every parser refusal; its limit messages all name the "maximum".
        if "maximum" in str(exc.detail).lower():
            raise ApiError(413, "payload_too_large", _FORM_TOO_LARGE) from exc
        raise ApiError(
            400, "invalid_request", "This form could not be read; reload the page and submit it again."
        ) from exc


def require_form_csrf(request: Request, form: FormData) -> None:
    """A 403 unless the form's CSRF token matches the session's (every page form, uploads included)."""
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise ApiError(
            403,
            "csrf_failed",
            "This form has expired or did not come from usageledger. Reload the page and submit it again.",
        )


async def _csrf_form(request: Request) -> dict[str, Any]:
    """The submitted form (within the size bounds), once its CSRF token matched the session's."""
    form = await _bounded_form(request)
    require_form_csrf(request, form)
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


CsrfForm = Annotated[dict[str, Any], Depends(_csrf_form)]

# --- API --------------------------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="A personal access token created by a workspace admin.")


def _api_user(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UserRow:
    if credentials is not None:
        with services.engine.begin() as conn:
            user = user_for_token(conn, credentials.credentials)
        if user is None:
            raise ApiError(401, "unauthorized", "Unknown or revoked access token; create a new one.")
        return user
    if request.headers.get("authorization"):
        raise ApiError(401, "unauthorized", "Use 'Authorization: Bearer <personal access token>'.")
    user = session_user(request, services)
    if user is None:
        raise LoginRequired()
    if request.method in _UNSAFE and not csrf_valid(request, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, "csrf_failed", f"Send the session's CSRF token in the {CSRF_HEADER} header.")
    return user


ApiUser = Annotated[UserRow, Depends(_api_user)]


def _api_admin(user: ApiUser) -> UserRow:
    if not user.is_admin:
        raise ApiError(403, "forbidden", _ADMIN_ONLY)
    return user


ApiAdmin = Annotated[UserRow, Depends(_api_admin)]
