"""The JSON API of allocation: `GET /api/v1/allocation`, owners (`PUT`/`DELETE /api/v1/owners/…`),
applications and teams' cost centers (`GET /api/v1/teams`, `PUT /api/v1/teams/{id}`). Members read; only
admins change owners, applications and cost centers, and each change is an event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from usageledger.reports.allocation_json import allocation_json
from usageledger.store.ownership import (
    ApplicationRow,
    clear_owner,
    create_application,
    delete_application,
    list_applications,
    set_owner,
    update_application,
)
from usageledger.store.teams import TeamRow, all_teams, get_team, member_counts, set_team_cost_center
from usageledger.web.deps import ApiAdmin, ApiUser, ServicesDep
from usageledger.web.params import PathId
from usageledger.web.schemas import ErrorOut
from usageledger.web.schemas_allocation import (
    AllocationOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationPatch,
    ApplicationsOut,
    OwnerIn,
    OwnerOut,
    ResourceIO,
)
from usageledger.web.schemas_teams import TeamIn, TeamOut, TeamsOut
from usageledger.web.views_allocation import AllocationForm, editor_of, read_allocation, subject_id_from_path

__all__ = ["router"]

_ERRORS = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "Bad period, dimension, organization, or owner",
        401: "Not signed in / bad token",
        403: "Forbidden (members change nothing here, or CSRF)",
        404: "No such person, team or application in your workspace",
        409: "Name taken, or a key or workspace that serves another application",
        422: "Validation error",
    }.items()
}
router = APIRouter(prefix="/api/v1", tags=["allocation"], responses=_ERRORS)  # type: ignore[arg-type]

SubjectType = Annotated[str, Path(pattern="^(api_key|workspace|service_account)$")]
SubjectId = Annotated[
    str, Path(min_length=1, max_length=200, description="The id; `default` the default workspace")
]


@router.get("/allocation", response_model=AllocationOut, summary="Spend allocated by team, cost center, …")
def allocation(
    user: ApiUser,
    services: ServicesDep,
    by: Annotated[
        str, Query(max_length=20, description="team, cost_center, person, application or product")
    ] = "team",
    period: Annotated[str, Query(max_length=20, description="A preset, a month YYYY-MM, or custom")] = "",
    since: Annotated[str, Query(max_length=20, description="First day, inclusive (YYYY-MM-DD, UTC).")] = "",
    until: Annotated[str, Query(max_length=20, description="Last day, inclusive (YYYY-MM-DD, UTC).")] = "",
    organization: Annotated[str, Query(max_length=200, description="Only this organization id.")] = "",
) -> AllocationOut:
    """Every dollar of the period on a row; Unallocated rows carry their reason; rows add up to total_usd."""
    form = AllocationForm(by, period, since, until, organization)
    with services.engine.connect() as conn:
        found = read_allocation(conn, user.tenant_id, form)
    return AllocationOut.model_validate(allocation_json(found))


@router.put("/owners/{subject_type}/{subject_id}", response_model=OwnerOut, summary="Set an owner (admin)")
def put_owner(
    subject_type: SubjectType, subject_id: SubjectId, body: OwnerIn, user: ApiAdmin, services: ServicesDep
) -> OwnerOut:
    """Give an API key, workspace or service account an owner: one person or one team of your directory."""
    with services.engine.begin() as conn:
        row = set_owner(conn, user.tenant_id, subject_type, subject_id_from_path(subject_type, subject_id),
                        person_id=body.person_id, team_id=body.team_id, editor=editor_of(user))  # fmt: skip
    return OwnerOut.model_validate(row)


@router.delete("/owners/{subject_type}/{subject_id}", status_code=204, summary="Remove an owner (admin)")
def delete_owner(
    subject_type: SubjectType, subject_id: SubjectId, user: ApiAdmin, services: ServicesDep
) -> Response:
    """The rules decide again (a key's creator, a user's email); 204 whether or not there was one."""
    with services.engine.begin() as conn:
        clear_owner(conn, user.tenant_id, subject_type, subject_id_from_path(subject_type, subject_id),
                    editor=editor_of(user))  # fmt: skip
    return Response(status_code=204)


def _app_out(a: ApplicationRow) -> ApplicationOut:
    return ApplicationOut(id=a.id, name=a.name, team_id=a.team_id, created_at=a.created_at,
                          resources=[ResourceIO(subject_type=t, subject_id=i) for t, i in a.resources])  # type: ignore[arg-type]  # fmt: skip


@router.get("/applications", response_model=ApplicationsOut, summary="Applications")
def applications(user: ApiUser, services: ServicesDep) -> ApplicationsOut:
    with services.engine.connect() as conn:
        return ApplicationsOut(applications=[_app_out(a) for a in list_applications(conn, user.tenant_id)])


@router.post(
    "/applications", response_model=ApplicationOut, status_code=201, summary="Create an application (admin)"
)
def post_application(body: ApplicationIn, user: ApiAdmin, services: ServicesDep) -> ApplicationOut:
    with services.engine.begin() as conn:
        created = create_application(conn, user.tenant_id, body.name, team_id=body.team_id,
                                     resources=[(r.subject_type, r.subject_id) for r in body.resources],
                                     editor=editor_of(user))  # fmt: skip
    return _app_out(created)


@router.patch(
    "/applications/{application_id}", response_model=ApplicationOut, summary="Change an application (admin)"
)
def patch_application(
    application_id: PathId, body: ApplicationPatch, user: ApiAdmin, services: ServicesDep
) -> ApplicationOut:
    resources = None if body.resources is None else [(r.subject_type, r.subject_id) for r in body.resources]
    with services.engine.begin() as conn:
        changed = update_application(conn, user.tenant_id, application_id, name=body.name, team_id=body.team_id,
                                     clear_team=body.clear_team, resources=resources, editor=editor_of(user))  # fmt: skip
    return _app_out(changed)


@router.delete("/applications/{application_id}", status_code=204, summary="Delete an application (admin)")
def remove_application(application_id: PathId, user: ApiAdmin, services: ServicesDep) -> Response:
    with services.engine.begin() as conn:
        delete_application(conn, user.tenant_id, application_id, editor=editor_of(user))
    return Response(status_code=204)


def _team_out(t: TeamRow, members: int) -> TeamOut:
    return TeamOut(id=t.id, name=t.fields.display_name, external_id=t.fields.external_id,
                   cost_center=t.cost_center, source=t.source, members=members, updated_at=t.updated_at)  # fmt: skip


@router.get("/teams", response_model=TeamsOut, summary="Teams and their cost centers")
def teams(user: ApiUser, services: ServicesDep) -> TeamsOut:
    with services.engine.connect() as conn:
        counts = member_counts(conn, user.tenant_id)
        return TeamsOut(teams=[_team_out(t, counts.get(t.id, 0)) for t in all_teams(conn, user.tenant_id)])


@router.put("/teams/{team_id}", response_model=TeamOut, summary="Set a team's cost center (admin)")
def put_team(team_id: PathId, body: TeamIn, user: ApiAdmin, services: ServicesDep) -> TeamOut:
    """Set or (null) clear the team's cost center; a change is a `team_changed` event naming who made it."""
    with services.engine.begin() as conn:
        get_team(conn, user.tenant_id, team_id)  # 404 before anything else for another workspace's team
        changed = set_team_cost_center(
            conn, user.tenant_id, team_id, body.cost_center, editor=editor_of(user)
        )
        members = member_counts(conn, user.tenant_id).get(team_id, 0)
    return _team_out(changed, members)
