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
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import Connection, Engine

from usageledger.config import Settings
from usageledger.reports.budgets import (
    BudgetStatus,
    Crossing,
    LimitStatus,
    plan_crossing,
    read_budget_statuses,
    read_limit_statuses,
)
from usageledger.store.alerts import AlertRow, NewAlert, list_alerts, raise_alert, resolve_alerts
from usageledger.store.connections import get_connection

from .anomaly_alerts import read_anomaly_alerts
from .sink import AlertSink, RecordingSink, configured_sink, deliver_all

__all__ = [
    "after_sync_hook",
    "evaluate_after_sync",
    "evaluate_and_deliver",
    "evaluate_connection_synced",
    "plan_budget_alerts",
    "plan_limit_alerts",
]

log = logging.getLogger(__name__)

# Anthropic's limits alert at these percents (a hard stop at 100 %: warn before it).
LIMIT_THRESHOLDS: tuple[int, ...] = (80, 100)
# The kinds this module raises, and so resolves when their crossing no longer holds (anomalies resolve apart).
EVALUATED_KINDS: tuple[str, ...] = ("budget", "spend_limit")


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


def _limit_alert(status: LimitStatus, crossing: Crossing, basis: str) -> NewAlert:
    s, f = status.stored, status.forecast
    limit = s.limit
    assert f is not None
    where = (
        "the organization"
        if limit.scope_type in ("organization", "usage_tier")
        else f"workspace {limit.scope_id}"
    )
    limit_usd = Decimal(limit.amount_minor or 0).scaleb(-2)
    what = f"Anthropic's {_usd(limit_usd)} monthly spend limit on {where} ({s.organization_name or s.organization_id})"
    if basis == "actual":
        message = f"Spend reached {crossing.pct} % of {what}: {_usd(f.spent)} this month. At 100 % Anthropic stops the requests."
    else:
        when = f" by {_day(crossing.by_day)}" if crossing.by_day else ""
        assert f.low is not None and f.high is not None
        message = (f"Spend is forecast to reach {crossing.pct} % of {what}{when}: month-end forecast "
                   f"{_usd(f.low)}–{_usd(f.high)}. At 100 % Anthropic stops the requests.")  # fmt: skip
    key = f"spend_limit:{s.connection_id}:{limit.id}:{f.month_start:%Y-%m}:{basis}:{crossing.pct}:{limit.amount_minor}"
    return NewAlert(
        kind="spend_limit", crossing_key=key, subject_type=f"anthropic_{limit.scope_type}",
        subject_id=limit.scope_id or (s.organization_id or ""), subject_label=f"Anthropic limit on {where}",
        message=message, level="error" if crossing.pct >= 100 or basis == "forecast" else "warning",
        threshold_pct=crossing.pct, basis=basis, month=f.month_start,
        details={"spend_limit_id": limit.id, "connection_id": s.connection_id, "basis": basis,
                 "threshold_pct": crossing.pct, "limit_minor": limit.amount_minor, "currency": limit.currency,
                 "actual_usd": str(f.spent), "crossing_day": crossing.by_day.isoformat() if crossing.by_day else None},
    )  # fmt: skip


def plan_limit_alerts(statuses: list[LimitStatus]) -> list[NewAlert]:
    """Anthropic's hard stops: 80 % and 100 % of a comparable limit, on actual spend, else on the forecast."""
    out = []
    for status in statuses:
        if status.forecast is None or status.reached is None:
            continue
        amount = status.reached.amount
        for pct in LIMIT_THRESHOLDS:
            crossing = plan_crossing(amount, pct, status.forecast)
            if crossing.actual:
                out.append(_limit_alert(status, crossing, "actual"))
            elif crossing.forecast:
                out.append(_limit_alert(status, crossing, "forecast"))
    return out


def evaluate_after_sync(
    conn: Connection, tenant_id: int, as_of: dt.date, *, scan_anomalies: bool = False
) -> list[AlertRow]:
    """Raise the tenant's new budget and spend-limit alerts (and, with `scan_anomalies`, anomaly alerts) and
    resolve the budget and limit ones that no longer hold; returns the new ones. The caller owns the
    transaction and hands them to a sink once it has committed. Only new data can make an anomaly, so the
    scan (~1 s for a large tenant) runs after a sync, not after a budget change."""
    planned = plan_budget_alerts(read_budget_statuses(conn, tenant_id, as_of))
    planned += plan_limit_alerts(read_limit_statuses(conn, tenant_id, as_of))
    live = {new.crossing_key for new in planned}
    if scan_anomalies:
        planned += read_anomaly_alerts(conn, tenant_id, as_of)  # raised once each; never resolved as stale
    raised = [row for new in planned if (row := raise_alert(conn, tenant_id, new)) is not None]
    stale = [
        a.id
        for kind in EVALUATED_KINDS
        for a in list_alerts(conn, tenant_id, state="open", kind=kind, limit=10_000)
        if a.crossing_key not in live
    ]
    resolve_alerts(conn, tenant_id, stale)
    return raised


def evaluate_and_deliver(
    engine: Engine,
    tenant_id: int,
    as_of: dt.date | None = None,
    sink: AlertSink | None = None,
    *,
    scan_anomalies: bool = False,
) -> list[AlertRow]:
    """Evaluate in a transaction of its own, then deliver what it raised (never before it committed)."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    with engine.begin() as conn:
        raised = evaluate_after_sync(conn, tenant_id, as_of, scan_anomalies=scan_anomalies)
    deliver_all(sink or RecordingSink(), raised)
    return raised


def after_sync_hook(settings: Settings) -> Callable[[Engine, int], object]:
    """The after-sync callable a sync runner takes (`BackgroundSyncs(…, after_sync=…)`), with the configured sink."""

    def hook(engine: Engine, connection_id: int) -> object:
        return evaluate_connection_synced(engine, connection_id, configured_sink(settings, engine))

    return hook


def evaluate_connection_synced(
    engine: Engine, connection_id: int, sink: AlertSink | None = None, as_of: dt.date | None = None
) -> list[AlertRow]:
    """The after-sync hook: evaluate the tenant of the connection that just synced. Never raises: the sync
    succeeded whatever happens here, and a failure is logged (the next sync evaluates again)."""
    try:
        with engine.connect() as conn:
            tenant_id = get_connection(conn, connection_id).tenant_id
        return evaluate_and_deliver(engine, tenant_id, as_of, sink, scan_anomalies=True)
    except Exception:
        log.exception("evaluating alerts after the sync of connection %s failed", connection_id)
        return []
