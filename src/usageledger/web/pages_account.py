"""Pages about people: first run, sign-in, sign-out, users and personal access tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from usageledger.errors import ConflictError, UsageError
from usageledger.store.accounts import (
    authenticate_user,
    count_users,
    create_access_token,
    create_first_admin,
    create_user,
    delete_access_token,
    get_tenant,
    list_access_tokens,
    list_users,
)
from usageledger.web.deps import AdminUser, CsrfForm, ServicesDep, session_user, sign_in, sign_out
from usageledger.web.params import PathId
from usageledger.web.templating import flash, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

HOME = "/settings/integrations"


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _no_users(services: ServicesDep) -> bool:
    with services.engine.connect() as conn:
        return count_users(conn) == 0


@router.get("/")
def home(request: Request, services: ServicesDep) -> Response:
    if _no_users(services):
        return RedirectResponse("/setup", status_code=303)
    if session_user(request, services) is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/overview", status_code=303)


@router.get("/setup")
def setup_page(request: Request, services: ServicesDep) -> Response:
    if not _no_users(services):
        return RedirectResponse("/login", status_code=303)
    return render(request, "setup.html", title="Set up usageledger", error=None, form={})


@router.post("/setup")
def setup(request: Request, services: ServicesDep, form: CsrfForm) -> Response:
    if form.get("password", "") != form.get("password_confirm", ""):
        return render(
            request,
            "setup.html",
            400,
            title="Set up usageledger",
            error="The two passwords differ; type the same password twice.",
            form=form,
        )
    try:
        with services.engine.begin() as conn:
            user = create_first_admin(
                conn,
                workspace_name=form.get("workspace", ""),
                email=form.get("email", ""),
                password=form.get("password", ""),
            )
    except ConflictError:
        return RedirectResponse("/login", status_code=303)
    except UsageError as exc:
        return render(request, "setup.html", 400, title="Set up usageledger", error=exc.message, form=form)
    sign_in(request, user)
    flash(request, "Your workspace is ready. Connect Anthropic to start seeing usage.")
    return RedirectResponse(HOME, status_code=303)


@router.get("/login")
def login_page(request: Request, services: ServicesDep, next: str | None = None) -> Response:
    if _no_users(services):
        return RedirectResponse("/setup", status_code=303)
    return render(request, "login.html", title="Sign in", error=None, email="", next=_safe_next(next))


@router.post("/login")
def login(request: Request, services: ServicesDep, form: CsrfForm) -> Response:
    email = form.get("email", "").strip()
    target = _safe_next(form.get("next"))
    address = _client(request)
    wait = services.throttle.retry_after(address, email)
    if wait:
        minutes = max(1, round(wait / 60))
        return render(
            request, "login.html", 429, title="Sign in", email=email, next=target,
            error=f"Too many failed sign-ins. Wait about {minutes} minute(s) and try again.",
        )  # fmt: skip
    with services.engine.begin() as conn:
        user = authenticate_user(conn, email, form.get("password", ""))
    if user is None:
        services.throttle.record_failure(address, email)
        return render(
            request,
            "login.html",
            400,
            title="Sign in",
            email=email,
            next=target,
            error="Wrong email or password.",
        )
    services.throttle.record_success(address, email)
    sign_in(request, user)
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: CsrfForm) -> Response:
    sign_out(request)
    flash(request, "You are signed out.")
    return RedirectResponse("/login", status_code=303)


# --- users and tokens (admins) --------------------------------------------------------------------------


def _users_page(
    request: Request, services: ServicesDep, user: AdminUser, status: int = 200, **extra: object
) -> HTMLResponse:
    with services.engine.connect() as conn:
        context = {
            "tenant": get_tenant(conn, user.tenant_id),
            "people": list_users(conn, user.tenant_id),
            "tokens": list_access_tokens(conn, user.tenant_id),
        }
    context.update({"new_token": None, "error": None, "title": "Users and access tokens"})
    context.update(extra)
    return render(request, "users.html", status, **context)


@router.get("/settings/users")
def users_page(request: Request, services: ServicesDep, user: AdminUser) -> Response:
    return _users_page(request, services, user)


@router.post("/settings/users")
def add_user(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm) -> Response:
    try:
        with services.engine.begin() as conn:
            create_user(
                conn,
                user.tenant_id,
                form.get("email", ""),
                form.get("password", ""),
                form.get("role", "member"),
            )
    except (UsageError, ConflictError) as exc:
        return _users_page(request, services, user, 400, error=exc.message)
    flash(request, f"Added {form.get('email', '').strip().lower()}. Tell them their password in person.")
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/tokens")
def add_token(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm) -> Response:
    try:
        with services.engine.begin() as conn:
            new = create_access_token(
                conn, tenant_id=user.tenant_id, user_id=user.id, name=form.get("name", "")
            )
    except UsageError as exc:
        return _users_page(request, services, user, 400, error=exc.message)
    # Rendered directly (not via a redirect) so the secret is never put in the session or a URL.
    response = _users_page(request, services, user, new_token=new)
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/settings/tokens/{token_id}/delete")
def revoke_token(
    request: Request, token_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    with services.engine.begin() as conn:
        delete_access_token(conn, token_id, tenant_id=user.tenant_id)
    flash(request, "Token revoked; scripts using it now get 401.")
    return RedirectResponse("/settings/users", status_code=303)
