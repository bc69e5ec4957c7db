"""Rollups: usage and cost summed per day to coarser grains, written with the rows they sum.

The API hands a window over whole (every row of every day in it), and the writer replaces the
window's stored rows with exactly those, so the window's rollups are the sums of the rows the writer
is handed. `RollupSums` adds them up page by page, cheaper than asking the database to read the
window back (measured ~2 µs a row for the SQL GROUP BY), and `replace_window` swaps them in inside
the transaction that writes the window: a rollup is never ahead of or behind its rows.
`table_for` picks the smallest table that has every column a query needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from operator import add, itemgetter
from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.engine import Connection

from usageledger.models import DAILY, Grain

from .bulk import BulkInsert
from .tables import cost_rollups, cost_rows, usage_rollups, usage_rows

__all__ = ["RollupSums", "delete_rollups", "table_for"]


def _finest(rollups: dict[str, tuple[str, ...]]) -> str:
    """Every rollup is summed from the finest one, so the finest must hold every other's dimensions."""
    finest = max(rollups, key=lambda name: len(rollups[name]))
    if not all(set(dims) <= set(rollups[finest]) for dims in rollups.values()):
        raise ValueError(f"rollup {finest} does not hold every other rollup's dimensions")
    return finest


def _add_nullable(a: int | None, b: int | None) -> int | None:
    """SQL's SUM: a NULL (a metric the source does not report) is skipped; all NULL stays NULL."""
    if a is None:
        return b
    return a if b is None else a + b


def _metrics(rollup: Table, dims: Sequence[str]) -> list[str]:
    return [c.name for c in rollup.columns if c.name not in ("connection_id", "day", *dims)]


class RollupSums:
    """One kind's rows of a window (usage or cost) summed to every rollup of its grain as they are written.

    `columns` names the positions of the row tuples `add` receives (the writer's insert columns).
    """

    def __init__(self, grain: Grain, kind: str, columns: Sequence[str]) -> None:
        self._grains = grain.rollups
        self._rollups = usage_rollups if kind == "usage" else cost_rollups
        finest = _finest(self._grains)
        self._dims = self._grains[finest]
        self._metric_names = _metrics(self._rollups[finest], self._dims)
        self._key_of = itemgetter(*[columns.index(name) for name in ("day", *self._dims)])
        self._values_of = itemgetter(*[columns.index(name) for name in self._metric_names])
        self._sums: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        sums, key_of, values_of = self._sums, self._key_of, self._values_of
        for row in rows:
            key = key_of(row)
            values = values_of(row)
            old = sums.get(key)
            if old is None:
                sums[key] = values
                continue
            try:
                sums[key] = tuple(map(add, old, values))
            except TypeError:  # a NULL metric somewhere: sum the SQL way
                sums[key] = tuple(map(_add_nullable, old, values))

    def _grain(self, dims: Sequence[str]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        if tuple(dims) == self._dims:
            return self._sums
        key_of = itemgetter(0, *[1 + self._dims.index(name) for name in dims])
        coarser: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for key, values in self._sums.items():
            coarse = key_of(key)
            old = coarser.get(coarse)
            coarser[coarse] = values if old is None else tuple(map(_add_nullable, old, values))
        return coarser

    def replace_window(self, conn: Connection, connection_id: int, start: dt.date, end: dt.date) -> None:
        """Replace the rollups of days [start, end) of one connection with these sums."""
        for name, dims in self._grains.items():
            rollup = self._rollups[name]
            conn.execute(
                delete(rollup).where(
                    rollup.c.connection_id == connection_id, rollup.c.day >= start, rollup.c.day < end
                )
            )
            sums = self._grain(dims)
            if not sums:
                continue
            columns = ("connection_id", "day", *dims, *self._metric_names)
            BulkInsert(conn, rollup.name, columns).send(
                conn, [(connection_id, *key, *values) for key, values in sums.items()]
            )


def delete_rollups(conn: Connection, connection_id: int) -> None:
    for rollup in (*usage_rollups.values(), *cost_rollups.values()):
        conn.execute(delete(rollup).where(rollup.c.connection_id == connection_id))


def table_for(kind: str, columns: Iterable[str]) -> Table:
    """The smallest usage/cost table holding every column named (the base rows when no rollup does)."""
    needed = set(columns)
    rollups = usage_rollups if kind == "usage" else cost_rollups
    for name in sorted(DAILY.rollups, key=lambda rollup: len(DAILY.rollups[rollup])):  # smallest first
        if needed <= set(rollups[name].columns.keys()):
            return rollups[name]
    return usage_rows if kind == "usage" else cost_rows
