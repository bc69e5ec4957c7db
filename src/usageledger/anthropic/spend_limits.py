"""Anthropic's own spend limits: `GET /v1/organizations/spend_limits` (beta `spend-limit-reads-2026-09-26`).

Optional, like the directory's membership lists: a key that may not read them (403), an organization type
the endpoint does not serve (400 `organization_type_not_supported`, e.g. a Console organization outside the
early-access preview) or an API without the endpoint (404) skips them, noted in `SpendLimitsRead.skipped`,
and the sync goes on. A 401 stays a credential failure.

`amount` is "a non-negative integer decimal string in the minor unit" of `currency` ("50000" = $500.00),
null for no numeric cap; anything else is a malformed page. Calls: one per 100 limits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..errors import EndpointUnavailableError, MalformedResponseError, PermissionDeniedError
from ..models import SkippedEndpoint, SpendLimit
from .client import SPEND_LIMITS_PATH, AdminApiClient
from .pagination import iter_pages
from .wire import CursorListPage, parse_cursor_list_page

__all__ = ["SpendLimitsRead", "fetch_spend_limits", "parse_spend_limit"]

_PAGE_LIMIT = 100
_WHAT = "spend limits"
# The id each scope type carries (organization and usage_tier carry none).
_SCOPE_ID_FIELD = {
    "workspace": "workspace_id",
    "user": "user_id",
    "rbac_group": "rbac_group_id",
    "seat_tier": "seat_tier",
    "organization_service": "service",
}


@dataclass(frozen=True, slots=True)
class SpendLimitsRead:
    """The limits read (None when skipped) and, when skipped, which answer skipped them."""

    limits: list[SpendLimit] | None
    skipped: SkippedEndpoint | None = None


def _malformed(detail: str) -> MalformedResponseError:
    return MalformedResponseError(
        f"The Anthropic API sent a malformed spend limits page ({detail}); the next sync reads them again."
    )


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_spend_limit(item: dict[str, Any]) -> SpendLimit:
    limit_id, scope, amount = item.get("id"), item.get("scope"), item.get("amount")
    if not isinstance(limit_id, str) or not limit_id:
        raise _malformed("a limit has no `id`")
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise _malformed(f"limit {limit_id} has no scope type")
    if amount is not None and not (isinstance(amount, str) and amount.isdigit()):
        raise _malformed(f"limit {limit_id} has the amount {amount!r}, not a whole number of minor units")
    scope_type = scope["type"]
    scope_id = scope.get(_SCOPE_ID_FIELD.get(scope_type, ""), "")
    return SpendLimit(
        id=limit_id,
        scope_type=scope_type,
        scope_id=str(scope_id or ""),
        amount_minor=None if amount is None else int(amount),
        currency=str(item.get("currency") or "USD").upper(),
        period=str(item.get("period") or "monthly"),
        is_enabled=item.get("is_enabled") is not False,
        updated_at=_time(item.get("updated_at")),
    )


def fetch_spend_limits(client: AdminApiClient) -> SpendLimitsRead:
    def fetch_page(cursor: str | None) -> CursorListPage:
        params: dict[str, Any] = {"limit": _PAGE_LIMIT}
        if cursor:
            params["page"] = cursor
        return parse_cursor_list_page(client.get_spend_limits_page(params), _WHAT)

    try:
        items = [item for page in iter_pages(fetch_page, what=_WHAT) for item in page.items]
    except PermissionDeniedError as exc:  # EndpointUnavailableError (404, or this organization type) is one
        status = 404 if isinstance(exc, EndpointUnavailableError) else 403
        return SpendLimitsRead(None, SkippedEndpoint(SPEND_LIMITS_PATH, status, exc.request_id))
    return SpendLimitsRead([parse_spend_limit(item) for item in items])
