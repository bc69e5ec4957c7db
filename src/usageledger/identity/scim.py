"""The SCIM 2.0 operations on a tenant's directory: Users and Groups over `store.people` and `store.teams`.

Each function takes the caller's `Connection` (one transaction per request), the tenant its SCIM token
belongs to, and the service's base URL (for `meta.location`); it returns the response body as a dict.
Every failure is a scim2-models `SCIMException`, which the web layer renders as a SCIM Error: the store's
not-found, conflict and invalid-value errors are translated here, once. Ids of another tenant are unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from scim2_models import (
    Context,
    Group,
    InvalidValueException,
    NotFoundException,
    PreconditionFailedException,
    ResponseParameters,
    UniquenessException,
)
from sqlalchemy import Connection

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.identity.scim_discovery import MAX_RESULTS
from usageledger.identity.scim_mapping import (
    ScimUser,
    fields_of_group,
    fields_of_user,
    group_of_team,
    parse_filter,
    parse_group,
    parse_patch,
    parse_user,
    user_of_person,
)
from usageledger.store.people import (
    create_person,
    delete_person,
    get_person,
    list_people,
    replace_person,
)
from usageledger.store.scim_tokens import record_scim_activity
from usageledger.store.teams import (
    create_team,
    delete_team,
    get_team,
    list_teams,
    replace_team,
    team_member_ids,
)

__all__ = [
    "LIST_SCHEMA",
    "list_response",
    "create_group",
    "create_user",
    "delete_group",
    "delete_user",
    "get_group",
    "get_user",
    "patch_group",
    "patch_user",
    "replace_group",
    "replace_user",
    "search_groups",
    "search_users",
]

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')


@contextmanager
def _as_scim() -> Iterator[None]:
    """The store's errors as the SCIM errors they are (RFC 7644 §3.12)."""
    try:
        yield
    except NotFoundError as exc:
        raise NotFoundException(detail=exc.message) from exc
    except ConflictError as exc:
        raise UniquenessException(detail=exc.message) from exc
    except UsageError as exc:
        raise InvalidValueException(detail=exc.message) from exc


def _id(resource_id: str, kind: str) -> int:
    if not resource_id.isdigit() or len(resource_id) > 18:
        raise NotFoundException(detail=f"No {kind} with id {resource_id[:40]!r}.")
    return int(resource_id)


def _check_if_match(if_match: str | None, version: int) -> None:
    """A PUT, PATCH or DELETE with If-Match goes ahead only on the version the client read (412 otherwise)."""
    if if_match is None or if_match.strip() == "*":
        return
    versions = {int(m.group(1)) for part in if_match.split(",") if (m := _ETAG.match(part))}
    if version not in versions:
        raise PreconditionFailedException(detail="The resource changed since you read it; read it again.")


def _page(start_index: int | None, count: int | None) -> tuple[int, int]:
    start = max(start_index or 1, 1)  # RFC 7644 §3.4.2.4: values below 1 are read as 1
    return start, min(max(count if count is not None else MAX_RESULTS, 0), MAX_RESULTS)


def list_response(total: int, start: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


Params = ResponseParameters[Any] | None


def _dump(resource: ScimUser | Group, params: Params = None, *, created: bool = False) -> dict[str, Any]:
    context = Context.RESOURCE_CREATION_RESPONSE if created else Context.RESOURCE_QUERY_RESPONSE
    return resource.model_dump(scim_ctx=context, response_parameters=params)


def _wants_members(params: Params) -> bool:
    """Okta and Entra read groups without members (`excludedAttributes=members`); skip loading them then."""
    if params is None:
        return True
    if params.attributes:
        return any(str(a).lower().split(".")[0].endswith("members") for a in params.attributes)
    return not any(str(a).lower().endswith("members") for a in params.excluded_attributes or [])


# --- Users ------------------------------------------------------------------------------------------------


def create_user(
    conn: Connection, tenant_id: int, base_url: str, payload: Any, params: Params = None
) -> dict[str, Any]:
    fields = parse_user(payload)
    with _as_scim():
        row = create_person(conn, tenant_id, fields, source="scim")
    record_scim_activity(conn, tenant_id, "users_created")
    return _dump(user_of_person(row, base_url), params, created=True)


def get_user(
    conn: Connection, tenant_id: int, base_url: str, user_id: str, params: Params = None
) -> dict[str, Any]:
    with _as_scim():
        row = get_person(conn, tenant_id, _id(user_id, "User"))
    return _dump(user_of_person(row, base_url), params)


def search_users(
    conn: Connection,
    tenant_id: int,
    base_url: str,
    *,
    filter: str | None,
    start_index: int | None,
    count: int | None,
    params: Params = None,
) -> dict[str, Any]:
    start, size = _page(start_index, count)
    total, rows = list_people(conn, tenant_id, **parse_filter(filter), offset=start - 1, limit=size)
    return list_response(total, start, [_dump(user_of_person(r, base_url), params) for r in rows])


def replace_user(
    conn: Connection,
    tenant_id: int,
    base_url: str,
    user_id: str,
    payload: Any,
    *,
    if_match: str | None,
    params: Params = None,
) -> dict[str, Any]:
    fields = parse_user(payload, replacing=True)
    with _as_scim():
        current = get_person(conn, tenant_id, _id(user_id, "User"))
        _check_if_match(if_match, current.version)
        row = replace_person(conn, tenant_id, current.id, fields, source="scim")
    if row.version != current.version:
        record_scim_activity(conn, tenant_id, "users_updated")
    return _dump(user_of_person(row, base_url), params)


def patch_user(
    conn: Connection,
    tenant_id: int,
    base_url: str,
    user_id: str,
    payload: Any,
    *,
    if_match: str | None,
    params: Params = None,
) -> dict[str, Any]:
    patch = parse_patch(payload, ScimUser)
    with _as_scim():
        current = get_person(conn, tenant_id, _id(user_id, "User"))
    _check_if_match(if_match, current.version)
    user = user_of_person(current, base_url)
    if patch.patch(user):
        with _as_scim():
            row = replace_person(conn, tenant_id, current.id, fields_of_user(user), source="scim")
        if row.version != current.version:
            record_scim_activity(conn, tenant_id, "users_updated")
        user = user_of_person(row, base_url)
    return _dump(user, params)


def delete_user(conn: Connection, tenant_id: int, user_id: str, *, if_match: str | None) -> None:
    with _as_scim():
        current = get_person(conn, tenant_id, _id(user_id, "User"))
        _check_if_match(if_match, current.version)
        delete_person(conn, tenant_id, current.id)
    record_scim_activity(conn, tenant_id, "users_deleted")


# --- Groups -----------------------------------------------------------------------------------------------


def _group(conn: Connection, tenant_id: int, team_id: int, base_url: str, *, members: bool = True) -> Group:
    row = get_team(conn, tenant_id, team_id)
    member_ids = team_member_ids(conn, team_id) if members else []
    return group_of_team(row, member_ids, base_url, with_members=members)


def create_group(
    conn: Connection, tenant_id: int, base_url: str, payload: Any, params: Params = None
) -> dict[str, Any]:
    fields, member_ids = parse_group(payload)
    with _as_scim():
        row = create_team(conn, tenant_id, fields, source="scim", member_ids=member_ids)
        group = _group(conn, tenant_id, row.id, base_url)
    record_scim_activity(conn, tenant_id, "groups_created")
    return _dump(group, params, created=True)


def get_group(
    conn: Connection, tenant_id: int, base_url: str, group_id: str, params: Params = None
) -> dict[str, Any]:
    with _as_scim():
        group = _group(conn, tenant_id, _id(group_id, "Group"), base_url, members=_wants_members(params))
    return _dump(group, params)


def search_groups(
    conn: Connection,
    tenant_id: int,
    base_url: str,
    *,
    filter: str | None,
    start_index: int | None,
    count: int | None,
    params: Params = None,
) -> dict[str, Any]:
    members = _wants_members(params)
    start, size = _page(start_index, count)
    total, rows = list_teams(
        conn, tenant_id, **parse_filter(filter, groups=True), offset=start - 1, limit=size
    )
    groups = [
        group_of_team(r, team_member_ids(conn, r.id) if members else [], base_url, with_members=members)
        for r in rows
    ]
    return list_response(total, start, [_dump(g, params) for g in groups])


def replace_group(
    conn: Connection,
    tenant_id: int,
    base_url: str,
    group_id: str,
    payload: Any,
    *,
    if_match: str | None,
    params: Params = None,
) -> dict[str, Any]:
    fields, member_ids = parse_group(payload, replacing=True)
    with _as_scim():
        current = get_team(conn, tenant_id, _id(group_id, "Group"))
        _check_if_match(if_match, current.version)
        row = replace_team(conn, tenant_id, current.id, fields, member_ids=member_ids)
        group = _group(conn, tenant_id, row.id, base_url)
    if row.version != current.version:
        record_scim_activity(conn, tenant_id, "groups_updated")
    return _dump(group, params)


def patch_group(
    conn: Connection,
    tenant_id: int,
    base_url: str,
    group_id: str,
    payload: Any,
    *,
    if_match: str | None,
    params: Params = None,
) -> dict[str, Any]:
    patch = parse_patch(payload, Group)
    with _as_scim():
        current = get_team(conn, tenant_id, _id(group_id, "Group"))
        _check_if_match(if_match, current.version)
        group = _group(conn, tenant_id, current.id, base_url)
    if patch.patch(group):
        fields, member_ids = fields_of_group(group)
        with _as_scim():
            row = replace_team(conn, tenant_id, current.id, fields, member_ids=member_ids)
            group = _group(conn, tenant_id, row.id, base_url)
        if row.version != current.version:
            record_scim_activity(conn, tenant_id, "groups_updated")
    return _dump(group, params)


def delete_group(conn: Connection, tenant_id: int, group_id: str, *, if_match: str | None) -> None:
    with _as_scim():
        current = get_team(conn, tenant_id, _id(group_id, "Group"))
        _check_if_match(if_match, current.version)
        delete_team(conn, tenant_id, current.id)
    record_scim_activity(conn, tenant_id, "groups_deleted")
