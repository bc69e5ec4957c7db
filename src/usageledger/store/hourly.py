"""The hourly grain's rows: replaced whole by each sync that fetches them, and read back summed by hour.

Only the recent days are kept by hour (the sync fetches the lookback and today), so a sync's hourly pages
are the connection's whole hourly data: `replace_hours` deletes what was stored and inserts the new rows
in the caller's transaction. A row listed twice (a page cursor that led back) fails the replacement and
leaves the old rows in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from usageledger.models import HOURLY, TOKEN_METRICS, CostRecord, UsageRecord
from usageledger.store.bulk import BulkInsert
from usageledger.store.tables import hourly_cost_rows, hourly_usage_rows
from usageledger.store.upsert import RepeatedRowError, cents_to_microcents

__all__ = ["HourTotal", "hourly_totals", "replace_hours"]


def _same(value: Any) -> Any:
    return value


def _columns(key: tuple[str, ...], metrics: tuple[str, ...]) -> tuple[str, ...]:
    return ("connection_id", HOURLY.bucket_column, *key, *metrics, "sync_run_id")


def replace_hours(
    conn: Connection,
    connection_id: int,
    run_id: int,
    usage: Iterable[UsageRecord],
    cost: Iterable[CostRecord],
) -> tuple[int, int]:
    """Replace the connection's hourly rows with these records; returns (usage rows, cost rows) stored."""
    # Hours bound as the column's type binds them (SQLite keeps naive UTC text), then sent in bulk.
    bind: Callable[[Any], Any] = hourly_usage_rows.c.hour.type.bind_processor(conn.dialect) or _same
    hours: dict[dt.date, Any] = {}

    def hour(value: dt.date) -> Any:
        bound = hours.get(value)
        if bound is None:
            bound = hours[value] = bind(value)
        return bound

    usage_rows = [(connection_id, hour(r[0]), *(v or "" for v in r[1]), *r[2:], run_id) for r in usage]
    cost_rows = [
        (
            connection_id,
            hour(day),
            *(v or "" for v in dims),
            *(v or "" for v in breakdown),
            cents_to_microcents(amount),
            cents_to_microcents(list_amount),
            currency,
            requests,
            run_id,
        )
        for day, dims, amount, list_amount, currency, requests, breakdown in cost
    ]
    for table in (hourly_usage_rows, hourly_cost_rows):
        conn.execute(delete(table).where(table.c.connection_id == connection_id))
    targets = (
        ("usage", hourly_usage_rows.name, _columns(HOURLY.dimensions, HOURLY.usage_metrics), usage_rows),
        ("cost", hourly_cost_rows.name, _columns(HOURLY.cost_dimensions, HOURLY.cost_metrics), cost_rows),
    )
    for kind, table_name, columns, rows in targets:
        try:
            BulkInsert(conn, table_name, columns).send(conn, rows)
        except IntegrityError as exc:
            if "unique" not in str(exc.orig).lower():
                raise
            raise RepeatedRowError(f"hourly {kind}") from None
    return len(usage_rows), len(cost_rows)


@dataclass(frozen=True, slots=True)
class HourTotal:
    """One hour's spend and tokens, summed over the rows asked for."""

    hour: dt.datetime
    amount_microcents: int
    tokens: int  # every input and output token: uncached, cache reads and writes, output
    requests: int | None


def hourly_totals(
    conn: Connection,
    connection_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    organization: str | None = None,
) -> list[HourTotal]:
    """Cost and tokens per stored hour in [start, end) for these connections (and one organization of
    theirs, when given), oldest first.

    An hour with no row is absent (no usage, or not fetched): the caller knows which hours it asked for.
    """
    if not connection_ids:
        return []
    sums: dict[dt.datetime, list[int | None]] = {}
    for table in (hourly_usage_rows, hourly_cost_rows):
        c = table.c
        where = [c.connection_id.in_(connection_ids), c.hour >= start, c.hour < end]
        if organization is not None:
            where.append(c.organization_id == organization)
        if table is hourly_usage_rows:
            measures = [sum((c[name] for name in TOKEN_METRICS[1:]), c[TOKEN_METRICS[0]]), c.requests]
        else:
            measures = [c.amount_microcents]
        query = select(c.hour, *(func.sum(m) for m in measures)).where(*where).group_by(c.hour)
        for row in conn.execute(query):
            entry = sums.setdefault(row[0], [0, 0, None])
            if table is hourly_usage_rows:
                entry[1] = int(row[1] or 0)
                entry[2] = None if row[2] is None else int(row[2])
            else:
                entry[0] = int(row[1] or 0)
    return [
        HourTotal(hour, int(values[0] or 0), int(values[1] or 0), values[2])
        for hour, values in sorted(sums.items())
    ]
