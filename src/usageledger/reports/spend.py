"""A connection's spend at a glance: this month to date, last month, and the trend against the same days.

Read through `query_cost` (the one read model), so it equals the usage table's cost for the same days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection

from .periods import Period, comparable_previous, resolve_period
from .usage import UsageQuery, query_cost

__all__ = ["ConnectionSpend", "connection_spend"]


@dataclass(frozen=True, slots=True)
class ConnectionSpend:
    """Exact dollars; `change_pct` is None when the comparable days cost nothing (no trend to speak of)."""

    this_month: Period
    this_month_usd: Decimal
    last_month: Period
    last_month_usd: Decimal
    same_days: Period  # the days of last month comparable with this month so far
    same_days_usd: Decimal
    change_pct: Decimal | None


def _cost(conn: Connection, tenant_id: int, connection_id: int, period: Period) -> Decimal:
    query = UsageQuery(tenant_id=tenant_id, connection_id=connection_id, since=period.start,
                       until=period.last_day, group_by=())  # fmt: skip
    return query_cost(conn, query).totals.amount_usd


def connection_spend(
    conn: Connection, *, tenant_id: int, connection_id: int, today: dt.date
) -> ConnectionSpend:
    this_month = resolve_period("this-month", None, None, today=today)
    last_month = resolve_period("last-month", None, None, today=today)
    same_days = comparable_previous(this_month)
    now_usd = _cost(conn, tenant_id, connection_id, this_month)
    same_usd = _cost(conn, tenant_id, connection_id, same_days)
    same = (same_days.start, same_days.end) == (last_month.start, last_month.end)
    last_usd = same_usd if same else _cost(conn, tenant_id, connection_id, last_month)
    change = (now_usd - same_usd) * 100 / same_usd if same_usd else None
    return ConnectionSpend(this_month, now_usd, last_month, last_usd, same_days, same_usd, change)
