"""Adjustments booked to a range of days: what revisions of closed months add to the stored cost shown.

The overview and `usageledger cost`'s tables show the stored cost and say beneath it what this adds; it
is its own small module so that `usageledger cost` does not load the month close to ask (its start is
measured by `bench/bench_cli.py`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Connection, func, select

from usageledger.reports.rows import usd_from_microcents
from usageledger.store.tables import connections, cost_adjustments

__all__ = ["adjustments_booked"]


def adjustments_booked(
    conn: Connection,
    tenant_id: int,
    start: dt.date | None,
    end: dt.date | None,
    organization: str | None = None,
    connection_id: int | None = None,
) -> Decimal | None:
    """Dollars of adjustments (revisions of closed months) booked on days [start, end) (None: unbounded);
    None when there are none. The overview's figures and `usageledger cost`'s tables are the stored cost:
    they say beside them what this adds."""
    a = cost_adjustments
    query = (
        select(func.count(), func.sum(a.c.amount_microcents))
        .join(connections, connections.c.id == a.c.connection_id)
        .where(connections.c.tenant_id == tenant_id)
    )
    if start is not None:
        query = query.where(a.c.booked_day >= start)
    if end is not None:
        query = query.where(a.c.booked_day < end)
    if organization is not None:
        query = query.where(a.c.organization_id == organization)
    if connection_id is not None:
        query = query.where(a.c.connection_id == connection_id)
    count, total = conn.execute(query).one()
    return usd_from_microcents(total) if count else None
