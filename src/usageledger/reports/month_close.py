"""Month close and reconciliation, the read model: each month's state per organization, reported cost beside
the invoiced amount, and the reasons we can see for the difference. One object for the CLI, pages and API.

A month of a connection is
- `open` while it has not ended (it holds today or is still to come);
- `provisional` once ended while some of its days may still change: inside the re-fetch lookback (each
  sync fetches them again because Anthropic revises recent days) or not yet stored by a sync;
- `settled` when none of its days can change any more;
- `closed` once finance closed it: its cost rows are frozen (store.closes), later revisions of its days are
  adjustments booked to the first open month.

The month's reported cost is its stored cost plus the adjustments booked into it, so the FOCUS export
(which writes each adjustment as a row) adds up to it to the cent. Money is integer micro-cents (1e-8 USD)
until it becomes Decimal dollars; never a float.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection, func, select

from usageledger.reports.periods import first_provisional_day
from usageledger.store.closes import MonthCloseRow, list_month_closes
from usageledger.store.tables import connections, cost_adjustments, cost_rollups

__all__ = [
    "MONTH_STATES",
    "MonthReconciliation",
    "OrganizationMonth",
    "Reason",
    "month_of",
    "read_months",
    "read_reconciliation",
    "reconciliation_json",
    "plan_reasons",
    "usd",
]

# state -> what it means, declared once for the CLI, the pages and the API's documentation.
MONTH_STATES: dict[str, str] = {
    "open": "The month has not ended yet.",
    "provisional": "Ended, but some days may still change (inside the re-fetch lookback, or not yet synced).",
    "settled": "Every day is past the re-fetch lookback and stored: the numbers will not change any more.",
    "closed": "Closed by finance: frozen; later revisions appear as adjustments in the next open month.",
}
_COST_SUMS = cost_rollups["model"]  # the smallest cost rollup: day × organization × model


def usd(microcents: int) -> Decimal:
    """Exact dollars: one micro-cent is 1e-8 USD."""
    return Decimal(microcents).scaleb(-8)


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True, slots=True)
class Reason:
    """One explanation of a difference: a code (stable, for the API), its words, an amount when known."""

    code: str
    text: str
    amount_microcents: int | None = None


@dataclass(slots=True)
class OrganizationMonth:
    """One connection's month: its state, stored cost, adjustments and (when entered) the invoiced amount."""

    connection_id: int
    connection_name: str
    organization_id: str
    organization_name: str
    month: dt.date
    state: str = "open"
    stored_microcents: int = 0  # the month's cost rows (frozen when closed)
    adjustments_in_microcents: int = 0  # revisions of earlier closed months, booked to this one
    adjustments_out_microcents: int = 0  # revisions of this closed month, booked to later ones
    adjustments_out_to: list[str] = field(default_factory=list)  # the months they were booked to
    provisional_days: int = 0
    provisional_from: dt.date | None = None
    provisional_microcents: int = 0
    invoiced_microcents: int | None = None
    closed_microcents: int | None = None  # the stored cost recorded when it was closed
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    invoice_entered_at: dt.datetime | None = None
    invoice_entered_by: str | None = None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def reported_microcents(self) -> int:
        return self.stored_microcents + self.adjustments_in_microcents

    @property
    def difference_microcents(self) -> int | None:
        """Invoiced minus reported: positive when the invoice is higher."""
        if self.invoiced_microcents is None:
            return None
        return self.invoiced_microcents - self.reported_microcents


@dataclass(frozen=True, slots=True)
class MonthReconciliation:
    """A month across the tenant's organizations: each one's line and the totals."""

    month: dt.date
    organizations: list[OrganizationMonth]

    @property
    def state(self) -> str:
        """The least final state of its organizations (a month is closed when every organization is)."""
        order = ("open", "provisional", "settled", "closed")
        states = [o.state for o in self.organizations] or ["open"]
        return min(states, key=order.index)

    @property
    def reported_microcents(self) -> int:
        return sum(o.reported_microcents for o in self.organizations)

    @property
    def invoiced_microcents(self) -> int | None:
        entered = [o.invoiced_microcents for o in self.organizations if o.invoiced_microcents is not None]
        return sum(entered) if entered else None

    @property
    def difference_microcents(self) -> int | None:
        """Invoiced minus reported over every organization; None until each has its invoiced amount."""
        differences = [o.difference_microcents for o in self.organizations]
        if not differences or any(d is None for d in differences):
            return None
        return sum(d for d in differences if d is not None)


def _connections(
    conn: Connection, tenant_id: int, organization: str | None
) -> list[tuple[int, str, str, str, dt.date | None]]:
    c = connections
    query = select(c.c.id, c.c.name, c.c.organization_id, c.c.organization_name, c.c.cursor_date).where(
        c.c.tenant_id == tenant_id, c.c.organization_id.is_not(None), c.c.state != "disconnected"
    )
    if organization is not None:
        query = query.where(c.c.organization_id == organization)
    return [
        (r.id, r.name, r.organization_id, r.organization_name or r.organization_id, r.cursor_date)
        for r in conn.execute(query.order_by(c.c.id))
    ]


def _daily_cost(
    conn: Connection, ids: list[int], start: dt.date, end: dt.date
) -> dict[int, dict[dt.date, int]]:
    t = _COST_SUMS
    rows = conn.execute(
        select(t.c.connection_id, t.c.day, func.sum(t.c.amount_microcents))
        .where(t.c.connection_id.in_(ids), t.c.day >= start, t.c.day < end)
        .group_by(t.c.connection_id, t.c.day)
    )
    out: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for cid, day, amount in rows:
        out[cid][day] = int(amount or 0)
    return out


def _adjustments(
    conn: Connection, ids: list[int], start: dt.date, end: dt.date
) -> tuple[dict[tuple[int, dt.date], int], dict[tuple[int, dt.date], dict[str, int]]]:
    """(connection, booked month) -> delta booked in; (connection, revised month) -> {booked month: delta}."""
    a = cost_adjustments
    rows = conn.execute(
        select(a.c.connection_id, a.c.day, a.c.booked_month, func.sum(a.c.amount_microcents))
        .where(a.c.connection_id.in_(ids))
        .where(
            ((a.c.booked_month >= start) & (a.c.booked_month < end)) | ((a.c.day >= start) & (a.c.day < end))
        )
        .group_by(a.c.connection_id, a.c.day, a.c.booked_month)
    )
    booked_in: dict[tuple[int, dt.date], int] = defaultdict(int)
    booked_out: dict[tuple[int, dt.date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cid, day, booked_month, amount in rows:
        booked_in[(cid, booked_month)] += int(amount)
        booked_out[(cid, month_of(day))][booked_month.strftime("%Y-%m")] += int(amount)
    return booked_in, booked_out


def read_months(
    conn: Connection,
    tenant_id: int,
    start: dt.date,
    end: dt.date,
    *,
    today: dt.date,
    lookback_days: int,
    organization: str | None = None,
) -> list[MonthReconciliation]:
    """The months from `start`'s month up to (not including) `end`'s month, newest first."""
    start, end = month_of(start), month_of(end)
    conns = _connections(conn, tenant_id, organization)
    ids = [c[0] for c in conns]
    daily = _daily_cost(conn, ids, start, end) if ids else {}
    booked_in, booked_out = _adjustments(conn, ids, start, end) if ids else ({}, {})
    closes: dict[tuple[int, dt.date], MonthCloseRow] = {
        (r.connection_id, r.month): r for r in list_month_closes(conn, tenant_id) if start <= r.month < end
    }
    provisional_from = first_provisional_day(today, lookback_days)
    months: list[MonthReconciliation] = []
    month = start
    while month < end:
        lines = []
        for cid, name, org_id, org_name, cursor in conns:
            line = OrganizationMonth(cid, name, org_id, org_name, month)
            days = daily.get(cid, {})
            _fill(line, days, provisional_from, cursor, today)
            line.adjustments_in_microcents = booked_in.get((cid, month), 0)
            out = booked_out.get((cid, month), {})
            line.adjustments_out_microcents = sum(out.values())
            line.adjustments_out_to = sorted(out)
            record = closes.get((cid, month))
            if record is not None:
                line.invoiced_microcents = record.invoiced_microcents
                line.invoice_entered_at, line.invoice_entered_by = (
                    record.invoice_entered_at,
                    record.invoice_entered_by,
                )
                line.closed_at, line.closed_by = record.closed_at, record.closed_by
                if record.closed:
                    line.state, line.closed_microcents = "closed", record.reported_microcents
            line.reasons = plan_reasons(line)
            lines.append(line)
        months.append(MonthReconciliation(month, lines))
        month = _next_month(month)
    return months[::-1]


def _fill(
    line: OrganizationMonth,
    days: dict[dt.date, int],
    provisional_from: dt.date,
    cursor: dt.date | None,
    today: dt.date,
) -> None:
    """The month's stored cost, its provisional days (how many, from when, how much) and its state."""
    month, end = line.month, _next_month(line.month)
    day, stored = month, 0
    first_unsettled = min(provisional_from, cursor or month)
    while day < end:
        amount = days.get(day, 0)
        stored += amount
        if first_unsettled <= day <= today:
            line.provisional_days += 1
            line.provisional_microcents += amount
            line.provisional_from = line.provisional_from or day
        day += dt.timedelta(days=1)
    line.stored_microcents = stored
    if end > today:
        line.state = "open"
    elif line.provisional_days or first_unsettled < end:
        line.state = "provisional"
    else:
        line.state = "settled"


def plan_reasons(line: OrganizationMonth) -> list[Reason]:
    """The reasons we can see for the difference between the invoiced and the reported cost (pure)."""
    reasons: list[Reason] = []
    diff = line.difference_microcents
    if line.provisional_days:
        reasons.append(Reason(
            "provisional_days",
            f"{line.provisional_days} day(s) from {line.provisional_from} are still provisional: Anthropic may "
            f"revise them, and ${usd(line.provisional_microcents):,.2f} of the reported cost is on them.",
            line.provisional_microcents,
        ))  # fmt: skip
    if line.adjustments_out_microcents:
        reasons.append(Reason(
            "revised_after_close",
            f"Anthropic revised days of this month after it was closed: {_signed(line.adjustments_out_microcents)} "
            f"booked as adjustments to {', '.join(line.adjustments_out_to)}; the invoice may include them.",
            line.adjustments_out_microcents,
        ))  # fmt: skip
    if line.adjustments_in_microcents:
        reasons.append(Reason(
            "adjustments_included",
            f"The reported cost includes {_signed(line.adjustments_in_microcents)} of adjustments: revisions of "
            "earlier closed months, which their invoices carried.",
            line.adjustments_in_microcents,
        ))  # fmt: skip
    if diff is None:
        return reasons
    if diff == 0:
        reasons.insert(0, Reason("matches", "The invoiced amount matches the reported cost to the cent.", 0))
    elif diff < 0:
        reasons.append(Reason(
            "credits",
            "Credits: the cost API's amount is after discounts but before credits, so promotional or prepaid "
            "credits applied on the invoice lower it, and usageledger cannot see them.",
        ))  # fmt: skip
    else:
        reasons.append(Reason(
            "charges_not_in_cost_report",
            "Charges the cost endpoint leaves out: priority-tier commitments and other charges billed outside "
            "token, web search, code execution and session usage, and any tax on the invoice.",
        ))  # fmt: skip
    return reasons


def _signed(microcents: int) -> str:
    value = usd(microcents)
    return f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def read_reconciliation(
    conn: Connection, tenant_id: int, month: dt.date, *, today: dt.date, lookback_days: int,
    organization: str | None = None,
) -> MonthReconciliation:  # fmt: skip
    """One month across the tenant's organizations (or one of them)."""
    return read_months(
        conn, tenant_id, month, _next_month(month), today=today, lookback_days=lookback_days,
        organization=organization,
    )[0]  # fmt: skip


def _usd_text(microcents: int | None) -> str | None:
    """Exact dollars as a decimal string (never exponent notation), or None."""
    return None if microcents is None else format(usd(microcents), "f")


def reconciliation_json(rec: MonthReconciliation) -> dict[str, object]:
    """The month as JSON for the API and `reconcile --json`: amounts are exact decimal strings in USD."""
    return {
        "month": rec.month.strftime("%Y-%m"),
        "state": rec.state,
        "state_meaning": MONTH_STATES[rec.state],
        "reported_usd": _usd_text(rec.reported_microcents),
        "invoiced_usd": _usd_text(rec.invoiced_microcents),
        "difference_usd": _usd_text(rec.difference_microcents),
        "organizations": [
            {
                "organization_id": o.organization_id,
                "organization_name": o.organization_name,
                "connection_id": o.connection_id,
                "state": o.state,
                "stored_usd": _usd_text(o.stored_microcents),
                "adjustments_usd": _usd_text(o.adjustments_in_microcents),
                "reported_usd": _usd_text(o.reported_microcents),
                "closed_reported_usd": _usd_text(o.closed_microcents),
                "invoiced_usd": _usd_text(o.invoiced_microcents),
                "difference_usd": _usd_text(o.difference_microcents),
                "provisional_days": o.provisional_days,
                "provisional_from": o.provisional_from.isoformat() if o.provisional_from else None,
                "provisional_usd": _usd_text(o.provisional_microcents),
                "revised_after_close_usd": _usd_text(o.adjustments_out_microcents),
                "closed_at": o.closed_at.isoformat() if o.closed_at else None,
                "closed_by": o.closed_by,
                "invoice_entered_at": o.invoice_entered_at.isoformat() if o.invoice_entered_at else None,
                "invoice_entered_by": o.invoice_entered_by,
                "reasons": [
                    {"code": r.code, "text": r.text, "amount_usd": _usd_text(r.amount_microcents)}
                    for r in o.reasons
                ],
            }
            for o in rec.organizations
        ],
    }
