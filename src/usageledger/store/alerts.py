"""Alerts: one row per crossing, kept as history with its state (open, then resolved).

A crossing is named by its crossing key, unique per tenant (for a budget: budget, month, basis, threshold
and amount), so raising the same crossing again — the next sync, a second process — inserts nothing and
returns None: each crossing alerts exactly once, and a new month is a new key. Any detector (budgets now,
anomalies later) raises through `raise_alert` with its own kind and key. Every new alert is an `alert`
event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)

from .runs import add_event
from .tables import UTCDateTime, metadata

__all__ = [
    "ALERT_BASES",
    "ALERT_STATES",
    "AlertRow",
    "NewAlert",
    "alerts",
    "count_open_alerts",
    "list_alerts",
    "raise_alert",
    "resolve_alerts",
]

ALERT_STATES: tuple[str, ...] = ("open", "resolved")
ALERT_BASES: tuple[str, ...] = ("actual", "forecast")

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),  # budget | anomaly
    Column("crossing_key", String(300), nullable=False),  # what makes this crossing this one
    Column("subject_type", String(40), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("subject_label", String(500), nullable=False),
    Column("level", String(10), nullable=False),  # info | warning | error
    Column("threshold_pct", Integer),  # budget alerts: the threshold crossed
    Column("basis", String(20)),  # budget alerts: actual | forecast
    Column("month", Date),  # the month's first day, for monthly budgets
    Column("budget_id", Integer, ForeignKey("budgets.id", ondelete="SET NULL")),
    Column("state", String(20), nullable=False),  # open | resolved
    Column("message", Text, nullable=False),
    Column("details", Text),  # JSON object, never a secret
    Column("first_raised_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    UniqueConstraint("tenant_id", "crossing_key", name="uq_alerts_crossing_key"),
)


@dataclass(frozen=True, slots=True)
class NewAlert:
    """What a detector found: enough to show, deliver and never raise twice."""

    kind: str
    crossing_key: str
    subject_type: str
    subject_id: str
    subject_label: str
    message: str
    level: str = "warning"
    threshold_pct: int | None = None
    basis: str | None = None
    month: dt.date | None = None
    budget_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    tenant_id: int
    kind: str
    crossing_key: str
    subject_type: str
    subject_id: str
    subject_label: str
    level: str
    threshold_pct: int | None
    basis: str | None
    month: dt.date | None
    budget_id: int | None
    state: str
    message: str
    details: dict[str, Any]
    first_raised_at: dt.datetime
    resolved_at: dt.datetime | None


def _row(r: Any) -> AlertRow:
    m = dict(r._mapping)
    m["details"] = json.loads(m["details"]) if m["details"] else {}
    return AlertRow(**m)


def raise_alert(
    conn: Connection, tenant_id: int, new: NewAlert, *, now: dt.datetime | None = None
) -> AlertRow | None:
    """Insert the alert and its event; None (and nothing written) when its crossing was raised before."""
    from sqlalchemy.dialects import postgresql, sqlite  # imported on use, as the store's other upserts do

    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    now = now or dt.datetime.now(dt.UTC)
    values = {
        "tenant_id": tenant_id, "kind": new.kind, "crossing_key": new.crossing_key,
        "subject_type": new.subject_type, "subject_id": new.subject_id, "subject_label": new.subject_label,
        "level": new.level, "threshold_pct": new.threshold_pct, "basis": new.basis, "month": new.month,
        "budget_id": new.budget_id, "state": "open", "message": new.message,
        "details": json.dumps(new.details, sort_keys=True, default=str), "first_raised_at": now,
    }  # fmt: skip
    stmt = (
        insert(alerts)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "crossing_key"])
        .returning(alerts.c.id)
    )
    inserted = conn.execute(stmt).first()  # no row: the crossing was raised before
    if inserted is None:
        return None
    row = _row(conn.execute(select(alerts).where(alerts.c.id == inserted.id)).one())
    add_event(
        conn,
        tenant_id=tenant_id,
        connection_id=None,
        kind="alert",
        level=new.level,
        message=f"Alert #{row.id}: {new.message}",
        details={"alert_id": row.id, "kind": new.kind, "crossing_key": new.crossing_key, **new.details},
    )
    return row


def resolve_alerts(
    conn: Connection, tenant_id: int, ids: Iterable[int], *, now: dt.datetime | None = None
) -> int:
    """Mark open alerts resolved (their crossing keys stay taken, so they are not raised again)."""
    wanted = list(ids)
    if not wanted:
        return 0
    result = conn.execute(
        update(alerts)
        .where(alerts.c.tenant_id == tenant_id, alerts.c.id.in_(wanted), alerts.c.state == "open")
        .values(state="resolved", resolved_at=now or dt.datetime.now(dt.UTC))
    )
    return int(result.rowcount)


def list_alerts(
    conn: Connection,
    tenant_id: int,
    *,
    state: str | None = None,
    kind: str | None = None,
    budget_id: int | None = None,
    limit: int = 200,
) -> list[AlertRow]:
    """Newest first."""
    query = select(alerts).where(alerts.c.tenant_id == tenant_id)
    if state is not None:
        query = query.where(alerts.c.state == state)
    if kind is not None:
        query = query.where(alerts.c.kind == kind)
    if budget_id is not None:
        query = query.where(alerts.c.budget_id == budget_id)
    query = query.order_by(alerts.c.first_raised_at.desc(), alerts.c.id.desc()).limit(limit)
    return [_row(r) for r in conn.execute(query)]


def count_open_alerts(conn: Connection, tenant_id: int) -> int:
    query = select(func.count()).where(alerts.c.tenant_id == tenant_id, alerts.c.state == "open")
    return int(conn.execute(query).scalar_one())
