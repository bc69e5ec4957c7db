"""The allocation pages: spend by team / cost center / person / application / product, People, Applications
and Unallocated (what to fix, with a one-click owner form for admins; members see it read-only).

Filters are the overview's (period presets, custom range, organization). A bad filter is a sentence beside
the filters with status 400. Owner and application changes are admin-only POST forms with the CSRF token;
each is logged as an event by the store, and lands back on the page it came from with a message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from usageledger.errors import UsageError, UsageLedgerError
from usageledger.reports.allocation import ALLOCATION_DIMENSIONS
from usageledger.reports.allocation_views import read_allocation_detail
from usageledger.reports.periods import PERIOD_PRESETS
from usageledger.store import EventRow
from usageledger.store.identity_events import APPLICATION_CHANGED, OWNER_CHANGED, list_identity_events
from usageledger.store.ownership import (
    OWNER_SUBJECTS,
    create_application,
    delete_application,
    list_applications,
    list_people_choices,
    list_team_choices,
    set_owner,
    update_application,
)
from usageledger.web.deps import AdminUser, CsrfForm, PageUser, ServicesDep
from usageledger.web.params import PathId
from usageledger.web.templating import flash, render
from usageledger.web.views_allocation import AllocationForm, editor_of, read_allocation, read_period
from usageledger.web.views_overview import organization_options

__all__ = ["ALLOCATION_PATH", "router"]

ALLOCATION_PATH = "/allocation"
_FILTERS = ("by", "period", "since", "until", "organization")
_TABS = {"people": "People", "applications": "Applications", "unallocated": "Unallocated"}

router = APIRouter(include_in_schema=False)


def _form(values: dict[str, Any]) -> AllocationForm:
    """The filters as typed (bounded), from a query string or a posted form's hidden fields."""
    text = {name: str(values.get(name) or "")[: 200 if name == "organization" else 20] for name in _FILTERS}
    return AllocationForm(by=text["by"] or "team", period=text["period"], since=text["since"], until=text["until"],
                          organization=text["organization"])  # fmt: skip


def _query(form: AllocationForm, *, by: bool = False) -> str:
    values = {
        "period": form.period,
        "since": form.since,
        "until": form.until,
        "organization": form.organization,
    }
    if by:
        values["by"] = form.by
    return urlencode({k: v for k, v in values.items() if v})


def _context(form: AllocationForm, tab: str) -> dict[str, Any]:
    return {"title": f"Allocation · {_TABS.get(tab, ALLOCATION_DIMENSIONS.get(tab, ''))}", "form": form,
            "presets": PERIOD_PRESETS, "dimensions": ALLOCATION_DIMENSIONS, "tabs": _TABS, "tab": tab,
            "query": _query(form)}  # fmt: skip


def _render_filtered(request: Request, services: ServicesDep, user: PageUser, tab: str, template: str,
                     read: Any) -> Response:  # fmt: skip
    """Render a tab with its read model, or the filters again with the error (status 400)."""
    form = _form(dict(request.query_params))
    context = _context(form, tab)
    with services.engine.connect() as conn:
        context["organizations"] = organization_options(conn, user.tenant_id)
        try:
            context.update(read(conn, form))
        except UsageError as exc:
            return render(request, template, 400, **context, error=exc.message, found=None)
    return render(request, template, **context, error=None)


@router.get(ALLOCATION_PATH)
def allocation_page(request: Request, services: ServicesDep, user: PageUser) -> Response:
    form = _form(dict(request.query_params))

    def read(conn: Any, form: AllocationForm) -> dict[str, Any]:
        return {"found": read_allocation(conn, user.tenant_id, form)}

    return _render_filtered(request, services, user, form.by, "allocation.html", read)


@router.get(ALLOCATION_PATH + "/people")
def people_page(request: Request, services: ServicesDep, user: PageUser) -> Response:
    def read(conn: Any, form: AllocationForm) -> dict[str, Any]:
        return {
            "found": read_allocation_detail(conn, user.tenant_id, read_period(form), form.organization_id)
        }

    return _render_filtered(request, services, user, "people", "allocation_people.html", read)


@router.get(ALLOCATION_PATH + "/unallocated")
def unallocated_page(request: Request, services: ServicesDep, user: PageUser) -> Response:
    def read(conn: Any, form: AllocationForm) -> dict[str, Any]:
        return {"found": read_allocation_detail(conn, user.tenant_id, read_period(form), form.organization_id),
                "people": list_people_choices(conn, user.tenant_id), "teams": list_team_choices(conn, user.tenant_id),
                "changes": _ownership_changes(conn, user.tenant_id)}  # fmt: skip

    return _render_filtered(request, services, user, "unallocated", "allocation_unallocated.html", read)


@router.get(ALLOCATION_PATH + "/applications")
def applications_page(request: Request, services: ServicesDep, user: PageUser) -> Response:
    def read(conn: Any, form: AllocationForm) -> dict[str, Any]:
        return {"found": read_allocation_detail(conn, user.tenant_id, read_period(form), form.organization_id),
                "applications": list_applications(conn, user.tenant_id),
                "teams": list_team_choices(conn, user.tenant_id)}  # fmt: skip

    return _render_filtered(request, services, user, "applications", "allocation_applications.html", read)


def _ownership_changes(conn: Any, tenant_id: int, limit: int = 20) -> list[EventRow]:
    """The latest owner and application changes (who, when, what), newest first."""
    return list_identity_events(conn, tenant_id, (OWNER_CHANGED, APPLICATION_CHANGED), limit)


def _back(form: dict[str, Any], tab: str) -> RedirectResponse:
    query = _query(_form(form))
    return RedirectResponse(f"{ALLOCATION_PATH}/{tab}" + (f"?{query}" if query else ""), status_code=303)


def _owner_choice(value: str) -> tuple[int | None, int | None]:
    """'person:12' or 'team:3' from the picker."""
    kind, _, number = value.partition(":")
    if kind not in ("person", "team") or not number.isdigit() or len(number) > 10:
        raise UsageError("Pick a person or a team as the owner.")
    return (int(number), None) if kind == "person" else (None, int(number))


@router.post(ALLOCATION_PATH + "/owners")
def assign_owner(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm) -> Response:
    """The Unallocated page's one-click form: give a key, workspace or service account an owner."""
    subject_type, subject_id = str(form.get("subject_type", "")), str(form.get("subject_id", ""))
    try:
        if subject_type not in OWNER_SUBJECTS:
            raise UsageError("This form names no API key, workspace or service account; reload the page.")
        person_id, team_id = _owner_choice(str(form.get("owner", "")))
        with services.engine.begin() as conn:
            set_owner(conn, user.tenant_id, subject_type, subject_id, person_id=person_id, team_id=team_id,
                      editor=editor_of(user))  # fmt: skip
    except UsageLedgerError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Owner set for {str(form.get('subject_label') or subject_id)[:200]}.")
    return _back(form, "unallocated")


def _resources(form_values: list[str]) -> list[tuple[str, str]]:
    out = []
    for value in form_values:
        kind, _, subject_id = value.partition(":")
        out.append((kind, subject_id))
    return out


def _team(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 10:
        raise UsageError("Pick a team from the list.")
    return int(value)


async def _resource_values(request: Request) -> list[str]:
    return [v for v in (await request.form()).getlist("resource") if isinstance(v, str)][:1000]


@router.post(ALLOCATION_PATH + "/applications")
async def create_application_form(
    request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    try:
        resources = _resources(await _resource_values(request))
        with services.engine.begin() as conn:
            created = create_application(conn, user.tenant_id, str(form.get("name", "")), team_id=_team(
                str(form.get("team_id", ""))), resources=resources, editor=editor_of(user))  # fmt: skip
    except UsageLedgerError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Application {created.name} created.")
    return _back(form, "applications")


@router.post(ALLOCATION_PATH + "/applications/{application_id}")
async def update_application_form(
    application_id: PathId, request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    try:
        if form.get("action") == "delete":
            with services.engine.begin() as conn:
                delete_application(conn, user.tenant_id, application_id, editor=editor_of(user))
            flash(request, "Application deleted.")
            return _back(form, "applications")
        team = _team(str(form.get("team_id", "")))
        resources = _resources(await _resource_values(request))
        with services.engine.begin() as conn:
            changed = update_application(conn, user.tenant_id, application_id, team_id=team, clear_team=team is None,
                                         resources=resources, editor=editor_of(user))  # fmt: skip
    except UsageLedgerError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Application {changed.name} saved.")
    return _back(form, "applications")
