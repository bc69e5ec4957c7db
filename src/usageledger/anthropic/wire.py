"""Wire bodies → our records. Strict about shape (a missing field fails the page), fast on big pages.

The SDK's own models are exact but cost ~70 µs a row to build; validating the JSON bytes straight into
TypedDicts with pydantic-core costs ~4 µs, so a year of a large organization parses in seconds.
Tests prove the fake's bodies also parse with the SDK's models, so both views agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NotRequired, Optional, TypeVar

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from ..errors import MalformedResponseError
from ..models import (
    ApiKeyInfo,
    CostRecord,
    Dimensions,
    Organization,
    UsageRecord,
    UserInfo,
    WorkspaceInfo,
)

__all__ = [
    "CostPage",
    "ListPage",
    "UsagePage",
    "parse_analytics_cost",
    "parse_analytics_usage",
    "parse_api_keys",
    "parse_classic_cost",
    "parse_classic_usage",
    "parse_organization",
    "parse_users",
    "parse_workspaces",
]

# Optional[...] rather than `X | None`: pydantic evaluates these annotations at runtime.


class _Group(TypedDict, total=False):
    organization_id: Optional[str]  # noqa: UP045
    workspace_id: Optional[str]  # noqa: UP045
    api_key_id: Optional[str]  # noqa: UP045
    model: Optional[str]  # noqa: UP045
    service_tier: Optional[str]  # noqa: UP045
    context_window: Optional[str]  # noqa: UP045
    inference_geo: Optional[str]  # noqa: UP045
    speed: Optional[str]  # noqa: UP045


class _CacheCreation(TypedDict):
    ephemeral_5m_input_tokens: int
    ephemeral_1h_input_tokens: int


class _ServerToolUse(TypedDict, total=False):
    web_search_requests: int


class _UsageMetrics(TypedDict):
    uncached_input_tokens: int
    cache_creation: _CacheCreation
    cache_read_input_tokens: int
    output_tokens: int
    requests: NotRequired[Optional[int]]  # noqa: UP045
    server_tool_use: NotRequired[_ServerToolUse]


class _UsageItem(TypedDict):
    starting_at: dt.datetime
    ending_at: dt.datetime
    group: _Group
    usage: _UsageMetrics


class _CostMetrics(TypedDict):
    amount: str
    list_amount: str
    currency: str
    requests: NotRequired[Optional[int]]  # noqa: UP045


class _CostItem(TypedDict):
    starting_at: dt.datetime
    ending_at: dt.datetime
    group: _Group
    cost: _CostMetrics


class _ReportPage(TypedDict):
    data: list[dict]  # type: ignore[type-arg]
    has_more: bool
    next_page: NotRequired[Optional[str]]  # noqa: UP045
    data_refreshed_at: NotRequired[Optional[dt.datetime]]  # noqa: UP045


class _AnalyticsUsagePage(_ReportPage):
    data: list[_UsageItem]  # type: ignore[misc]


class _AnalyticsCostPage(_ReportPage):
    data: list[_CostItem]  # type: ignore[misc]


class _ClassicUsageResult(_UsageMetrics, _Group):
    pass


class _ClassicUsageBucket(TypedDict):
    starting_at: dt.datetime
    ending_at: dt.datetime
    results: list[_ClassicUsageResult]


class _ClassicCostResult(TypedDict, total=False):
    amount: str
    currency: str
    workspace_id: Optional[str]  # noqa: UP045
    model: Optional[str]  # noqa: UP045
    service_tier: Optional[str]  # noqa: UP045
    context_window: Optional[str]  # noqa: UP045
    inference_geo: Optional[str]  # noqa: UP045
    speed: Optional[str]  # noqa: UP045
    cost_type: Optional[str]  # noqa: UP045
    token_type: Optional[str]  # noqa: UP045
    description: Optional[str]  # noqa: UP045


class _ClassicCostBucket(TypedDict):
    starting_at: dt.datetime
    ending_at: dt.datetime
    results: list[_ClassicCostResult]


class _ClassicUsagePage(_ReportPage):
    data: list[_ClassicUsageBucket]  # type: ignore[misc]


class _ClassicCostPage(_ReportPage):
    data: list[_ClassicCostBucket]  # type: ignore[misc]


class _ListPage(TypedDict):
    data: list[dict]  # type: ignore[type-arg]
    has_more: bool
    first_id: NotRequired[Optional[str]]  # noqa: UP045
    last_id: NotRequired[Optional[str]]  # noqa: UP045


class _Org(TypedDict):
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class UsagePage:
    records: list[UsageRecord]
    has_more: bool
    next_page: str | None
    data_refreshed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class CostPage:
    records: list[CostRecord]
    has_more: bool
    next_page: str | None
    data_refreshed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ListPage:
    items: list[dict]  # type: ignore[type-arg]
    has_more: bool
    last_id: str | None


_T = TypeVar("_T")


def _validate(adapter: TypeAdapter[_T], body: bytes, what: str) -> _T:
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MalformedResponseError(
            f"The Anthropic API sent a malformed {what} page ({first['msg']} at {where}). Nothing from "
            "this window was stored; the next sync fetches it again."
        ) from None


_usage_page = TypeAdapter(_AnalyticsUsagePage)
_cost_page = TypeAdapter(_AnalyticsCostPage)
_classic_usage_page = TypeAdapter(_ClassicUsagePage)
_classic_cost_page = TypeAdapter(_ClassicCostPage)
_list_page = TypeAdapter(_ListPage)
_org = TypeAdapter(_Org)


def _dims(group: _Group, organization_id: str | None) -> Dimensions:
    return Dimensions(
        organization_id=group.get("organization_id") or organization_id,
        workspace_id=group.get("workspace_id"),
        api_key_id=group.get("api_key_id"),
        model=group.get("model"),
        service_tier=group.get("service_tier"),
        context_window=group.get("context_window"),
        inference_geo=group.get("inference_geo"),
        speed=group.get("speed"),
    )


def _usage_record(day: dt.date, dims: Dimensions, usage: _UsageMetrics) -> UsageRecord:
    cache = usage["cache_creation"]
    return UsageRecord(
        day=day,
        dims=dims,
        uncached_input_tokens=usage["uncached_input_tokens"],
        output_tokens=usage["output_tokens"],
        cache_read_input_tokens=usage["cache_read_input_tokens"],
        cache_creation_5m_input_tokens=cache["ephemeral_5m_input_tokens"],
        cache_creation_1h_input_tokens=cache["ephemeral_1h_input_tokens"],
        requests=usage.get("requests"),
        web_search_requests=usage.get("server_tool_use", {}).get("web_search_requests", 0),
    )


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise MalformedResponseError(f"The Anthropic API sent a non-decimal {what}: {text!r}.") from None


def _day_of(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def parse_analytics_usage(body: bytes, organization_id: str | None) -> UsagePage:
    page = _validate(_usage_page, body, "usage")
    records = [
        _usage_record(_day_of(item["starting_at"]), _dims(item["group"], organization_id), item["usage"])
        for item in page["data"]
    ]
    return UsagePage(records, page["has_more"], page.get("next_page"), page.get("data_refreshed_at"))


def parse_analytics_cost(body: bytes, organization_id: str | None) -> CostPage:
    page = _validate(_cost_page, body, "cost")
    records = [
        CostRecord(
            day=_day_of(item["starting_at"]),
            dims=_dims(item["group"], organization_id),
            amount_cents=_decimal(item["cost"]["amount"], "amount"),
            list_amount_cents=_decimal(item["cost"]["list_amount"], "list_amount"),
            currency=item["cost"]["currency"],
            requests=item["cost"].get("requests"),
        )
        for item in page["data"]
    ]
    return CostPage(records, page["has_more"], page.get("next_page"), page.get("data_refreshed_at"))


def parse_classic_usage(body: bytes, organization_id: str | None) -> UsagePage:
    page = _validate(_classic_usage_page, body, "usage report")
    records = [
        _usage_record(_day_of(bucket["starting_at"]), _dims(result, organization_id), result)
        for bucket in page["data"]
        for result in bucket["results"]
    ]
    return UsagePage(records, page["has_more"], page.get("next_page"), page.get("data_refreshed_at"))


def parse_classic_cost(body: bytes, organization_id: str | None) -> CostPage:
    """Classic cost results fan out by cost and token type; sum them per day × dimensions."""
    page = _validate(_classic_cost_page, body, "cost report")
    sums: dict[tuple[dt.date, Dimensions, str], Decimal] = {}
    for bucket in page["data"]:
        day = _day_of(bucket["starting_at"])
        for result in bucket["results"]:
            dims = _dims(result, organization_id)  # type: ignore[arg-type]
            key = (day, dims, result.get("currency") or "USD")
            sums[key] = sums.get(key, Decimal(0)) + _decimal(result.get("amount") or "0", "amount")
    records = [
        # The classic report has no list price: it is the amount, undiscounted view unavailable.
        CostRecord(day=day, dims=dims, amount_cents=amount, list_amount_cents=amount, currency=currency)
        for (day, dims, currency), amount in sums.items()
    ]
    return CostPage(records, page["has_more"], page.get("next_page"), page.get("data_refreshed_at"))


def parse_list_page(body: bytes) -> ListPage:
    page = _validate(_list_page, body, "directory")
    return ListPage(page["data"], page["has_more"], page.get("last_id"))


def parse_organization(body: bytes) -> Organization:
    org = _validate(_org, body, "organization")
    return Organization(id=org["id"], name=org["name"])


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


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
