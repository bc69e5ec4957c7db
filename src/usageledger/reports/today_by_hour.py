"""Today so far by hour: what the hourly grain holds for the current UTC day, beside yesterday's same hours.

Read from the hourly rows the last sync stored (the lookback's days and today, workspace × model), so it is
as fresh as that sync; `synced_at` says when that was. Hours after the current one are not listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from usageledger.reports.rows import money_text
from usageledger.store import list_connections
from usageledger.store.hourly import hourly_totals

__all__ = ["HourCost", "TodayByHour", "today_by_hour", "today_by_hour_json"]

_HOUR = dt.timedelta(hours=1)
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class HourCost:
    hour: dt.datetime  # the UTC hour it starts
    amount: Decimal  # US dollars, exact
    tokens: int
    previous: Decimal | None  # the same hour yesterday, in dollars; None when yesterday is not kept by hour


@dataclass(frozen=True, slots=True)
class TodayByHour:
    day: dt.date
    hours: list[HourCost]  # midnight up to the current hour
    total: Decimal
    synced_at: dt.datetime | None  # the newest successful sync of these connections
    has_data: bool  # any hourly row at all (today's or yesterday's): else no sync has fetched hours yet


def _dollars(microcents: int) -> Decimal:
    return Decimal(microcents).scaleb(-8)  # micro-cents → dollars, exact


def today_by_hour(
    conn: Connection, tenant_id: int, now: dt.datetime, organization: str | None = None
) -> TodayByHour:
    """Today's hours (UTC) up to `now`'s, each with yesterday's same hour, for every connection of the
    tenant or one organization of theirs."""
    connections = list_connections(conn, tenant_id)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    current = now.replace(minute=0, second=0, microsecond=0)
    rows = hourly_totals(
        conn, [c.id for c in connections], midnight - _DAY, current + _HOUR, organization=organization
    )
    by_hour = {row.hour: row for row in rows}
    has_yesterday = any(row.hour < midnight for row in rows)
    hours = []
    hour = midnight
    while hour <= current:
        today, yesterday = by_hour.get(hour), by_hour.get(hour - _DAY)
        hours.append(
            HourCost(
                hour,
                _dollars(today.amount_microcents) if today else Decimal(0),
                today.tokens if today else 0,
                (_dollars(yesterday.amount_microcents) if yesterday else Decimal(0))
                if has_yesterday
                else None,
            )
        )
        hour += _HOUR
    synced = [c.last_sync_succeeded_at for c in connections if c.last_sync_succeeded_at is not None]
    return TodayByHour(
        day=midnight.date(),
        hours=hours,
        total=sum((h.amount for h in hours), Decimal(0)),
        synced_at=max(synced) if synced else None,
        has_data=bool(rows),
    )


def today_by_hour_json(today: TodayByHour) -> dict[str, Any]:
    """As the JSON API returns it: money as exact decimal strings, hours as RFC 3339 UTC."""
    return {
        "date": today.day.isoformat(),
        "total_usd": money_text(today.total),
        "synced_at": today.synced_at.isoformat() if today.synced_at else None,
        "has_hourly_data": today.has_data,
        "hours": [
            {
                "hour": h.hour.isoformat().replace("+00:00", "Z"),
                "cost_usd": money_text(h.amount),
                "tokens": h.tokens,
                "yesterday_cost_usd": money_text(h.previous),
            }
            for h in today.hours
        ],
    }
