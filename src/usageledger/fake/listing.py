"""Directory endpoints: /v1/organizations/me, /workspaces, /api_keys, /users (SDK 2.10.0 shapes).

List pages are `{data, has_more, first_id, last_id}` with `after_id`/`before_id` cursors and `limit`
(1-1000, default 20). Workspaces leave out the default workspace unless `include_default=true` and
archived ones unless `include_archived=true`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .params import QueryParams, invalid, parse_int, rfc3339

if TYPE_CHECKING:
    from .generator import FakeOrganization

__all__ = ["list_api_keys", "list_users", "list_workspaces", "organization_info"]


def organization_info(fake: FakeOrganization) -> dict[str, Any]:
    return {"id": fake.organization.id, "name": fake.organization.name, "type": "organization"}


def _flag(params: QueryParams, name: str) -> bool:
    value = (params.get(name) or "false").lower()
    if value not in ("true", "false"):
        raise invalid(f"{name}: expected true or false, got {value!r}")
    return value == "true"


def _page(items: list[dict[str, Any]], params: QueryParams) -> dict[str, Any]:
    limit = parse_int(params.get("limit"), "limit", default=20, low=1, high=1000)
    after, before = params.get("after_id"), params.get("before_id")
    if after and before:
        raise invalid("Only one of after_id and before_id may be given")
    ids = [item["id"] for item in items]
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
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
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
                "created_by": {"id": key.created_by, "type": key.created_by_type},
                "expires_at": None,
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
