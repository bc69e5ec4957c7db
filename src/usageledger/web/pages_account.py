"""Pages about people: first run, sign-in, sign-out, your password, users and personal access tokens."""

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
from usageledger.store.user_admin import change_password, remove_user, set_role
from usageledger.web.deps import (
    AdminUser,
    CsrfForm,
    PageUser,
    ServicesDep,
    session_user,
    sign_in,
    sign_out,
)
from usageledger.web.login_limits import SignInRefused
from usageledger.web.params import PathId
from usageledger.web.templating import flash, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

HOME = "/overview"  # where the money goes: the first screen after sign-in
INTEGRATIONS = "/settings/integrations"  # a new workspace's first step: connect Anthropic


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
    return RedirectResponse(INTEGRATIONS, status_code=303)


@router.get("/login")
def login_page(request: Request, services: ServicesDep, next: str | None = None) -> Response:
    if _no_users(services):
        return RedirectResponse("/setup", status_code=303)
    return render(request, "login.html", title="Sign in", error=None, email="", next=_safe_next(next))


# Checked before anything is hashed or counted: an address has at most 320 characters (RFC 5321).
MAX_EMAIL_LENGTH = 320
MAX_PASSWORD_LENGTH = 1024


def _login_input_problem(email: str, password: str) -> str | None:
    if len(email) > MAX_EMAIL_LENGTH or "\x00" in email:
        return f"Give the email address you sign in with (at most {MAX_EMAIL_LENGTH} characters)."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Passwords have at most {MAX_PASSWORD_LENGTH} characters; check what you typed."
    return None


def _login_page(request: Request, status: int, email: str, target: str, error: str) -> HTMLResponse:
    shown = email if len(email) <= MAX_EMAIL_LENGTH else ""
    return render(request, "login.html", status, title="Sign in", email=shown, next=target, error=error)


@router.post("/login")
def login(request: Request, services: ServicesDep, form: CsrfForm) -> Response:
    email = form.get("email", "").strip()
    password = form.get("password", "")
    target = _safe_next(form.get("next"))
    problem = _login_input_problem(email, password)
    if problem:
        return _login_page(request, 400, email, target, problem)
    try:
        # Counted before the password is checked, inside a bounded number of concurrent checks.
        with services.throttle.attempt(_client(request), email) as attempt:
            with services.engine.begin() as conn:
                user = authenticate_user(conn, email, password)
            if user is not None:
                attempt.succeeded()
    except SignInRefused as refused:
        response = _login_page(request, refused.status, email, target, refused.message)
        response.headers["retry-after"] = str(refused.retry_after)
        return response
    if user is None:
        return _login_page(request, 400, email, target, "Wrong email or password.")
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
    except (UsageError, ConflictError) as exc:  # ConflictError: 409, even when two admins raced
        return _users_page(request, services, user, exc.http_status, error=exc.message)
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


@router.post("/settings/users/{user_id}/role")
def change_role(
    request: Request, user_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    try:
        with services.engine.begin() as conn:
            changed = set_role(conn, user_id, form.get("role", ""), tenant_id=user.tenant_id, by=user.id)
    except (UsageError, ConflictError) as exc:
        return _users_page(request, services, user, exc.http_status, error=exc.message)
    flash(request, f"{changed.email} is now {changed.role}; their sessions and access tokens have ended.")
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/users/{user_id}/delete")
def delete_user(
    request: Request, user_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    try:
        with services.engine.begin() as conn:
            removed = remove_user(conn, user_id, tenant_id=user.tenant_id, by=user.id)
    except (UsageError, ConflictError) as exc:
        return _users_page(request, services, user, exc.http_status, error=exc.message)
    flash(request, f"Removed {removed.email}; their sessions and access tokens have ended.")
    return RedirectResponse("/settings/users", status_code=303)


# --- your own password (every signed-in user) -----------------------------------------------------------


def _password_page(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
    return render(request, "password.html", status, title="Change your password", error=error)


@router.get("/settings/password")
def password_page(request: Request, user: PageUser) -> Response:
    return _password_page(request)


@router.post("/settings/password")
def update_password(request: Request, services: ServicesDep, user: PageUser, form: CsrfForm) -> Response:
    new = form.get("new_password", "")
    if new != form.get("new_password_confirm", ""):
        return _password_page(request, 400, "The two new passwords differ; type the same one twice.")
    try:
        with services.engine.begin() as conn:
            change_password(conn, user.id, current=form.get("current_password", ""), new=new)
    except UsageError as exc:
        return _password_page(request, exc.http_status, exc.message)
    sign_in(request, user)  # every session of this user ended; this browser gets a fresh one
    flash(request, "Password changed. You were signed out everywhere else.")
    return RedirectResponse(HOME, status_code=303)
