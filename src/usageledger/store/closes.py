"""Closed months and the adjustments booked after a close.

A month is closed per connection (one organization): its cost rows are frozen from then on. The window
writer (store.upsert) asks `frozen_days` which days of a window it must keep as they are, and hands a
re-fetched closed day's numbers to `book_revisions`, which stores the difference from what was known (the
frozen row plus the adjustments booked before) as adjustments in the first open month, and raises one
`adjustment` event. Nothing here rewrites a closed number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from usageledger.models import DAILY
from usageledger.store.runs import add_event
from usageledger.store.tables import connections, cost_adjustments, month_closes

__all__ = [
    "MonthCloseRow",
    "book_revisions",
    "first_open_month",
    "frozen_days",
    "list_month_closes",
    "lock_for_close",
    "set_invoiced",
    "set_month_closed",
]

_KEY = DAILY.cost_dimensions  # the natural key after connection and day
# The cost rows' numbers in the writer's order (models.DAILY.cost_metrics): amount, list amount, currency, requests.
_AMOUNT, _LIST, _CURRENCY = (
    DAILY.cost_metrics.index(n) for n in ("amount_microcents", "list_amount_microcents", "currency")
)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True, slots=True)
class MonthCloseRow:
    connection_id: int
    month: dt.date
    closed: bool
    reported_microcents: int | None
    invoiced_microcents: int | None
    closed_at: dt.datetime | None
    closed_by: str | None
    invoice_entered_at: dt.datetime | None
    invoice_entered_by: str | None


def list_month_closes(conn: Connection, tenant_id: int, month: dt.date | None = None) -> list[MonthCloseRow]:
    """The tenant's month records (closed or with an invoice entered), optionally of one month."""
    t = month_closes
    query = select(
        t.c.connection_id, t.c.month, t.c.closed, t.c.reported_microcents, t.c.invoiced_microcents,
        t.c.closed_at, t.c.closed_by, t.c.invoice_entered_at, t.c.invoice_entered_by,
    ).where(t.c.tenant_id == tenant_id)  # fmt: skip
    if month is not None:
        query = query.where(t.c.month == month)
    return [MonthCloseRow(*row) for row in conn.execute(query.order_by(t.c.month, t.c.connection_id))]


def _ensure_row(conn: Connection, tenant_id: int, connection_id: int, month: dt.date) -> None:
    exists = conn.execute(
        select(month_closes.c.id).where(
            month_closes.c.connection_id == connection_id, month_closes.c.month == month
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(month_closes).values(
                tenant_id=tenant_id, connection_id=connection_id, month=month, closed=False
            )
        )


def _where(connection_id: int, month: dt.date) -> Any:
    return and_(month_closes.c.connection_id == connection_id, month_closes.c.month == month)


def set_invoiced(
    conn: Connection, tenant_id: int, connection_id: int, month: dt.date, microcents: int, by: str
) -> None:
    """Record finance's invoiced amount for a connection's month (replacing an earlier entry)."""
    _ensure_row(conn, tenant_id, connection_id, month)
    conn.execute(
        update(month_closes)
        .where(_where(connection_id, month))
        .values(
            invoiced_microcents=microcents, invoice_entered_at=dt.datetime.now(dt.UTC), invoice_entered_by=by
        )
    )


def lock_for_close(conn: Connection, tenant_id: int) -> None:
    """Take the write lock a sync's window takes (the connection rows; SQLite: the database) before a close
    reads the month: a window either committed before (and the close sees its rows) or waits for the close
    (and its writer sees the month closed). A no-op UPDATE, so SQLite never upgrades a read transaction."""
    conn.execute(update(connections).where(connections.c.tenant_id == tenant_id).values(id=connections.c.id))


def set_month_closed(
    conn: Connection,
    tenant_id: int,
    connection_id: int,
    month: dt.date,
    *,
    closed: bool,
    by: str,
    reported_microcents: int | None = None,
) -> None:
    """Close (with the month's stored cost at that moment) or reopen a connection's month."""
    _ensure_row(conn, tenant_id, connection_id, month)
    values: dict[str, Any] = {"closed": closed, "closed_by": by, "closed_at": dt.datetime.now(dt.UTC)}
    if closed:
        values["reported_microcents"] = reported_microcents
    conn.execute(update(month_closes).where(_where(connection_id, month)).values(**values))


def _closed_months(conn: Connection, connection_id: int, start: dt.date, end: dt.date) -> set[dt.date]:
    t = month_closes
    rows = conn.execute(
        select(t.c.month).where(
            t.c.connection_id == connection_id, t.c.closed, t.c.month >= _month_start(start), t.c.month < end
        )
    )
    return {row[0] for row in rows}


def frozen_days(conn: Connection, connection_id: int, start: dt.date, end: dt.date) -> frozenset[dt.date]:
    """The days of [start, end) in the connection's closed months: their stored rows must not change."""
    months = _closed_months(conn, connection_id, start, end)
    if not months:
        return frozenset()
    days, day = set(), start
    while day < end:
        if _month_start(day) in months:
            days.add(day)
        day += dt.timedelta(days=1)
    return frozenset(days)


def first_open_month(conn: Connection, connection_id: int, after: dt.date) -> dt.date:
    """The first month after `after`'s month that the connection has not closed."""
    month = _next_month(after)
    closed = _closed_months(conn, connection_id, month, month + dt.timedelta(days=3660))
    while month in closed:
        month = _next_month(month)
    return month


def _booked_day(month: dt.date, today: dt.date) -> dt.date:
    """Today if it falls in the booked month; else the nearest day of that month."""
    last = _next_month(month) - dt.timedelta(days=1)
    return min(max(today, month), last)


def _known(
    conn: Connection, connection_id: int, days: Iterable[dt.date]
) -> dict[tuple[Any, ...], tuple[int, int]]:
    """The adjustments already booked for these days: natural key → (amount, list amount) deltas summed."""
    a = cost_adjustments
    query = (
        select(
            a.c.day,
            *(a.c[k] for k in _KEY),
            func.sum(a.c.amount_microcents),
            func.sum(a.c.list_amount_microcents),
        )
        .where(a.c.connection_id == connection_id, a.c.day.in_(sorted(set(days))))
        .group_by(a.c.day, *(a.c[k] for k in _KEY))
    )
    return {tuple(row[:-2]): (int(row[-2]), int(row[-1])) for row in conn.execute(query)}


def book_revisions(
    conn: Connection,
    connection_id: int,
    run_id: int,
    frozen: Mapping[tuple[Any, ...], tuple[Any, ...]],
    revised: Mapping[tuple[Any, ...], tuple[Any, ...]],
) -> int:
    """Book what a re-fetch of closed days changed, as adjustments; returns how many were booked.

    `frozen` and `revised` map a natural key (day as stored, then `_KEY`) to the cost numbers, before and as
    re-fetched; a key missing from `revised` vanished upstream (its delta takes the whole amount back). The
    delta is taken against the frozen row plus the adjustments booked before, so fetching the same
    revision twice books it once.
    """
    as_date = {raw: _as_date(raw) for raw in {key[0] for key in (*frozen, *revised)}}
    if not as_date:
        return 0
    # Earlier adjustments, keyed like `frozen` (the day as the writer binds it), so most keys cost one lookup.
    raw_of = {day: raw for raw, day in as_date.items()}
    booked = {(raw_of[key[0]], *key[1:]): v for key, v in _known(conn, connection_id, raw_of).items()}
    today = dt.datetime.now(dt.UTC).date()
    now = dt.datetime.now(dt.UTC)
    months: dict[dt.date, dt.date] = {}
    rows: list[dict[str, Any]] = []
    total = 0
    no_prior = (0, 0)
    for key in frozen.keys() | revised.keys():
        old, new = frozen.get(key), revised.get(key)
        prior_amount, prior_list = booked.get(key, no_prior)
        known_amount = (int(old[_AMOUNT]) if old else 0) + prior_amount
        known_list = (int(old[_LIST]) if old else 0) + prior_list
        new_amount, new_list = (int(new[_AMOUNT]), int(new[_LIST])) if new else (0, 0)
        if new_amount == known_amount and new_list == known_list:
            continue
        day = as_date[key[0]]
        month = months.get(_month_start(day))
        if month is None:
            month = months[_month_start(day)] = first_open_month(conn, connection_id, day)
        currency = (new or old or ("USD",) * (_CURRENCY + 1))[_CURRENCY]
        rows.append({
            "connection_id": connection_id, "day": day, "booked_month": month,
            "booked_day": _booked_day(month, today), **dict(zip(_KEY, key[1:], strict=True)),
            "amount_microcents": new_amount - known_amount, "list_amount_microcents": new_list - known_list,
            "revised_amount_microcents": new_amount, "currency": currency, "sync_run_id": run_id,
            "created_at": now,
        })  # fmt: skip
        total += new_amount - known_amount
    if not rows:
        return 0
    conn.execute(insert(cost_adjustments), rows)
    _raise_event(conn, connection_id, rows, total)
    return len(rows)


def _as_date(value: Any) -> dt.date:
    """A day as the writer binds it: ISO text on SQLite, a date elsewhere."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _raise_event(conn: Connection, connection_id: int, rows: list[dict[str, Any]], total: int) -> None:
    tenant_id = conn.execute(
        select(connections.c.tenant_id).where(connections.c.id == connection_id)
    ).scalar_one()
    days = sorted({r["day"] for r in rows})
    booked = sorted({r["booked_month"].strftime("%Y-%m") for r in rows})
    dollars = _dollars(total)
    add_event(
        conn,
        tenant_id=tenant_id,
        connection_id=connection_id,
        kind="adjustment",
        level="warning",
        message=(
            f"Anthropic revised {len(days)} day(s) of a closed month ({', '.join(d.isoformat() for d in days)}): "
            f"{dollars} booked as an adjustment to {', '.join(booked)}; the closed month is unchanged."
        ),
        details={
            "days": [d.isoformat() for d in days],
            "booked_months": booked,
            "rows": len(rows),
            "amount_microcents": total,
        },
    )


def _dollars(microcents: int) -> str:
    """Exact dollars with a sign, to the cent (micro-cents are 1e-8 USD): for messages only."""
    value = Decimal(microcents).scaleb(-8).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return f"{'+' if value >= 0 else '-'}${abs(value):,}"
