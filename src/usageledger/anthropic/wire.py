"""Wire bodies → our records. Strict about shape (a missing field fails the page), fast on big pages.

The analytics pages (the hot path of a backfill) are decoded by msgspec straight into the few fields
we read: typed structs skip the twenty-odd null group fields without building them, and being
untracked by the garbage collector (`gc=False`, they hold no cycles) they cost under a microsecond a
row. A missing field, a count that is not an integer (a boolean is not one) or an amount that is not a
decimal fails the page with MalformedResponseError. Tests prove the fake's bodies also parse with the
SDK's own models, so both views agree.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any, Generic, TypeVar

import msgspec

from ..errors import MalformedResponseError
from ..models import (
    DAILY,
    ApiKeyInfo,
    CostRecord,
    Dimensions,
    Organization,
    RbacGroup,
    RbacGroupMember,
    UsageRecord,
    UserInfo,
    WorkspaceInfo,
    WorkspaceMember,
)

R = TypeVar("R")

__all__ = [
    "CostPage",
    "ListPage",
    "ReportPage",
    "UsagePage",
    "breakdown_getter",
    "parse_analytics_cost",
    "parse_analytics_usage",
    "parse_api_keys",
    "parse_classic_cost",
    "parse_classic_usage",
    "parse_organization",
    "parse_users",
    "parse_workspaces",
]


class ReportPage(Generic[R]):
    """A usage or cost page: its cursor is read when it arrives, its rows when `records` is first read.

    The thread that fetches needs only the cursor to ask for the next page; decoding a thousand rows
    is left to the thread that writes them, so the two do not take turns on the GIL for every row.
    A page whose rows are malformed raises MalformedResponseError from `records`.
    """

    __slots__ = ("_decode", "_records", "data_refreshed_at", "has_more", "next_page")

    def __init__(
        self,
        has_more: bool,
        next_page: str | None,
        data_refreshed_at: dt.datetime | None,
        decode: Callable[[], list[R]],
    ) -> None:
        self.has_more = has_more
        self.next_page = next_page
        self.data_refreshed_at = data_refreshed_at
        self._decode: Callable[[], list[R]] | None = decode
        self._records: list[R] | None = None

    @property
    def records(self) -> list[R]:
        if self._records is None:
            assert self._decode is not None
            self._records = self._decode()
            self._decode = None  # the body is not needed any more
        return self._records


UsagePage = ReportPage[UsageRecord]
CostPage = ReportPage[CostRecord]


@dataclass(frozen=True, slots=True)
class ListPage:
    items: list[dict]  # type: ignore[type-arg]
    has_more: bool
    last_id: str | None


# --- the analytics report pages, as msgspec reads them --------------------------------------------


# The daily grain's dimensions as the group object carries them; the API sends every other group field
# as null, and msgspec skips them unbuilt. `_group_values` reads them back in natural-key order.
_Group = msgspec.defstruct(
    "_Group", [(name, str | None, None) for name in DAILY.dimensions], gc=False, module=__name__
)
_group_values = attrgetter(*DAILY.dimensions)
_new_tuple = tuple.__new__


def breakdown_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[str | None, ...]]:
    """Reads a cost group's breakdown values (cost type, token type) as a tuple, in the grain's order."""
    if not names:  # a grain that does not break cost out
        return lambda group: ()
    if len(names) == 1:
        only = attrgetter(names[0])
        return lambda group: (only(group),)
    return attrgetter(*names)


# A cost row's group adds the breakdown fields (cost_type, token_type) to the grain's dimensions.
_CostGroup = msgspec.defstruct(
    "_CostGroup",
    [(name, str | None, None) for name in DAILY.cost_breakdown],
    bases=(_Group,),
    gc=False,
    module=__name__,
)
_breakdown_values = breakdown_getter(DAILY.cost_breakdown)


class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: int
    ephemeral_1h_input_tokens: int


class _ServerToolUse(msgspec.Struct, gc=False):
    web_search_requests: int = 0


class _Usage(msgspec.Struct, gc=False):
    uncached_input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation: _CacheCreation
    requests: int | None = None
    server_tool_use: _ServerToolUse | None = None


class _GroupRow(msgspec.Struct, gc=False):
    """One day × group of a report: the day it starts and the group's dimensions."""

    starting_at: str
    # A struct made from the grain's declaration, so mypy cannot see its type.
    group: _Group  # type: ignore[valid-type]


class _UsageRow(_GroupRow, gc=False):
    usage: _Usage


class _Cost(msgspec.Struct, gc=False):
    amount: Decimal  # decimal strings of cents on the wire, read exactly
    list_amount: Decimal
    currency: str
    requests: int | None = None


class _CostRow(msgspec.Struct, gc=False):
    starting_at: str
    group: _CostGroup  # type: ignore[valid-type]
    cost: _Cost


class _Cursor(msgspec.Struct, gc=False):
    """What a report page says about the next one; decoding only this skips the rows unbuilt."""

    has_more: bool
    next_page: str | None = None
    data_refreshed_at: str | None = None


_Row = TypeVar("_Row", _UsageRow, _CostRow)


class _Report(_Cursor, Generic[_Row], kw_only=True, gc=False):
    data: list[_Row]


_USAGE_REPORT = msgspec.json.Decoder(_Report[_UsageRow])
_COST_REPORT = msgspec.json.Decoder(_Report[_CostRow])
_CURSOR = msgspec.json.Decoder(_Cursor)
_ANY_JSON = msgspec.json.Decoder()
_Decoded = TypeVar("_Decoded")


def _not_json(what: str, exc: Exception) -> MalformedResponseError:
    return MalformedResponseError(
        f"The Anthropic API sent a {what} page that is not valid JSON ({exc}). Nothing from this "
        "window was stored; the next sync fetches it again."
    )


def _malformed(what: str, detail: str) -> MalformedResponseError:
    return MalformedResponseError(
        f"The Anthropic API sent a malformed {what} page ({detail}). Nothing from this window was stored; "
        "the next sync fetches it again."
    )


def _decode_report(decoder: msgspec.json.Decoder[_Decoded], body: bytes, what: str) -> _Decoded:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:  # valid JSON of the wrong shape: says which field, where
        raise _malformed(what, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise _not_json(what, exc) from None


def _load(body: bytes, what: str) -> dict[str, Any]:
    try:
        page = _ANY_JSON.decode(body)
    except msgspec.DecodeError as exc:
        raise _not_json(what, exc) from None
    if not isinstance(page, dict):
        raise _malformed(what, "the page is not a JSON object")
    return page


def _report_page(body: bytes, what: str) -> tuple[list[Any], bool, str | None, dt.datetime | None]:
    """data, has_more, next_page and data_refreshed_at of a classic report page; `has_more` must be there."""
    page = _load(body, what)
    data, has_more = page.get("data"), page.get("has_more")
    if not isinstance(data, list):
        raise _malformed(what, "`data` is missing or not a list")
    if not isinstance(has_more, bool):
        raise _malformed(what, "`has_more` is missing or not a boolean")
    next_page = page.get("next_page")
    refreshed = page.get("data_refreshed_at")
    return data, has_more, next_page if isinstance(next_page, str) else None, _moment(refreshed)


def _count(value: Any, name: str, what: str) -> int:
    if type(value) is not int:  # noqa: E721  (bool is not a count)
        raise _malformed(what, f"`{name}` is {value!r}, not a whole number")
    return value


def _dims(group: dict[str, Any], organization_id: str | None) -> Dimensions:
    """A classic report result's dimensions; the organization is the connection's unless it says one."""
    get = group.get
    values = [get(name) for name in DAILY.dimensions]
    values[0] = values[0] or organization_id
    return Dimensions._make(values)


def _group_dims(g: Any, organization_id: str | None) -> Dimensions:
    """A decoded `_Group`'s dimensions (the hot path: built as a tuple, without NamedTuple's __new__)."""
    values = _group_values(g)
    if not values[0]:  # the organization is not grouped by: it is the connection's
        values = (organization_id, *values[1:])
    dims: Dimensions = _new_tuple(Dimensions, values)
    return dims


def _usage_record(day: dt.date, dims: Dimensions, usage: dict[str, Any], what: str) -> UsageRecord:
    cache = usage["cache_creation"]
    requests = usage.get("requests")
    return UsageRecord(
        day,
        dims,
        _count(usage["uncached_input_tokens"], "uncached_input_tokens", what),
        _count(usage["output_tokens"], "output_tokens", what),
        _count(usage["cache_read_input_tokens"], "cache_read_input_tokens", what),
        _count(cache["ephemeral_5m_input_tokens"], "ephemeral_5m_input_tokens", what),
        _count(cache["ephemeral_1h_input_tokens"], "ephemeral_1h_input_tokens", what),
        None if requests is None else _count(requests, "requests", what),
        (usage.get("server_tool_use") or {}).get("web_search_requests", 0),
    )


def _decimal(text: Any, what: str) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise _malformed(what, f"{text!r} is not a decimal amount") from None


@functools.lru_cache(maxsize=4096)
def _day_of(timestamp: str) -> dt.date:
    """The UTC day a bucket starts on; a page holds few distinct timestamps, so parse each once."""
    moment = _moment(timestamp)
    if moment is None:
        raise _malformed("report", f"{timestamp!r} is not an RFC 3339 time with a zone")
    return moment.date()


def _rows(what: str, build: Any, items: list[Any]) -> list[Any]:
    try:
        return [build(item) for item in items]
    except (KeyError, TypeError, AttributeError) as exc:
        raise _malformed(what, f"a row lacks {exc}") from None


def _bucket_day(bucket: Any, what: str) -> dt.date:
    if not isinstance(bucket, dict) or not isinstance(bucket.get("starting_at"), str):
        raise _malformed(what, "a bucket lacks `starting_at`")
    return _day_of(bucket["starting_at"])


def _lazy_page(body: bytes, what: str, decode_rows: Callable[[], list[R]]) -> ReportPage[R]:
    """The page's cursor now; its rows by `decode_rows` when first read."""
    cursor = _decode_report(_CURSOR, body, what)
    return ReportPage(cursor.has_more, cursor.next_page, _moment(cursor.data_refreshed_at), decode_rows)


def parse_analytics_usage(body: bytes, organization_id: str | None) -> UsagePage:
    return _lazy_page(body, "usage", lambda: _usage_records(body, organization_id))


def _usage_records(body: bytes, organization_id: str | None) -> list[UsageRecord]:
    return [
        usage_record(_day_of(row.starting_at), _group_dims(row.group, organization_id), row.usage)
        for row in _decode_report(_USAGE_REPORT, body, "usage").data
    ]


def usage_record(day: dt.date, dims: Any, u: _Usage) -> UsageRecord:
    """A usage record from an analytics row's `usage` object, for any grain's dimensions."""
    cache, tools = u.cache_creation, u.server_tool_use
    return UsageRecord(
        day,
        dims,
        u.uncached_input_tokens,
        u.output_tokens,
        u.cache_read_input_tokens,
        cache.ephemeral_5m_input_tokens,
        cache.ephemeral_1h_input_tokens,
        u.requests,
        tools.web_search_requests if tools is not None else 0,
    )


def cost_record(day: dt.date, dims: Any, c: _Cost, breakdown: tuple[str | None, ...]) -> CostRecord:
    """A cost record from an analytics row's `cost` object (amounts already Decimal cents), for any grain.

    Built as a tuple, without NamedTuple's __new__: a breakdown by type makes several records per group.
    """
    record: CostRecord = _new_tuple(
        CostRecord, (day, dims, c.amount, c.list_amount, c.currency, c.requests, breakdown)
    )
    return record


def parse_analytics_cost(body: bytes, organization_id: str | None) -> CostPage:
    return _lazy_page(body, "cost", lambda: _cost_records(body, organization_id))


def _cost_records(body: bytes, organization_id: str | None) -> list[CostRecord]:
    return [
        cost_record(
            _day_of(row.starting_at),
            _group_dims(row.group, organization_id),
            row.cost,
            _breakdown_values(row.group),
        )
        for row in _decode_report(_COST_REPORT, body, "cost").data
    ]


def parse_classic_usage(body: bytes, organization_id: str | None) -> UsagePage:
    data, has_more, next_page, refreshed = _report_page(body, "usage report")
    records: list[UsageRecord] = []
    for bucket in data:
        day = _bucket_day(bucket, "usage report")
        records += _rows(
            "usage report",
            lambda r, day=day: _usage_record(day, _dims(r, organization_id), r, "usage report"),
            bucket.get("results") or [],
        )
    return ReportPage(has_more, next_page, refreshed, lambda: records)


def parse_classic_cost(body: bytes, organization_id: str | None) -> CostPage:
    """Classic cost results, per day × dimensions × cost and token type; results that share all of them
    (they differ only in what the grain does not keep, such as the description) are summed."""
    data, has_more, next_page, refreshed = _report_page(body, "cost report")
    sums: dict[tuple[dt.date, Dimensions, tuple[str | None, ...], str], Decimal] = {}
    breakdown = DAILY.cost_breakdown
    for bucket in data:
        day = _bucket_day(bucket, "cost report")
        for result in bucket.get("results") or []:
            parts = tuple(result.get(name) or None for name in breakdown)
            key = (day, _dims(result, organization_id), parts, result.get("currency") or "USD")
            sums[key] = sums.get(key, Decimal(0)) + _decimal(result.get("amount") or "0", "cost report")
    records = [
        # The classic report has no list price: list_amount is the amount. Nor does a broken-out row
        # count requests; the classic report counts none at all.
        CostRecord(day, dims, amount, amount, currency, None, parts)
        for (day, dims, parts, currency), amount in sums.items()
    ]
    return ReportPage(has_more, next_page, refreshed, lambda: records)


def parse_list_page(body: bytes) -> ListPage:
    page = _load(body, "directory")
    data, has_more = page.get("data"), page.get("has_more")
    if not isinstance(data, list) or not isinstance(has_more, bool):
        raise _malformed("directory", "`data` or `has_more` is missing")
    last_id = page.get("last_id")
    return ListPage(data, has_more, last_id if isinstance(last_id, str) else None)


def parse_organization(body: bytes) -> Organization:
    org = _load(body, "organization")
    if not isinstance(org.get("id"), str) or not isinstance(org.get("name"), str):
        raise _malformed("organization", "`id` or `name` is missing")
    return Organization(id=org["id"], name=org["name"])


def _moment(value: object) -> dt.datetime | None:
    """An aware UTC datetime from an RFC 3339 string; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else None


def parse_workspaces(items: list[dict]) -> list[WorkspaceInfo]:  # type: ignore[type-arg]
    return [
        WorkspaceInfo(
            id=i["id"],
            name=i.get("name") or i["id"],
            archived_at=_moment(i.get("archived_at")),
            created_at=_moment(i.get("created_at")),
        )
        for i in items
    ]


def parse_api_keys(items: list[dict]) -> list[ApiKeyInfo]:  # type: ignore[type-arg]
    keys = []
    for i in items:
        created_by = i.get("created_by") or {}
        scope = i.get("scope") or {}  # the SDK's APIKey carries the workspace in scope.workspace_id
        keys.append(
            ApiKeyInfo(
                id=i["id"],
                name=i.get("name") or i["id"],
                workspace_id=scope.get("workspace_id") or i.get("workspace_id"),
                status=i.get("status"),
                partial_key_hint=i.get("partial_key_hint"),
                created_by_id=created_by.get("id"),
                created_by_type=created_by.get("type"),
                created_at=_moment(i.get("created_at")),
                expires_at=_moment(i.get("expires_at")),
            )
        )
    return keys


def parse_users(items: list[dict]) -> list[UserInfo]:  # type: ignore[type-arg]
    return [
        UserInfo(
            id=i["id"],
            email=i.get("email") or "",
            name=i.get("name") or "",
            role=i.get("role"),
            added_at=_moment(i.get("added_at")),
        )
        for i in items
    ]


# --- the optional directory lists: workspace members (SyncPage), RBAC groups and members (PageCursor) --


@dataclass(frozen=True, slots=True)
class CursorListPage:
    """A PageCursor page `{data, next_page}`: more follow while `next_page` is set (it has no has_more)."""

    items: list[dict]  # type: ignore[type-arg]
    next_page: str | None

    @property
    def has_more(self) -> bool:
        return self.next_page is not None


def parse_cursor_list_page(body: bytes, what: str) -> CursorListPage:
    page = _load(body, what)
    data, next_page = page.get("data"), page.get("next_page")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise _malformed(what, "`data` is missing or not a list of objects")
    if next_page is not None and not isinstance(next_page, str):
        raise _malformed(what, "`next_page` is not a string")
    return CursorListPage(data, next_page or None)


def _text(item: dict, name: str, what: str) -> str:  # type: ignore[type-arg]
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise _malformed(what, f"an entry has no `{name}`")
    return value


def parse_workspace_members(items: list[dict]) -> list[WorkspaceMember]:  # type: ignore[type-arg]
    what = "workspace members"
    return [
        WorkspaceMember(
            _text(i, "workspace_id", what), _text(i, "user_id", what), _text(i, "workspace_role", what)
        )
        for i in items
    ]


def parse_rbac_groups(items: list[dict]) -> list[RbacGroup]:  # type: ignore[type-arg]
    return [RbacGroup(_text(i, "id", "RBAC groups"), i.get("name") or i["id"]) for i in items]


def parse_rbac_group_members(items: list[dict]) -> list[RbacGroupMember]:  # type: ignore[type-arg]
    what = "RBAC group members"
    return [
        RbacGroupMember(_text(i, "rbac_group_id", what), _text(i, "user_id", what), i.get("email") or "")
        for i in items
    ]


__all__ += [
    "CursorListPage",
    "parse_cursor_list_page",
    "parse_rbac_group_members",
    "parse_rbac_groups",
    "parse_workspace_members",
]
