"""The hourly grain's rows: replaced by each sync that fetches them, and read back summed by hour.

Only the recent days are kept by hour (the sync fetches the lookback and today), so a sync's hourly pages
are the connection's whole hourly data: `replace_hours` makes the stored rows equal to them in the
caller's transaction. Past hours rarely move, so it writes only what did: a row whose numbers are
unchanged is left as it is, a changed or new one is upserted, a stored one no longer listed (the day
that left the lookback) is deleted. An hourly sync of a large organization then writes the hour or two
that moved instead of deleting and inserting its ~18,800 rows again, which is what a database serving
many organizations pays for in WAL, index churn and vacuum. A row listed twice (a page cursor that led
back) fails the replacement before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from usageledger.models import HOURLY, TOKEN_METRICS, CostRecord, UsageRecord
from usageledger.store.bulk import BulkInsert, parameter_mark
from usageledger.store.tables import hourly_cost_rows, hourly_usage_rows
from usageledger.store.upsert import (
    RepeatedRowError,
    cents_to_microcents,
    delete_by_key_sql,
    on_conflict_update_sql,
)

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
    """Make the connection's hourly rows these records; returns (usage rows, cost rows) now stored.

    Rows written (changed or new) carry `run_id`; unchanged rows keep the run that wrote them.
    """
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
    targets = (
        ("usage", hourly_usage_rows.name, HOURLY.dimensions, HOURLY.usage_metrics, usage_rows),
        ("cost", hourly_cost_rows.name, HOURLY.cost_dimensions, HOURLY.cost_metrics, cost_rows),
    )
    # Both kinds are checked for repeats before either is written.
    listed = [_by_key(kind, rows, len(key)) for kind, _, key, _, rows in targets]
    for (_, table, key, metrics, _), rows_by_key in zip(targets, listed, strict=True):
        _make_equal(conn, connection_id, table, key, metrics, rows_by_key)
    return len(usage_rows), len(cost_rows)


def _as_bound(hour: Any) -> Any:
    """A stored hour as `replace_hours` binds it: SQLite hands back the text its adapter wrote for the
    naive UTC datetime bound; PostgreSQL an aware datetime, equal to the one bound."""
    return dt.datetime.fromisoformat(hour) if isinstance(hour, str) else hour


def _by_key(kind: str, rows: list[tuple[Any, ...]], key_width: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The rows by natural key (hour and `key`'s values); a key listed twice is a RepeatedRowError."""
    by_key: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        natural = row[1 : 2 + key_width]
        if natural in by_key:
            raise RepeatedRowError(f"hourly {kind}")
        by_key[natural] = row
    return by_key


def _make_equal(
    conn: Connection,
    connection_id: int,
    table: str,
    key: tuple[str, ...],
    metrics: tuple[str, ...],
    rows_by_key: dict[tuple[Any, ...], tuple[Any, ...]],
) -> None:
    """Write the rows whose numbers differ from those stored (or are not stored), delete those not listed."""
    mark = parameter_mark(conn)
    bucket = HOURLY.bucket_column
    width = 1 + len(key)  # the hour and the natural key, as stored: compared with the rows as bound
    result = conn.exec_driver_sql(
        f"SELECT {bucket}, {', '.join((*key, *metrics))} FROM {table} WHERE connection_id = {mark}",
        (connection_id,),
    )
    # Natural key as bound → (the key as stored, numbers): a row no longer listed is deleted by the former.
    stored = {(_as_bound(row[0]), *row[1:width]): (tuple(row[:width]), tuple(row[width:])) for row in result}
    numbers = slice(1 + width, -1)
    new, revised = [], []
    for natural, row in rows_by_key.items():
        before = stored.pop(natural, None)
        if before is None:
            new.append(row)
        elif before[1] != row[numbers]:
            revised.append(row)
    if stored:  # listed no more: mostly the day that left the lookback
        conn.exec_driver_sql(
            delete_by_key_sql(key, table, mark, bucket),
            [(connection_id, *as_stored) for as_stored, _ in stored.values()],
        )
    columns = _columns(key, metrics)
    # New keys go in plainly (a COPY on PostgreSQL, several times faster than an upsert), revised ones
    # replace their numbers.
    BulkInsert(conn, table, columns).send(conn, new)
    BulkInsert(conn, table, columns, on_conflict_update_sql(key, metrics, bucket)).send(conn, revised)


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
