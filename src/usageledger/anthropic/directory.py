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
They are asked side by side (`fetch_directory`): the lists and the RBAC groups at once, then the first
workspace's members, then the other workspaces' at once (and so for the groups' members).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
_PARALLEL_LISTS = 8  # threads; how many calls are really in flight is the client's limit
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


def _members_of(client: AdminApiClient, workspace_id: str) -> list[dict[str, Any]]:
    return _sync_page_items(partial(client.get_workspace_members_page, workspace_id), "workspace members")


def _group_members_of(client: AdminApiClient, group_id: str) -> list[dict[str, Any]]:
    return _cursor_page_items(partial(client.get_rbac_group_members_page, group_id), "RBAC group members")


def _each_of(pool: ThreadPoolExecutor, read: Callable[[str], list[T]], ids: list[str]) -> list[T]:
    """`read(id)` for every id, in order: the first alone, the rest side by side. A refusal of the first
    (the same key asks them all, so it would refuse the rest) costs one call, as one after another did."""
    if not ids:
        return []
    first = read(ids[0])
    rest = [pool.submit(read, one) for one in ids[1:]]
    return first + [item for future in rest for item in future.result()]


def fetch_directory(client: AdminApiClient) -> Directory:
    """Every list, side by side within the client's limit of requests in flight: the same calls as one
    after another, in 3 rounds of latency instead of one per call (9 for the fake's large organization:
    3 lists, 5 workspaces' members, the RBAC groups). Errors are raised, and refusals noted, as in that
    order."""
    with ThreadPoolExecutor(_PARALLEL_LISTS, thread_name_prefix="usageledger-directory") as pool:
        try:
            return _fetch_directory(client, pool)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # after a failure: no list still to start


def _fetch_directory(client: AdminApiClient, pool: ThreadPoolExecutor) -> Directory:
    workspaces_read = pool.submit(
        _fetch_all,
        client,
        "/v1/organizations/workspaces",
        {"include_archived": "true", "include_default": "true"},
    )
    api_keys_read = pool.submit(_fetch_all, client, "/v1/organizations/api_keys", {})
    users_read = pool.submit(_fetch_all, client, "/v1/organizations/users", {})
    groups_read = pool.submit(_cursor_page_items, client.get_rbac_groups_page, "RBAC groups")
    workspaces = parse_workspaces(workspaces_read.result())
    api_keys = parse_api_keys(api_keys_read.result())
    users = parse_users(users_read.result())
    directory = Directory(workspaces=workspaces, api_keys=api_keys, users=users)
    skipped = directory.skipped
    # Archived workspaces have no members to speak of.
    live = [w.id for w in workspaces if w.archived_at is None]
    directory.workspace_members = _optional(
        WORKSPACE_MEMBERS_PATH,
        skipped,
        lambda: parse_workspace_members(_each_of(pool, partial(_members_of, client), live)),
    )
    groups = _optional(RBAC_GROUPS_PATH, skipped, lambda: parse_rbac_groups(groups_read.result()))
    if groups is not None:
        directory.rbac_groups = groups
        group_ids = [g.id for g in groups]
        directory.rbac_group_members = _optional(
            RBAC_GROUP_MEMBERS_PATH,
            skipped,
            lambda: parse_rbac_group_members(_each_of(pool, partial(_group_members_of, client), group_ids)),
        )
    return directory
