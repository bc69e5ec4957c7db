"""A chart's series that follow a table: the same filters and grouping, per day or per month, top N and Other.

Everything is read through `query_usage` (the one read model), in three bounded queries whatever the
number of groups: the top groups over the range, the total per bucket, and the top groups per bucket.
"Other" is the bucket's total minus the top groups, so the stacks add up to the table's totals exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy import Connection

from .rows import GROUP_KEYS, UsageRow
from .usage import COST_METRICS, UsageQuery, query_usage

__all__ = [
    "MAX_SERIES",
    "ChartData",
    "ChartSeries",
    "plan_bucket",
    "query_series",
    "series_dimensions",
]

MAX_SERIES = 8  # the top 7 groups and "Other", or the top 8 when there are no more
MONTHLY_AFTER_DAYS = 92  # a range longer than about a quarter is drawn month by month
_NO_VALUE_LABELS = {"model": "Server tools (no model)", "workspace": "Default workspace"}

Value = int | Decimal


def series_dimensions(group_by: tuple[str, ...]) -> tuple[str, ...]:
    """What the series are split by: the table's group fields that are not a period."""
    return tuple(g for g in group_by if g not in ("date", "month"))


def plan_bucket(group_by: tuple[str, ...], first: dt.date, last: dt.date) -> str:
    """`month` when the table is grouped by month alone or the range is longer than about a quarter; else `day`."""
    if "month" in group_by and "date" not in group_by:
        return "month"
    return "month" if (last - first).days + 1 > MONTHLY_AFTER_DAYS else "day"


@dataclass(frozen=True)
class ChartSeries:
    """One stack layer: its group values, what people read, and its value per bucket (missing = 0)."""

    key: tuple[str | None, ...]
    label: str
    values: dict[dt.date, Value]
    is_other: bool = False

    @property
    def colour_key(self) -> str:
        """Stable across pages and metrics: the group values, not their rank."""
        return "\x1f".join(v or "" for v in self.key) if not self.is_other else ""

    @property
    def total(self) -> Value:
        return sum(self.values.values(), self._zero())

    def _zero(self) -> Value:
        return next((Decimal(0) for v in self.values.values() if isinstance(v, Decimal)), 0)


@dataclass(frozen=True)
class ChartData:
    """The chart's whole picture: buckets oldest first, series biggest first (Other last), totals per bucket."""

    metric: str
    bucket: str  # day | month
    dimensions: tuple[str, ...]
    buckets: list[dt.date]  # a day, or the first day of a month
    series: list[ChartSeries]
    totals: dict[dt.date, Value]
    first_provisional: dt.date | None = None
    folded_groups: int = 0  # how many groups "Other" holds
    money: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "money", self.metric in COST_METRICS)

    def provisional(self, bucket: dt.date) -> bool:
        """A bucket holding any day that a sync still re-fetches."""
        if self.first_provisional is None:
            return False
        return _bucket_last_day(bucket, self.bucket) >= self.first_provisional


def _bucket_last_day(start: dt.date, bucket: str) -> dt.date:
    if bucket == "day":
        return start
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _bucket_of(row: UsageRow, bucket: str) -> dt.date:
    if bucket == "day":
        assert row.date is not None
        return row.date
    assert row.month is not None
    return dt.date.fromisoformat(f"{row.month}-01")


def _value(row: UsageRow, metric: str) -> Value:
    value = getattr(row, metric)
    if value is None:
        return Decimal(0) if metric in COST_METRICS else 0
    return value  # type: ignore[no-any-return]


def _label(dimension: str, row: UsageRow) -> str:
    value = getattr(row, GROUP_KEYS[dimension])
    if value is None:
        return _NO_VALUE_LABELS.get(dimension, "(none)")
    name = (
        getattr(row, f"{dimension}_name", None)
        if dimension in ("organization", "workspace", "api_key")
        else None
    )
    return str(name or value)


def _key(dimensions: tuple[str, ...], row: UsageRow) -> tuple[str | None, ...]:
    return tuple(getattr(row, GROUP_KEYS[d]) for d in dimensions)


def _span(first: dt.date, last: dt.date, bucket: str) -> list[dt.date]:
    out: list[dt.date] = []
    at = first if bucket == "day" else first.replace(day=1)
    while at <= last:
        out.append(at)
        at = (
            at + dt.timedelta(days=1)
            if bucket == "day"
            else _bucket_last_day(at, "month") + dt.timedelta(days=1)
        )
    return out


def query_series(
    conn: Connection,
    q: UsageQuery,
    *,
    metric: str,
    dimensions: tuple[str, ...],
    bucket: str,
    first_provisional: dt.date | None = None,
    max_series: int = MAX_SERIES,
) -> ChartData:
    """`metric` per bucket for `q`'s scope, range and filters, split by `dimensions` (top groups, then Other).

    `q`'s grouping, order and paging are ignored. Buckets cover `q`'s range, or the stored days when it is open.
    """
    with_cost = metric in COST_METRICS
    base = replace(q, group_by=(), limit=None, offset=0, order_by=None, descending=False,
                   with_cost=with_cost, newest_first=False)  # fmt: skip
    period = "date" if bucket == "day" else "month"
    totals_report = query_usage(conn, replace(base, group_by=(period,)))
    totals = {_bucket_of(r, bucket): _value(r, metric) for r in totals_report.rows}
    kept: list[UsageRow] = []
    folded = 0
    if dimensions:
        ranking = query_usage(
            conn, replace(base, group_by=dimensions, order_by=metric, descending=True, limit=max_series)
        )
        kept = ranking.rows if ranking.total_rows <= max_series else ranking.rows[: max_series - 1]
        folded = ranking.total_rows - len(kept)
    series = _top_series(conn, base, metric, dimensions, period, bucket, kept) if kept else []
    if not dimensions:
        series = [ChartSeries((), "All usage" if not with_cost else "All cost", dict(totals))]
    if folded:
        other = {
            b: total - sum((s.values.get(b, 0) for s in series), total * 0) for b, total in totals.items()
        }
        series.append(ChartSeries((), f"Other ({folded} more)", other, is_other=True))
    buckets: list[dt.date] = []
    if totals:
        first = q.since or min(totals)
        last = q.until or _bucket_last_day(max(totals), bucket)
        buckets = _span(first, last, bucket)
    return ChartData(metric, bucket, dimensions, buckets, series, totals, first_provisional, folded)


def _top_series(
    conn: Connection,
    base: UsageQuery,
    metric: str,
    dimensions: tuple[str, ...],
    period: str,
    bucket: str,
    kept: list[UsageRow],
) -> list[ChartSeries]:
    """The kept groups per bucket: filtered to their values (a superset), then matched on the whole key."""
    filters = {k: list(v) for k, v in base.filters.items()}
    for d in dimensions:
        filters[d] = sorted({getattr(r, GROUP_KEYS[d]) or "" for r in kept})
    detail = query_usage(conn, replace(base, group_by=(period, *dimensions), filters=filters))
    by_key: dict[tuple[str | None, ...], dict[dt.date, Value]] = {_key(dimensions, r): {} for r in kept}
    for row in detail.rows:
        values = by_key.get(_key(dimensions, row))
        if values is not None:
            values[_bucket_of(row, bucket)] = _value(row, metric)
    return [
        ChartSeries(
            _key(dimensions, r), " · ".join(_label(d, r) for d in dimensions), by_key[_key(dimensions, r)]
        )
        for r in kept
    ]
