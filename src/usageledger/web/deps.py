"""Dependencies: the app's services, the signed-in user (session or bearer token), roles and CSRF checks."""

from __future__ import annotations

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


def _load_user(services: Services, user_id: int) -> UserRow | None:
    try:
        with services.engine.connect() as conn:
            return get_user(conn, user_id)
    except NotFoundError:
        return None


def session_user(request: Request, services: Services) -> UserRow | None:
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = _load_user(services, user_id)
    if user is None or user.tenant_id != request.session.get("tenant_id"):
        request.session.clear()
        return None
    return user


def sign_in(request: Request, user: UserRow) -> None:
    """Start a fresh session for `user` (a new CSRF token too, so a planted session is worthless)."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["tenant_id"] = user.tenant_id


def sign_out(request: Request) -> None:
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


async def _csrf_form(request: Request) -> dict[str, Any]:
    """The submitted form (within the size bounds), once its CSRF token matched the session's."""
    form = await _bounded_form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise ApiError(
            403,
            "csrf_failed",
            "This form has expired or did not come from usageledger. Reload the page and submit it again.",
        )
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
