"""The hourly grain from the analytics endpoints: usage and cost per UTC hour × workspace × model.

Fetched with `time_bucket_width=1h` for the recent days only (the lookback and today); one range of at
most 31 days (the API's longest), paged at the same 1,000 rows (bucket × group) as the daily grain. A row's
`starting_at` is the hour it starts; a bucket that does not start on the hour fails the page.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import msgspec

from ..errors import MalformedResponseError
from ..models import HOURLY, CostRecord, HourlyDimensions, UsageRecord
from .client import AdminApiClient
from .pagination import iter_pages
from .sources import report_params
from .wire import (
    ReportPage,
    _Cost,
    _decode_report,
    _lazy_page,
    _moment,
    _Usage,
    breakdown_getter,
    cost_record,
    usage_record,
)

__all__ = ["HourlySource", "MAX_HOURLY_RANGE", "parse_hourly_cost", "parse_hourly_usage"]

MAX_HOURLY_RANGE = dt.timedelta(days=31)  # "the range may span at most 31 days"

# The grain's dimensions as the group object carries them (the API sends every other field as null).
_Group = msgspec.defstruct(
    "_HourlyGroup", [(name, str | None, None) for name in HOURLY.dimensions], gc=False, module=__name__
)
_CostGroup = msgspec.defstruct(
    "_HourlyCostGroup",
    [(name, str | None, None) for name in HOURLY.cost_breakdown],
    bases=(_Group,),
    gc=False,
    module=__name__,
)
_breakdown_values = breakdown_getter(HOURLY.cost_breakdown)


class _UsageRow(msgspec.Struct, gc=False):
    starting_at: str
    group: _Group  # type: ignore[valid-type]
    usage: _Usage


class _CostRow(msgspec.Struct, gc=False):
    starting_at: str
    group: _CostGroup  # type: ignore[valid-type]
    cost: _Cost


_Row = TypeVar("_Row", _UsageRow, _CostRow)


class _Report(msgspec.Struct, Generic[_Row], gc=False):
    data: list[_Row]


_USAGE = msgspec.json.Decoder(_Report[_UsageRow])
_COST = msgspec.json.Decoder(_Report[_CostRow])


@functools.lru_cache(maxsize=2048)
def _hour_of(timestamp: str) -> dt.datetime:
    """The aware UTC hour a bucket starts; a page holds few distinct timestamps, so parse each once."""
    moment = _moment(timestamp)
    if moment is None or moment.minute or moment.second or moment.microsecond:
        raise MalformedResponseError(
            f"The Anthropic API sent an hourly page whose bucket starts at {timestamp!r}, not on the hour. "
            "Nothing hourly was stored; the next sync fetches it again."
        )
    return moment


def _dims(group: Any, organization_id: str | None) -> HourlyDimensions:
    return HourlyDimensions(group.organization_id or organization_id, group.workspace_id, group.model)


def parse_hourly_usage(body: bytes, organization_id: str | None) -> ReportPage[UsageRecord]:
    def decode() -> list[UsageRecord]:
        return [
            usage_record(_hour_of(row.starting_at), _dims(row.group, organization_id), row.usage)
            for row in _decode_report(_USAGE, body, "hourly usage").data
        ]

    return _lazy_page(body, "hourly usage", decode)


def parse_hourly_cost(body: bytes, organization_id: str | None) -> ReportPage[CostRecord]:
    def decode() -> list[CostRecord]:
        return [
            cost_record(
                _hour_of(row.starting_at),
                _dims(row.group, organization_id),
                row.cost,
                _breakdown_values(row.group),
            )
            for row in _decode_report(_COST, body, "hourly cost").data
        ]

    return _lazy_page(body, "hourly cost", decode)


class HourlySource:
    """Pages of the hourly grain for [start, end): whole UTC hours, at most 31 days."""

    def __init__(self, client: AdminApiClient, organization_id: str | None, page_limit: int = 1000) -> None:
        self._client = client
        self._organization_id = organization_id
        self._limit = page_limit

    def _params(
        self, start: dt.datetime, end: dt.datetime, group_by: tuple[str, ...], page: str | None
    ) -> dict[str, Any]:
        if end - start > MAX_HOURLY_RANGE:
            raise ValueError(f"hourly range {start}..{end} is longer than the API's 31 days")
        return report_params(start, end, "1h", group_by, self._limit, page)

    def iter_usage(self, start: dt.datetime, end: dt.datetime) -> Iterator[ReportPage[UsageRecord]]:
        org = self._organization_id
        return iter_pages(
            lambda cursor: parse_hourly_usage(
                self._client.get_analytics_page("usage", self._params(start, end, HOURLY.group_by, cursor)),
                org,
            ),
            what="hourly usage",
        )

    def iter_cost(self, start: dt.datetime, end: dt.datetime) -> Iterator[ReportPage[CostRecord]]:
        org = self._organization_id
        return iter_pages(
            lambda cursor: parse_hourly_cost(
                self._client.get_analytics_page(
                    "cost", self._params(start, end, HOURLY.cost_group_by, cursor)
                ),
                org,
            ),
            what="hourly cost",
        )
