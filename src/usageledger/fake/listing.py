"""Directory endpoints: /v1/organizations/me, /workspaces (+ /{id}/members), /api_keys, /users, /rbac_groups
(+ /{id}/members), in SDK 2.10.0 shapes.

SyncPage lists (workspaces, members, API keys, users) are `{data, has_more, first_id, last_id}` with
`after_id`/`before_id` cursors (a member's cursor is its `user_id`) and `limit` (1-1000, default 20).
Workspaces leave out the default workspace unless `include_default=true` and archived ones unless
`include_archived=true`. PageCursor lists (RBAC groups and their members) are `{data, next_page}` with an
opaque `page` cursor; they exist in Claude Enterprise organizations only, and answer 403 elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .params import ApiError, QueryParams, invalid, parse_int, rfc3339

if TYPE_CHECKING:
    from .generator import FakeOrganization

__all__ = [
    "list_api_keys",
    "list_rbac_group_members",
    "list_rbac_groups",
    "list_users",
    "list_workspace_members",
    "list_workspaces",
    "organization_info",
]


def organization_info(fake: FakeOrganization) -> dict[str, Any]:
    return {"id": fake.organization.id, "name": fake.organization.name, "type": "organization"}


def _flag(params: QueryParams, name: str) -> bool:
    value = (params.get(name) or "false").lower()
    if value not in ("true", "false"):
        raise invalid(f"{name}: expected true or false, got {value!r}")
    return value == "true"


def _page(items: list[dict[str, Any]], params: QueryParams, id_field: str = "id") -> dict[str, Any]:
    limit = parse_int(params.get("limit"), "limit", default=20, low=1, high=1000)
    after, before = params.get("after_id"), params.get("before_id")
    if after and before:
        raise invalid("Only one of after_id and before_id may be given")
    ids = [item[id_field] for item in items]
    if after:
        if after not in ids:
            raise invalid(f"after_id: no object with id {after!r}")
        rest = items[ids.index(after) + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    elif before:
        if before not in ids:
            raise invalid(f"before_id: no object with id {before!r}")
        rest = items[: ids.index(before)]
        page, has_more = rest[-limit:], len(rest) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return {
        "data": page,
        "has_more": has_more,
        "first_id": page[0][id_field] if page else None,
        "last_id": page[-1][id_field] if page else None,
    }


def list_workspaces(fake: FakeOrganization, params: QueryParams) -> dict[str, Any]:
    include_default, include_archived = _flag(params, "include_default"), _flag(params, "include_archived")
    wanted = set(params.getlist("ids"))
    items = []
    for ws in fake.workspaces:
        if (ws.is_default and not include_default) or (ws.archived_at and not include_archived):
            continue
        if wanted and ws.id not in wanted:
            continue
        items.append(
            {
                "id": ws.id,
                "type": "workspace",
                "name": ws.name,
                "created_at": rfc3339(ws.created_at),
                "archived_at": rfc3339(ws.archived_at) if ws.archived_at else None,
                "display_color": ws.color,
                "compartment_id": ws.compartment_id,
                "data_residency": {
                    "workspace_geo": "us",
                    "allowed_inference_geos": "unrestricted",
                    "default_inference_geo": ws.default_geo,
                },
                "external_key_id": None,
                "tags": {},
                "user_profile_id": None,
            }
        )
    return _page(items, params)


def list_api_keys(fake: FakeOrganization, params: QueryParams) -> dict[str, Any]:
    status, workspace, creator = (
        params.get("status"),
        params.get("workspace_id"),
        params.get("created_by_user_id"),
    )
    if status and status not in ("active", "archived", "expired", "inactive"):
        raise invalid(f"status: expected active, archived, expired or inactive, got {status!r}")
    items = []
    for key in fake.fake_keys:
        if (
            key.id is None
            or (status and key.status != status)
            or (workspace and key.workspace_id != workspace)
        ):
            continue
        if creator and key.created_by != creator:
            continue
        items.append(
            {
                "id": key.id,
                "type": "api_key",
                "name": key.name,
                "created_at": rfc3339(key.created_at),
                "created_by": (
                    None if key.created_by is None else {"id": key.created_by, "type": key.created_by_type}
                ),
                "expires_at": rfc3339(key.expires_at) if key.expires_at else None,
                "partial_key_hint": key.partial_key_hint,
                "principal": None,
                "scope": {"type": "workspace", "workspace_id": key.workspace_id},
                "status": key.status,
            }
        )
    return _page(items, params)


def list_users(fake: FakeOrganization, params: QueryParams) -> dict[str, Any]:
    email, roles = params.get("email"), set(params.getlist("roles"))
    items = []
    for user in fake.users:
        if (email and user["email"] != email) or (roles and user["role"] not in roles):
            continue
        items.append(
            {
                "id": user["id"],
                "type": "user",
                "email": user["email"],
                "name": user["name"],
                "role": user["role"],
                "added_at": rfc3339(user["added_at"]),
            }
        )
    return _page(items, params)


def list_workspace_members(fake: FakeOrganization, params: QueryParams, workspace_id: str) -> dict[str, Any]:
    if not any(ws.id == workspace_id for ws in fake.workspaces):
        raise ApiError(404, "not_found_error", f"Workspace {workspace_id!r} not found")
    items = [
        {"type": "workspace_member", "user_id": user, "workspace_id": ws, "workspace_role": role}
        for ws, user, role in fake.members
        if ws == workspace_id
    ]
    return _page(items, params, id_field="user_id")


def _require_enterprise(fake: FakeOrganization) -> None:
    if not fake.rbac_groups_enabled:
        raise ApiError(
            403,
            "permission_error",
            "The RBAC Groups API is available to Claude Enterprise organizations only.",
        )


def _cursor_page(items: list[dict[str, Any]], params: QueryParams, what: str) -> dict[str, Any]:
    """`{data, next_page}`: the cursor is opaque to clients (here, the offset of the next entry)."""
    limit = parse_int(params.get("limit"), "limit", default=20, low=1, high=1000)
    cursor = params.get("page")
    start = 0
    if cursor:
        prefix = f"{what}_cursor_"
        if not cursor.startswith(prefix) or not cursor[len(prefix) :].isdigit():
            raise invalid(f"page: not a cursor this endpoint gave, {cursor!r}")
        start = int(cursor[len(prefix) :])
    end = start + limit
    return {"data": items[start:end], "next_page": f"{what}_cursor_{end}" if end < len(items) else None}


def list_rbac_groups(fake: FakeOrganization, params: QueryParams) -> dict[str, Any]:
    _require_enterprise(fake)
    items = [
        {
            "id": group_id,
            "type": "rbac_group",
            "name": name,
            "created_at": rfc3339(created),
            "updated_at": rfc3339(created),
            "role_ids": [],
            "source_type": "scim",
        }
        for group_id, name, created in fake.rbac_groups
    ]
    return _cursor_page(items, params, "groups")


def list_rbac_group_members(fake: FakeOrganization, params: QueryParams, group_id: str) -> dict[str, Any]:
    _require_enterprise(fake)
    if not any(g[0] == group_id for g in fake.rbac_groups):
        raise ApiError(404, "not_found_error", f"RBAC Group {group_id!r} not found")
    items = [
        {
            "type": "rbac_group_member",
            "rbac_group_id": group,
            "user_id": user,
            "email": email,
            "created_at": rfc3339(added),
        }
        for group, user, email, added in fake.rbac_members
        if group == group_id
    ]
    return _cursor_page(items, params, "members")
