"""Identity settings (admins only; members get the 403 page): the SCIM endpoint and its tokens, the CSV
import (upload → preview → apply), and the people and teams of the workspace, where an admin sets each
team's cost center (allocation charges the spend a team owns to it).

The CSV's Apply re-reads the very content the admin previewed, carried back in the preview's form (never a
file kept on the server), and plans it again inside the applying transaction, so what is applied is what
the file says against the directory as it is at that moment. A SCIM token is shown once, in the response to
its creation (never in a redirect, the session or a URL), and the event log records only its name and hint.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from usageledger.errors import UsageError
from usageledger.identity.csv_import import (
    COLUMNS,
    ImportPlan,
    ImportRejected,
    apply_import,
    plan_import,
)
from usageledger.store.accounts import UserRow
from usageledger.store.identity_events import (
    IDENTITY_EVENT_KINDS,
    SCIM_TOKEN_CREATED,
    SCIM_TOKEN_REVOKED,
    list_identity_events,
)
from usageledger.store.ownership import Editor
from usageledger.store.people import list_people
from usageledger.store.runs import add_event
from usageledger.store.scim_tokens import create_scim_token, list_scim_tokens, revoke_scim_token
from usageledger.store.teams import list_teams, member_counts, set_team_cost_center, team_names_by_person
from usageledger.web.deps import AdminUser, CsrfForm, ServicesDep
from usageledger.web.params import PathId
from usageledger.web.scim import scim_base_url
from usageledger.web.templating import flash, render
from usageledger.web.uploads import read_csv_form

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = "/settings/identity"
SHOWN = 500  # people and teams listed on the page; the count says how many there are
ACTIVITY_SHOWN = 50  # the latest identity events (owners, applications, imports, SCIM, SCIM tokens)


def _page(
    request: Request,
    services: ServicesDep,
    user: UserRow,
    status: int = 200,
    activity_kind: str | None = None,
    **extra: object,
) -> HTMLResponse:
    with services.engine.connect() as conn:
        people_total, people = list_people(conn, user.tenant_id, limit=SHOWN)
        teams_total, teams = list_teams(conn, user.tenant_id, limit=SHOWN)
        context: dict[str, Any] = {
            "scim_url": scim_base_url(request, services),
            "scim_tokens": list_scim_tokens(conn, user.tenant_id),
            "people": people,
            "people_total": people_total,
            "teams_of": team_names_by_person(conn, user.tenant_id),
            "teams": teams,
            "teams_total": teams_total,
            "member_counts": member_counts(conn, user.tenant_id),
            "activity": list_identity_events(
                conn,
                user.tenant_id,
                (activity_kind,) if activity_kind else IDENTITY_EVENT_KINDS,
                ACTIVITY_SHOWN,
            ),
            "activity_kinds": IDENTITY_EVENT_KINDS,
            "activity_kind": activity_kind,
        }
    context.update(title="Identity", new_token=None, error=None, columns=",".join(COLUMNS))
    context.update(extra)
    response = render(request, "identity.html", status, **context)
    response.headers["cache-control"] = "no-store"
    return response


@router.get(PAGE)
def identity_page(
    request: Request,
    services: ServicesDep,
    user: AdminUser,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The page; `kind` narrows its activity list to one kind of identity event (an unknown kind: all)."""
    return _page(request, services, user, activity_kind=kind if kind in IDENTITY_EVENT_KINDS else None)


@router.post(f"{PAGE}/scim-tokens")
def add_scim_token(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm) -> Response:
    try:
        with services.engine.begin() as conn:
            new = create_scim_token(
                conn, tenant_id=user.tenant_id, name=form.get("name", ""), created_by_user_id=user.id
            )
            add_event(
                conn,
                tenant_id=user.tenant_id,
                connection_id=None,
                kind=SCIM_TOKEN_CREATED,
                level="info",
                message=f"{user.email} created the SCIM token “{new.row.name}” ({new.row.hint}).",
                details={"by": user.email, "name": new.row.name, "hint": new.row.hint},
            )
    except UsageError as exc:
        return _page(request, services, user, 400, error=exc.message)
    # Rendered directly (not via a redirect) so the secret is never put in the session or a URL.
    return _page(request, services, user, new_token=new)


@router.post(f"{PAGE}/scim-tokens/{{token_id}}/revoke")
def revoke(
    request: Request, token_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    with services.engine.begin() as conn:
        gone = revoke_scim_token(conn, token_id, tenant_id=user.tenant_id)
        add_event(
            conn,
            tenant_id=user.tenant_id,
            connection_id=None,
            kind=SCIM_TOKEN_REVOKED,
            level="info",
            message=f"{user.email} revoked the SCIM token “{gone.name}” ({gone.hint}).",
            details={"by": user.email, "name": gone.name, "hint": gone.hint},
        )
    flash(request, f"SCIM token “{gone.name}” revoked; your identity provider now gets 401 with it.")
    return RedirectResponse(PAGE, status_code=303)


@router.post(f"{PAGE}/teams/{{team_id}}/cost-center")
def change_team_cost_center(
    request: Request, team_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    """Set or (blank) clear a team's cost center; the change is a `team_changed` event naming the admin."""
    wanted = form.get("cost_center", "")
    try:
        with services.engine.begin() as conn:
            team = set_team_cost_center(conn, user.tenant_id, team_id, wanted if isinstance(wanted, str) else "",
                                        editor=Editor(user.id, user.email))  # fmt: skip
    except UsageError as exc:
        return _page(request, services, user, 400, error=exc.message)
    said = f"now charged to {team.cost_center}" if team.cost_center else "now has no cost center"
    flash(request, f"Team “{team.fields.display_name}” {said}.")
    return RedirectResponse(f"{PAGE}#teams", status_code=303)


# --- CSV import -------------------------------------------------------------------------------------------


async def _import_text(request: Request) -> str:
    """The CSV, from the uploaded file or the `content` field the preview carries."""
    content = (await read_csv_form(request, file_field="file", text_field="content")).get("content")
    if isinstance(content, str) and content.strip():
        return content
    raise UsageError(f"Choose a CSV file to import (its header: {','.join(COLUMNS)}).")


async def _import_text_or_error(request: Request) -> str | UsageError:
    try:
        return await _import_text(request)
    except UsageError as exc:
        return exc


ImportText = Annotated[str | UsageError, Depends(_import_text_or_error)]


def _preview(
    request: Request, services: ServicesDep, user: UserRow, text: str, plan: ImportPlan, status: int = 200
) -> HTMLResponse:
    response = render(
        request,
        "identity_import.html",
        status,
        title="Import people · preview",
        plan=plan,
        content=text,
        summary=plan.summary(),
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.post(f"{PAGE}/import")
def preview_import(request: Request, services: ServicesDep, user: AdminUser, text: ImportText) -> Response:
    if isinstance(text, UsageError):
        return _page(request, services, user, 400, error=text.message)
    with services.engine.connect() as conn:
        plan = plan_import(conn, user.tenant_id, text)
    return _preview(request, services, user, text, plan, 200 if plan.ok else 400)


@router.post(f"{PAGE}/import/apply")
def apply(request: Request, services: ServicesDep, user: AdminUser, text: ImportText) -> Response:
    if isinstance(text, UsageError):
        return _page(request, services, user, 400, error=text.message)
    try:
        with services.engine.begin() as conn:
            plan = apply_import(conn, user.tenant_id, text, actor=user.email, actor_user_id=user.id)
    except ImportRejected as refused:
        return _preview(request, services, user, text, refused.plan, 400)
    s = plan.summary()
    if plan.changes_anything:
        flash(
            request,
            f"Imported: {s['people_created']} people added, {s['people_updated']} updated, "
            f"{s['teams_created']} teams added, {s['memberships_added']} memberships added and "
            f"{s['memberships_removed']} removed; {s['team_cost_centers_set']} team cost centers set.",
        )
    else:
        flash(request, "Nothing to change: the directory already matches the file.")
    return RedirectResponse(PAGE, status_code=303)
