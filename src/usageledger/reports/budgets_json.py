"""Budgets, alerts and spend limits as the JSON API (and the CLI's `--json`) return them: money as exact
decimal strings, as the overview's JSON does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from usageledger.store.alerts import AlertRow

from .budgets import BudgetStatus, Crossing, LimitStatus
from .rows import money_text

__all__ = ["alert_json", "budget_json", "spend_limit_json"]


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _crossing(c: Crossing) -> dict[str, Any]:
    return {"pct": c.pct, "amount_usd": money_text(c.amount), "actual": c.actual, "forecast": c.forecast,
            "forecast_day": _iso(c.by_day), "earliest_day": _iso(c.earliest)}  # fmt: skip


def budget_json(s: BudgetStatus) -> dict[str, Any]:
    b, f = s.budget, s.forecast
    pct = s.forecast_pct
    exceed = s.exceed
    return {
        "id": b.id,
        "subject_type": b.subject_type,
        "subject_id": b.subject_id,
        "label": s.label,
        "amount_usd": money_text(b.amount_usd),
        "thresholds": list(b.thresholds),
        "month": s.month.strftime("%Y-%m"),
        "actual_usd": money_text(s.actual),
        "actual_pct": format(s.actual_pct, "f"),
        "forecast": {
            "low_usd": money_text(f.low),
            "high_usd": money_text(f.high),
            "low_pct": None if pct is None else format(pct[0], "f"),
            "high_pct": None if pct is None else format(pct[1], "f"),
            "enough_data": f.enough_data,
            "exceed_day": _iso(exceed.by_day) if exceed else None,
            "exceed_earliest_day": _iso(exceed.earliest) if exceed else None,
            "method": f.method,
        },
        "state": s.state,
        "crossings": [_crossing(c) for c in s.crossings],
        "created_at": _iso(b.created_at),
        "updated_at": _iso(b.updated_at),
    }


def alert_json(a: AlertRow) -> dict[str, Any]:
    return {
        "id": a.id, "kind": a.kind, "state": a.state, "level": a.level, "subject_type": a.subject_type,
        "subject_id": a.subject_id, "subject_label": a.subject_label, "threshold_pct": a.threshold_pct,
        "basis": a.basis, "month": a.month.strftime("%Y-%m") if a.month else None, "budget_id": a.budget_id,
        "message": a.message, "details": a.details, "first_raised_at": _iso(a.first_raised_at),
        "resolved_at": _iso(a.resolved_at),
    }  # fmt: skip


def spend_limit_json(status: LimitStatus) -> dict[str, Any]:
    """A limit as Anthropic states it (amount in the currency's major unit), and this month against it
    where comparable (a monthly USD cap on the organization or a workspace; else the comparison is null)."""
    s, f, reached = status.stored, status.forecast, status.reached
    limit = s.limit
    amount = None if limit.amount_minor is None else Decimal(limit.amount_minor).scaleb(-2)
    return {
        "id": limit.id, "organization_id": s.organization_id, "organization_name": s.organization_name,
        "scope_type": limit.scope_type, "scope_id": limit.scope_id or None,
        "amount": None if amount is None else format(amount, "f"), "currency": limit.currency,
        "period": limit.period, "is_enabled": limit.is_enabled, "read_at": _iso(s.read_at),
        "this_month": None if f is None or reached is None else {
            "spent_usd": money_text(f.spent), "forecast_low_usd": money_text(f.low), "forecast_high_usd": money_text(f.high),
            "reached": reached.actual, "forecast_to_reach": reached.forecast,
            "reach_day": _iso(reached.by_day), "reach_earliest_day": _iso(reached.earliest),
        },
    }  # fmt: skip
