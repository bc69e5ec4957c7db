"""Names beside ids: the organization, its workspaces, API keys and users, and who belongs where.

Required lists (workspaces, API keys, users) fail the sync when refused, as before. The optional ones,
workspace members and RBAC groups with their members, are skipped when the API answers 403 (this key may
not read them) or 404 (this organization has no such endpoint: RBAC groups exist in Claude Enterprise
organizations only): the skip is noted in `Directory.skipped` and the sync goes on. A 401 is never
skipped; it stays a credential failure.

Service accounts (`/v1/organizations/service_accounts`) are deliberately not listed: the API says "Admin
API keys are not accepted" there (OAuth `org:admin` only), so calling it with the Admin key we hold would
only ever earn a 403. Service accounts are known by the id the analytics actor rows and API keys'
`created_by` carry.

Calls: 3 required lists, plus one members call per non-archived workspace, plus (when the organization
has RBAC groups) one groups call and one members call per group; every list asks for 1,000 entries a page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

from ..errors import EndpointUnavailableError, PermissionDeniedError
from ..models import Directory, Organization, SkippedEndpoint
from .client import AdminApiClient
from .pagination import iter_pages
from .wire import (
    CursorListPage,
    ListPage,
    parse_api_keys,
    parse_cursor_list_page,
    parse_list_page,
    parse_organization,
    parse_rbac_group_members,
    parse_rbac_groups,
    parse_users,
    parse_workspace_members,
    parse_workspaces,
)

__all__ = [
    "RBAC_GROUP_MEMBERS_PATH",
    "RBAC_GROUPS_PATH",
    "WORKSPACE_MEMBERS_PATH",
    "fetch_directory",
    "fetch_organization",
]

_DIRECTORY_PAGE_LIMIT = 1000
WORKSPACE_MEMBERS_PATH = "/v1/organizations/workspaces/{workspace_id}/members"
RBAC_GROUPS_PATH = "/v1/organizations/rbac_groups"
RBAC_GROUP_MEMBERS_PATH = "/v1/organizations/rbac_groups/{rbac_group_id}/members"

T = TypeVar("T")


def fetch_organization(client: AdminApiClient) -> Organization:
    return parse_organization(client.get_organization())


class _CursorPage:
    """Adapts a first_id/last_id list page to the `next_page` paginator."""

    def __init__(self, page: ListPage) -> None:
        self.page = page
        self.has_more = page.has_more
        self.next_page = page.last_id


def _sync_page_items(fetch: Callable[[dict[str, Any]], bytes], what: str) -> list[dict[str, Any]]:
    """Every entry of an after_id-paged list (SyncPage), 1,000 a page."""

    def fetch_page(cursor: str | None) -> _CursorPage:
        params: dict[str, Any] = {"limit": _DIRECTORY_PAGE_LIMIT}
        if cursor:
            params["after_id"] = cursor
        return _CursorPage(parse_list_page(fetch(params)))

    items: list[dict[str, Any]] = []
    for page in iter_pages(fetch_page, what=what):
        items.extend(page.page.items)
    return items


def _cursor_page_items(fetch: Callable[[dict[str, Any]], bytes], what: str) -> list[dict[str, Any]]:
    """Every entry of a `page`-cursor list (PageCursor), 1,000 a page."""

    def fetch_page(cursor: str | None) -> CursorListPage:
        params: dict[str, Any] = {"limit": _DIRECTORY_PAGE_LIMIT}
        if cursor:
            params["page"] = cursor
        return parse_cursor_list_page(fetch(params), what)

    items: list[dict[str, Any]] = []
    for page in iter_pages(fetch_page, what=what):
        items.extend(page.items)
    return items


def _fetch_all(client: AdminApiClient, path: str, extra: dict[str, Any]) -> list[dict[str, Any]]:
    return _sync_page_items(
        lambda params: client.get_list_page(path, {**params, **extra}), path.rsplit("/", 1)[-1]
    )


def _optional(path: str, skipped: list[SkippedEndpoint], read: Callable[[], T]) -> T | None:
    """`read()`, or None (and a note in `skipped`) when the API refuses it with 403 or 404."""
    try:
        return read()
    except PermissionDeniedError as exc:  # EndpointUnavailableError (404) is one; a 401 is not
        status = 404 if isinstance(exc, EndpointUnavailableError) else 403
        skipped.append(SkippedEndpoint(path, status, exc.request_id))
        return None


def _iter_members(client: AdminApiClient, workspace_ids: list[str]) -> Iterator[dict[str, Any]]:
    for workspace_id in workspace_ids:
        yield from _sync_page_items(
            partial(client.get_workspace_members_page, workspace_id), "workspace members"
        )


def _iter_group_members(client: AdminApiClient, group_ids: list[str]) -> Iterator[dict[str, Any]]:
    for group_id in group_ids:
        yield from _cursor_page_items(
            partial(client.get_rbac_group_members_page, group_id), "RBAC group members"
        )


def fetch_directory(client: AdminApiClient) -> Directory:
    workspaces = parse_workspaces(
        _fetch_all(
            client, "/v1/organizations/workspaces", {"include_archived": "true", "include_default": "true"}
        )
    )
    api_keys = parse_api_keys(_fetch_all(client, "/v1/organizations/api_keys", {}))
    users = parse_users(_fetch_all(client, "/v1/organizations/users", {}))
    directory = Directory(workspaces=workspaces, api_keys=api_keys, users=users)
    skipped = directory.skipped
    # Archived workspaces have no members to speak of; one refusal stops the rest (the same key asks).
    live = [w.id for w in workspaces if w.archived_at is None]
    directory.workspace_members = _optional(
        WORKSPACE_MEMBERS_PATH, skipped, lambda: parse_workspace_members(list(_iter_members(client, live)))
    )
    groups = _optional(
        RBAC_GROUPS_PATH,
        skipped,
        lambda: parse_rbac_groups(_cursor_page_items(client.get_rbac_groups_page, "RBAC groups")),
    )
    if groups is not None:
        directory.rbac_groups = groups
        group_ids = [g.id for g in groups]
        directory.rbac_group_members = _optional(
            RBAC_GROUP_MEMBERS_PATH,
            skipped,
            lambda: parse_rbac_group_members(list(_iter_group_members(client, group_ids))),
        )
    return directory
