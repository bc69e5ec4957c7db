"""Budget alerts: which thresholds each budget has crossed this month, on actual spend and on the forecast.

Planning is pure (`plan_budget_alerts`: statuses in, alerts out). Each alert's crossing key names the budget,
month, basis, threshold and amount, so the store raises it once however often this runs, a new month raises
it again, and a changed amount is a new budget level. An open budget alert whose crossing no longer holds
(a month that ended, a forecast that fell back, a budget raised or deleted) is resolved; its key stays
taken, so it is not raised twice in one month.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from sqlalchemy import Connection, Engine

from usageledger.reports.budgets import BudgetStatus, Crossing, read_budget_statuses
from usageledger.store.alerts import AlertRow, NewAlert, list_alerts, raise_alert, resolve_alerts
from usageledger.store.connections import get_connection

from .sink import AlertSink, RecordingSink, deliver_all

__all__ = [
    "evaluate_after_sync",
    "evaluate_and_deliver",
    "evaluate_connection_synced",
    "plan_budget_alerts",
]

log = logging.getLogger(__name__)


def _usd(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,} USD"


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B}"


def _crossing_key(status: BudgetStatus, basis: str, pct: int) -> str:
    b = status.budget
    return f"budget:{b.id}:{status.month:%Y-%m}:{basis}:{pct}:{b.amount_microcents}"


def _alert(status: BudgetStatus, crossing: Crossing, basis: str) -> NewAlert:
    b, f = status.budget, status.forecast
    what = f"{_usd(status.amount)} budget for {status.month:%B %Y}"
    if basis == "actual":
        message = (
            f"Spend on {status.label} reached {crossing.pct} % of its {what}: {_usd(status.actual)} so far "
            f"({status.actual_pct} %)."
        )
        level = "error" if crossing.pct >= 100 else "warning"
    else:
        when = f" by {_day(crossing.by_day)}" if crossing.by_day else ""
        early = (
            f" (as early as {_day(crossing.earliest)})"
            if crossing.earliest and crossing.earliest != crossing.by_day
            else ""
        )
        assert f.low is not None and f.high is not None
        message = (
            f"{status.label} is forecast to cross {crossing.pct} % of its {what}{when}{early}: month-end "
            f"forecast {_usd(f.low)}–{_usd(f.high)}, {_usd(status.actual)} spent so far."
        )
        level = "warning"
    details = {
        "budget_id": b.id, "basis": basis, "threshold_pct": crossing.pct, "month": status.month.isoformat(),
        "budget_usd": str(status.amount), "threshold_usd": str(crossing.amount.quantize(Decimal("0.01"))),
        "actual_usd": str(status.actual), "forecast_low_usd": None if f.low is None else str(f.low),
        "forecast_high_usd": None if f.high is None else str(f.high),
        "crossing_day": crossing.by_day.isoformat() if crossing.by_day else None,
    }  # fmt: skip
    return NewAlert(
        kind="budget", crossing_key=_crossing_key(status, basis, crossing.pct), subject_type=b.subject_type,
        subject_id=b.subject_id, subject_label=status.label, message=message, level=level,
        threshold_pct=crossing.pct, basis=basis, month=status.month, budget_id=b.id, details=details,
    )  # fmt: skip


def plan_budget_alerts(statuses: list[BudgetStatus]) -> list[NewAlert]:
    """Every crossing that holds now: actual ones, and forecast ones not yet reached by actual spend."""
    out = []
    for status in statuses:
        for crossing in status.crossings:
            if crossing.actual:
                out.append(_alert(status, crossing, "actual"))
            elif crossing.forecast:
                out.append(_alert(status, crossing, "forecast"))
    return out


def evaluate_after_sync(conn: Connection, tenant_id: int, as_of: dt.date) -> list[AlertRow]:
    """Raise the tenant's new budget alerts and resolve the ones that no longer hold; returns the new ones.

    The caller owns the transaction and hands the returned alerts to a sink once it has committed.
    """
    planned = plan_budget_alerts(read_budget_statuses(conn, tenant_id, as_of))
    raised = [row for new in planned if (row := raise_alert(conn, tenant_id, new)) is not None]
    live = {new.crossing_key for new in planned}
    stale = [
        a.id
        for a in list_alerts(conn, tenant_id, state="open", kind="budget", limit=10_000)
        if a.crossing_key not in live
    ]
    resolve_alerts(conn, tenant_id, stale)
    return raised


def evaluate_and_deliver(
    engine: Engine, tenant_id: int, as_of: dt.date | None = None, sink: AlertSink | None = None
) -> list[AlertRow]:
    """Evaluate in a transaction of its own, then deliver what it raised (never before it committed)."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    with engine.begin() as conn:
        raised = evaluate_after_sync(conn, tenant_id, as_of)
    deliver_all(sink or RecordingSink(), raised)
    return raised


def evaluate_connection_synced(
    engine: Engine, connection_id: int, sink: AlertSink | None = None, as_of: dt.date | None = None
) -> list[AlertRow]:
    """The after-sync hook: evaluate the tenant of the connection that just synced. Never raises: the sync
    succeeded whatever happens here, and a failure is logged (the next sync evaluates again)."""
    try:
        with engine.connect() as conn:
            tenant_id = get_connection(conn, connection_id).tenant_id
        return evaluate_and_deliver(engine, tenant_id, as_of, sink)
    except Exception:
        log.exception("evaluating alerts after the sync of connection %s failed", connection_id)
        return []
