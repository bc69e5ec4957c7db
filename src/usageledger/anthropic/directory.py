"""Names beside ids: the organization, its workspaces, API keys and users."""

from __future__ import annotations

from typing import Any

from ..models import Directory, Organization
from .client import AdminApiClient
from .pagination import iter_pages
from .wire import ListPage, parse_api_keys, parse_list_page, parse_organization, parse_users, parse_workspaces

__all__ = ["fetch_directory", "fetch_organization"]

_DIRECTORY_PAGE_LIMIT = 1000


def fetch_organization(client: AdminApiClient) -> Organization:
    return parse_organization(client.get_organization())


class _CursorPage:
    """Adapts a first_id/last_id list page to the `next_page` paginator."""

    def __init__(self, page: ListPage) -> None:
        self.page = page
        self.has_more = page.has_more
        self.next_page = page.last_id


def _fetch_all(client: AdminApiClient, path: str, extra: dict[str, Any]) -> list[dict[str, Any]]:
    def fetch(cursor: str | None) -> _CursorPage:
        params: dict[str, Any] = {"limit": _DIRECTORY_PAGE_LIMIT, **extra}
        if cursor:
            params["after_id"] = cursor
        return _CursorPage(parse_list_page(client.get_list_page(path, params)))

    items: list[dict[str, Any]] = []
    for page in iter_pages(fetch, what=path.rsplit("/", 1)[-1]):
        items.extend(page.page.items)
    return items


def fetch_directory(client: AdminApiClient) -> Directory:
    workspaces = parse_workspaces(
        _fetch_all(
            client, "/v1/organizations/workspaces", {"include_archived": "true", "include_default": "true"}
        )
    )
    api_keys = parse_api_keys(_fetch_all(client, "/v1/organizations/api_keys", {}))
    users = parse_users(_fetch_all(client, "/v1/organizations/users", {}))
    return Directory(workspaces=workspaces, api_keys=api_keys, users=users)
