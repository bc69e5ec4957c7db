"""Rollups: usage and cost summed per day to coarser grains, written with the rows they sum.

The API hands a window over whole (every row of every day in it), and the writer replaces the
window's stored rows with exactly those, so the window's rollups are the sums of the rows the writer
is handed. `RollupSums` adds them up page by page, cheaper than asking the database to read the
window back (measured ~2 µs a row for the SQL GROUP BY): a grain that no other grain contains is summed
from the rows, the others from the smallest such sum that holds them. `replace_window` swaps them in inside
the transaction that writes the window: a rollup is never ahead of or behind its rows. The daily grain's
monthly rollups are then summed again, by the database, from the daily rollups of every month the window
touches (a month of a connection's rollup rows, read by its primary key: what a window wrote is only part
of a month, so the other days have to be read anyway), in the same transaction.
`table_for` picks the smallest table that has every column a query needs; `monthly_for` its monthly twin.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from operator import add, itemgetter
from typing import Any

from sqlalchemy import Date, Table, delete, func, insert, literal, select
from sqlalchemy.engine import Connection

from usageledger.models import DAILY, Grain

from .bulk import BulkInsert
from .tables import (
    GRAIN_ROLLUPS,
    MONTHLY_ROLLUPS,
    cost_rollups,
    cost_rows,
    metadata,
    usage_rollups,
    usage_rows,
)

__all__ = ["RollupSums", "delete_rollups", "monthly_for", "next_month", "rebuild_months", "table_for"]


def _base_grains(grains: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Grain → the grain it is summed from: itself when no other grain holds all its dimensions (a base,
    summed from the rows), else the smallest grain that does (summed from that base's sums, far fewer)."""

    def holds(big: str, small: str) -> bool:
        return big != small and set(grains[small]) <= set(grains[big])

    bases = [g for g in grains if not any(holds(other, g) for other in grains)]
    return {
        grain: grain
        if grain in bases
        else min((b for b in bases if holds(b, grain)), key=lambda b: len(grains[b]))
        for grain in grains
    }


def _metrics(rollup: Table, dims: Sequence[str]) -> list[str]:
    return [c.name for c in rollup.columns if c.name not in ("connection_id", "day", *dims)]


class RollupSums:
    """One kind's rows of a window (usage or cost) summed to every rollup of its grain as they are written.

    `columns` names the positions of the row tuples `add` receives (the writer's insert columns).

    `add` only files each row's numbers under its key in every base grain (an append: this is the hot
    path, ~1.2 µs a cost row for three bases against ~2.6 to add them up row by row); each key's numbers
    are summed once, column by column in C (`zip`, `sum`), when the window is replaced.

    A metric the source may not report (`requests`, NULL in its rows) is summed as SQL's SUM does: a
    NULL is skipped, all NULL stays NULL. A sum carries such a metric as its value (0 for NULL) plus a
    count of the rows that reported it, appended to the sums, so that the coarser grains are one C-level
    `map(add, …)` of the base's; a count of 0 is written as NULL.
    """

    def __init__(self, grain: Grain, kind: str, columns: Sequence[str]) -> None:
        self._grains = grain.rollups if kind == "usage" else grain.all_cost_rollups()
        self._rollups = GRAIN_ROLLUPS[grain.name][kind]
        self._monthly = MONTHLY_ROLLUPS[kind] if grain.name == DAILY.name else {}
        self._summed_from = _base_grains(self._grains)
        bases = tuple(dict.fromkeys(self._summed_from.values()))
        self._metric_names = _metrics(self._rollups[bases[0]], self._grains[bases[0]])
        self._values_of = itemgetter(*[columns.index(name) for name in self._metric_names])
        rows = metadata.tables[grain.usage_table if kind == "usage" else grain.cost_table]
        nullable = [i for i, name in enumerate(self._metric_names) if rows.c[name].nullable]
        if len(nullable) > 1:  # the schema has one (requests); more would need a count each
            raise ValueError(f"{rows.name}: more than one nullable metric {nullable}")
        self._nullable = nullable[0] if nullable else None
        # Each base grain's rows, as (day, its dimensions) → the numbers of every row with that key.
        self._base_keys = [
            (base, itemgetter(*[columns.index(name) for name in ("day", *self._grains[base])]))
            for base in bases
        ]
        self._filed: dict[str, defaultdict[tuple[Any, ...], list[tuple[Any, ...]]]] = {
            base: defaultdict(list) for base in bases
        }

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        values = list(map(self._values_of, rows))
        for base, key_of in self._base_keys:
            filed = self._filed[base]
            for key, numbers in zip(map(key_of, rows), values, strict=True):
                filed[key].append(numbers)

    def _sum(self, numbers: list[tuple[Any, ...]]) -> tuple[Any, ...]:
        """The numbers of one key's rows summed per metric (the nullable one as its sum and a count)."""
        columns = list(zip(*numbers, strict=True))
        at = self._nullable
        if at is None:
            return tuple(map(sum, columns))
        reported = [value for value in columns[at] if value is not None]
        return (*map(sum, columns[:at]), sum(reported), *map(sum, columns[at + 1 :]), len(reported))

    def _base_sums(self, base: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        return {key: self._sum(numbers) for key, numbers in self._filed[base].items()}

    def _grain(
        self, grain: str, base_sums: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]
    ) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        base = self._summed_from[grain]
        if base == grain:
            return base_sums[grain]
        base_dims = self._grains[base]
        key_of = itemgetter(0, *[1 + base_dims.index(name) for name in self._grains[grain]])
        coarser: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for key, values in base_sums[base].items():
            coarse = key_of(key)
            old = coarser.get(coarse)
            coarser[coarse] = values if old is None else tuple(map(add, old, values))
        return coarser

    def _stored(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        """A sum as the rollup stores it: the nullable metric NULL when no row reported it, no count."""
        at = self._nullable
        if at is None:
            return values
        return values[:at] + (values[at] if values[-1] else None,) + values[at + 1 : -1]

    def replace_window(self, conn: Connection, connection_id: int, start: dt.date, end: dt.date) -> None:
        """Replace the rollups of days [start, end) of one connection with these sums."""
        base_sums = {base: self._base_sums(base) for base in self._filed}
        for name, dims in self._grains.items():
            rollup = self._rollups[name]
            conn.execute(
                delete(rollup).where(
                    rollup.c.connection_id == connection_id, rollup.c.day >= start, rollup.c.day < end
                )
            )
            sums = self._grain(name, base_sums)
            if not sums:
                continue
            columns = ("connection_id", "day", *dims, *self._metric_names)
            BulkInsert(conn, rollup.name, columns).send(
                conn, [(connection_id, *key, *self._stored(values)) for key, values in sums.items()]
            )
        for name, monthly in self._monthly.items():
            rebuild_months(conn, self._rollups[name], monthly, connection_id, start, end)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def rebuild_months(
    conn: Connection, daily: Table, monthly: Table, connection_id: int, start: dt.date, end: dt.date
) -> None:
    """Sum `daily` again into `monthly` for every month that days [start, end) of one connection touch."""
    keys = [c.name for c in monthly.primary_key.columns if c.name not in ("connection_id", "month")]
    sums = [c.name for c in monthly.columns if not c.primary_key]
    month = start.replace(day=1)
    conn.execute(
        delete(monthly).where(
            monthly.c.connection_id == connection_id, monthly.c.month >= month, monthly.c.month < end
        )
    )
    while month < end:
        after = next_month(month)
        summed = (
            select(
                daily.c.connection_id,
                literal(month, Date),
                *[daily.c[k] for k in keys],
                *[func.sum(daily.c[m]) for m in sums],
            )
            .where(daily.c.connection_id == connection_id, daily.c.day >= month, daily.c.day < after)
            .group_by(daily.c.connection_id, *[daily.c[k] for k in keys])
        )
        conn.execute(insert(monthly).from_select(["connection_id", "month", *keys, *sums], summed))
        month = after


def delete_rollups(conn: Connection, connection_id: int) -> None:
    for rollup in (
        *(
            table
            for kinds in GRAIN_ROLLUPS.values()
            for tables in kinds.values()
            for table in tables.values()
        ),
        *(table for tables in MONTHLY_ROLLUPS.values() for table in tables.values()),
    ):
        conn.execute(delete(rollup).where(rollup.c.connection_id == connection_id))


def table_for(kind: str, columns: Iterable[str]) -> Table:
    """The smallest usage/cost table holding every column named (the base rows when no rollup does)."""
    needed = set(columns)
    rollups = usage_rollups if kind == "usage" else cost_rollups
    # Declared smallest first (rows a day), the shared ones before the cost-only ones (which break cost
    # out further), so the first that holds them wins.
    for name in rollups:
        if needed <= set(rollups[name].columns.keys()):
            return rollups[name]
    return usage_rows if kind == "usage" else cost_rows


def monthly_for(kind: str, columns: Iterable[str]) -> Table | None:
    """The monthly twin of `table_for`'s rollup; None when only the rows hold every column named."""
    daily = table_for(kind, columns)
    rollups = usage_rollups if kind == "usage" else cost_rollups
    name = next((n for n, t in rollups.items() if t is daily), None)
    return None if name is None else MONTHLY_ROLLUPS[kind][name]
