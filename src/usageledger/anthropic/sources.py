"""Where usage and cost come from: the analytics endpoints (preferred) or the classic reports (fallback).

Both sources yield the same records, one page at a time (pages are streamed, never accumulated), and
can fetch the ungrouped totals of a window to check the grouped rows against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any, Protocol, TypeVar, runtime_checkable

from ..errors import MalformedResponseError
from ..models import ACTOR, DAILY, TOKEN_METRICS, CostRecord, UsageRecord, Window
from .actor_wire import ActorPage, parse_actor_cost, parse_actor_usage
from .client import AdminApiClient
from .pagination import iter_pages
from .wire import (
    CostPage,
    UsagePage,
    parse_analytics_cost,
    parse_analytics_usage,
    parse_classic_cost,
    parse_classic_usage,
)

__all__ = ["ActorSource", "AnalyticsSource", "ClassicSource", "Source", "Totals", "source_named"]

# The analytics endpoints accept at most five group_by[] dimensions: the daily grain's five, the ones the
# product reports by; the organization comes from /v1/organizations/me (a key reads one organization).
# Cost adds the grain's breakdown (cost and token type), which takes no slot and no share of `limit`.
GROUP_BY: tuple[str, ...] = DAILY.group_by
MAX_WINDOW_DAYS = 31
ANALYTICS_PAGE_LIMIT = 1000
CLASSIC_BUCKET_LIMIT = 31


@dataclass(frozen=True, slots=True)
class Totals:
    """Ungrouped sums of a window, to check the grouped rows against."""

    tokens: tuple[int, ...]  # in the order of TOKEN_METRICS
    amount_cents: Decimal | None = None


_NO_TOKENS: tuple[int, ...] = (0,) * len(TOKEN_METRICS)  # a cost total's: it counts no tokens
_token_values = attrgetter(*TOKEN_METRICS)


class Source(Protocol):
    name: str

    def iter_usage(self, window: Window) -> Iterator[UsagePage]: ...

    def iter_cost(self, window: Window) -> Iterator[CostPage]: ...

    def fetch_usage_totals(self, window: Window) -> Totals: ...

    def fetch_cost_totals(self, window: Window) -> Totals: ...


@runtime_checkable
class ActorSource(Protocol):
    """A source that also serves the actor grain (the analytics endpoints do; the classic reports do not)."""

    def iter_actor_usage(self, window: Window) -> Iterator[ActorPage[UsageRecord]]: ...

    def iter_actor_cost(self, window: Window) -> Iterator[ActorPage[CostRecord]]: ...


def _rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def report_params(
    start: dt.datetime, end: dt.datetime, width: str, group_by: tuple[str, ...], limit: int, page: str | None
) -> dict[str, Any]:
    """An analytics report page's query: [start, end) in buckets of `width`, grouped by `group_by`, `limit`
    rows a page, oldest bucket first (so pages follow time), from `page` on."""
    params: dict[str, Any] = {
        "starting_at": _rfc3339(start),
        "ending_at": _rfc3339(end),
        "time_bucket_width": width,
        "group_by": list(group_by),
        "limit": limit,
        "order_by": "time",
        "order": "asc",
    }
    if page is not None:
        params["page"] = page
    return params


def _token_sums(records: Iterable[UsageRecord]) -> tuple[int, ...]:
    """Every token metric of the records added up, in the order of TOKEN_METRICS."""
    sums = list(_NO_TOKENS)
    for record in records:
        for i, value in enumerate(_token_values(record)):
            sums[i] += value
    return tuple(sums)


P = TypeVar("P", UsagePage, CostPage)


def _one_page(page: P, what: str) -> P:
    """An ungrouped query without time buckets is one row for the range: a page that says more follow is
    malformed (summing a second page, or ignoring it, would both check the window against a wrong total)."""
    if page.has_more:
        raise MalformedResponseError(
            f"The Anthropic API said more pages follow an ungrouped {what} total (one row by definition). "
            "Nothing from this window was stored; the next sync fetches it again."
        )
    return page


class AnalyticsSource:
    """`/v1/organizations/analytics/usage|cost`: one row per day × group, 1,000 rows a page."""

    name = "analytics"

    def __init__(self, client: AdminApiClient, organization_id: str | None, page_limit: int = 1000) -> None:
        self._client = client
        self._organization_id = organization_id
        self._limit = page_limit

    def _params(
        self, window: Window, page: str | None, group_by: tuple[str, ...] = GROUP_BY
    ) -> dict[str, Any]:
        return report_params(window.starting_at(), window.ending_at(), "1d", group_by, self._limit, page)

    def iter_usage(self, window: Window) -> Iterator[UsagePage]:
        org = self._organization_id
        return iter_pages(
            lambda cursor: parse_analytics_usage(
                self._client.get_analytics_page("usage", self._params(window, cursor)), org
            ),
            what="usage",
        )

    def iter_cost(self, window: Window) -> Iterator[CostPage]:
        org = self._organization_id
        return iter_pages(
            lambda cursor: parse_analytics_cost(
                self._client.get_analytics_page("cost", self._params(window, cursor, DAILY.cost_group_by)),
                org,
            ),
            what="cost",
        )

    def iter_actor_usage(self, window: Window) -> Iterator[ActorPage[UsageRecord]]:
        """The actor grain's usage pages: same window and page size, grouped by ACTOR.group_by."""
        org = self._organization_id
        return iter_pages(
            lambda cursor: parse_actor_usage(
                self._client.get_analytics_page("usage", self._params(window, cursor, ACTOR.group_by)), org
            ),
            what="actor usage",
        )

    def iter_actor_cost(self, window: Window) -> Iterator[ActorPage[CostRecord]]:
        org = self._organization_id
        return iter_pages(
            lambda cursor: parse_actor_cost(
                self._client.get_analytics_page("cost", self._params(window, cursor, ACTOR.cost_group_by)),
                org,
            ),
            what="actor cost",
        )

    def _total_params(self, window: Window) -> dict[str, Any]:
        return {
            "starting_at": _rfc3339(window.starting_at()),
            "ending_at": _rfc3339(window.ending_at()),
            "limit": 1,
        }

    def fetch_usage_totals(self, window: Window) -> Totals:
        page = _one_page(
            parse_analytics_usage(
                self._client.get_analytics_page("usage", self._total_params(window)), self._organization_id
            ),
            "usage",
        )
        return Totals(tokens=_token_sums(page.records))

    def fetch_cost_totals(self, window: Window) -> Totals:
        page = _one_page(
            parse_analytics_cost(
                self._client.get_analytics_page("cost", self._total_params(window)), self._organization_id
            ),
            "cost",
        )
        return Totals(tokens=_NO_TOKENS, amount_cents=sum((r.amount_cents for r in page.records), Decimal(0)))


class ClassicSource:
    """`/v1/organizations/usage_report/messages` and `/cost_report`: daily buckets, up to 31 a page."""

    name = "classic"

    def __init__(self, client: AdminApiClient, organization_id: str | None) -> None:
        self._client = client
        self._organization_id = organization_id

    def _params(self, window: Window, page: str | None, group_by: list[str] | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "starting_at": _rfc3339(window.starting_at()),
            "ending_at": _rfc3339(window.ending_at()),
            "bucket_width": "1d",
            "limit": min(CLASSIC_BUCKET_LIMIT, window.days),
        }
        if group_by:
            params["group_by"] = group_by
        if page is not None:
            params["page"] = page
        return params

    def iter_usage(self, window: Window) -> Iterator[UsagePage]:
        org = self._organization_id
        return iter_pages(
            lambda cursor: parse_classic_usage(
                self._client.get_list_page(
                    "/v1/organizations/usage_report/messages", self._params(window, cursor, list(GROUP_BY))
                ),
                org,
            ),
            what="usage report",
        )

    def iter_cost(self, window: Window) -> Iterator[CostPage]:
        org = self._organization_id
        return iter_pages(
            lambda cursor: parse_classic_cost(
                self._client.get_list_page(
                    "/v1/organizations/cost_report",
                    self._params(window, cursor, ["workspace_id", "description"]),
                ),
                org,
            ),
            what="cost report",
        )

    def fetch_usage_totals(self, window: Window) -> Totals:
        pages = iter_pages(
            lambda cursor: parse_classic_usage(
                self._client.get_list_page(
                    "/v1/organizations/usage_report/messages", self._params(window, cursor, None)
                ),
                self._organization_id,
            ),
            what="usage report",
        )
        return Totals(tokens=_token_sums(record for page in pages for record in page.records))

    def fetch_cost_totals(self, window: Window) -> Totals:
        amount = Decimal(0)
        for page in iter_pages(
            lambda cursor: parse_classic_cost(
                self._client.get_list_page(
                    "/v1/organizations/cost_report", self._params(window, cursor, None)
                ),
                self._organization_id,
            ),
            what="cost report",
        ):
            amount += sum((r.amount_cents for r in page.records), Decimal(0))
        return Totals(tokens=_NO_TOKENS, amount_cents=amount)


def source_named(
    name: str, client: AdminApiClient, organization_id: str | None, page_limit: int = 1000
) -> Source:
    if name == "classic":
        return ClassicSource(client, organization_id)
    return AnalyticsSource(client, organization_id, page_limit)
