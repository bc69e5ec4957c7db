"""The JSON API for workspace admins managing people: list, add, change a role, remove.

A role change or a removal ends the user's sessions and revokes their access tokens at once. A duplicate
email is a 409 `conflict`, also when two admins add it at the same moment.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from usageledger.store.accounts import create_user, get_user, list_users
from usageledger.store.user_admin import remove_user, set_role
from usageledger.web.deps import ApiAdmin, ServicesDep
from usageledger.web.params import PathId
from usageledger.web.schemas import ErrorOut, UserIn, UserOut, UserRoleIn, UsersOut

__all__ = ["router"]

_ERRORS = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "Invalid request (such as changing your own role)",
        401: "Not signed in / bad token",
        403: "Forbidden (members, or CSRF)",
        404: "No such user in your workspace",
        409: "Email taken, or the workspace's last admin",
        422: "Validation error",
    }.items()
}

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=_ERRORS)  # type: ignore[arg-type]


@router.get("", response_model=UsersOut, summary="Users of the workspace")
def users(user: ApiAdmin, services: ServicesDep) -> UsersOut:
    with services.engine.connect() as conn:
        found = list_users(conn, user.tenant_id)
    return UsersOut(users=[UserOut.model_validate(u) for u in found])


@router.post("", response_model=UserOut, status_code=201, summary="Add a user")
def add_user(body: UserIn, user: ApiAdmin, services: ServicesDep) -> UserOut:
    """409 `conflict` when the email is taken (in any workspace)."""
    with services.engine.begin() as conn:
        user_id = create_user(conn, user.tenant_id, body.email, body.password.get_secret_value(), body.role)
        return UserOut.model_validate(get_user(conn, user_id))


@router.patch("/{user_id}", response_model=UserOut, summary="Change a user's role")
def change_role(user_id: PathId, body: UserRoleIn, user: ApiAdmin, services: ServicesDep) -> UserOut:
    """Ends the user's sessions and revokes their tokens; 409 when it would leave the workspace no admin."""
    with services.engine.begin() as conn:
        changed = set_role(conn, user_id, body.role, tenant_id=user.tenant_id, by=user.id)
    return UserOut.model_validate(changed)


@router.delete("/{user_id}", status_code=204, summary="Remove a user")
def delete_user(user_id: PathId, user: ApiAdmin, services: ServicesDep) -> Response:
    """Deletes the user with their sessions and tokens; 409 for the workspace's last admin."""
    with services.engine.begin() as conn:
        remove_user(conn, user_id, tenant_id=user.tenant_id, by=user.id)
    return Response(status_code=204)
