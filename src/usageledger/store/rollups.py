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


def refresh_rollups(conn: Connection, connection_id: int, start: dt.date, end: dt.date) -> None:
    """Re-sum the days [start, end) of one connection into every rollup."""
    for base, rollup, dims in _pairs():
        in_window = (rollup.c.connection_id == connection_id, rollup.c.day >= start, rollup.c.day < end)
        conn.execute(delete(rollup).where(*in_window))
        sums = [c.name for c in rollup.columns if c.name not in ("connection_id", "day", *dims)]
        summed = (
            select(
                base.c.connection_id,
                base.c.day,
                *[base.c[d] for d in dims],
                *[func.sum(base.c[m]).label(m) for m in sums],
            )
            .where(base.c.connection_id == connection_id, base.c.day >= start, base.c.day < end)
            .group_by(base.c.connection_id, base.c.day, *[base.c[d] for d in dims])
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
