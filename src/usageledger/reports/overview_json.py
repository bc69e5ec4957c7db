"""The overview as the JSON API (and `--json`) returns it: money as exact decimal strings, shares in percent."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from usageledger.reports.overview import Overview
from usageledger.reports.periods import Period
from usageledger.reports.rows import money_text

__all__ = ["overview_json"]


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN), "f")


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _period_json(p: Period) -> dict[str, Any]:
    return {"key": p.key, "label": p.label, "since": p.start.isoformat(), "until": p.last_day.isoformat()}


def overview_json(o: Overview) -> dict[str, Any]:
    """The overview as one JSON object; every money figure is exact to 1e-8 USD."""
    f = o.forecast
    return {
        "today": o.today.isoformat(),
        "period": _period_json(o.period),
        "previous_period": _period_json(o.previous),
        "organization": o.organization,
        "organizations": [{"id": g.id, "name": g.name} for g in o.organizations],
        "cost_usd": money_text(o.cost),
        "list_cost_usd": money_text(o.list_cost),
        "discount_usd": money_text(o.discount),
        "discount_pct": _pct(o.discount_pct),
        "previous_cost_usd": money_text(o.previous_cost),
        "change_pct": _pct(o.change_pct),
        "forecast": {
            "month": f.month_start.strftime("%Y-%m"),
            "spent_usd": money_text(f.spent),
            "days_left": f.days_left,
            "basis_days": f.basis_days,
            "daily_low_usd": money_text(f.daily_low),
            "daily_high_usd": money_text(f.daily_high),
            "low_usd": money_text(f.low),
            "high_usd": money_text(f.high),
            "enough_data": f.enough_data,
            "method": f.method,
        },
        "last_month": {**_period_json(o.last_month), "cost_usd": money_text(o.last_month_cost)},
        "top": {
            t.dimension: {
                "total_usd": money_text(t.total),
                "rows": [
                    {
                        "key": r.key,
                        "label": r.label,
                        "organization_id": r.organization_id,
                        "organization_name": r.organization_name,
                        "cost_usd": money_text(r.amount),
                        "share_pct": _pct(r.share * 100),
                        "other": r.other,
                    }  # fmt: skip
                    for r in t.rows
                ],
            }
            for t in o.top
        },
        "daily": [
            {
                "date": d.day.isoformat(),
                "cost_usd": money_text(d.amount),
                "previous_date": _iso(d.previous_day),
                "previous_cost_usd": money_text(d.previous_amount),
                "provisional": d.provisional,
            }  # fmt: skip
            for d in o.days
        ],
        "provisional_from": o.provisional_from.isoformat(),
        "cache": {
            "cache_read_tokens": o.cache.cache_read_tokens,
            "input_tokens": o.cache.input_tokens,
            "share_pct": _pct(None if o.cache.share is None else o.cache.share * 100),
            "saved_usd_estimate": money_text(o.cache.saved_usd),
            "method": o.cache.method,
            "unpriced_models": o.cache.unpriced_models,
            "basis": o.cache.basis,
        },
        "cost_by_type": [
            {
                "cost_type": t.cost_type,
                "label": t.label,
                "cost_usd": money_text(t.amount),
                "share_pct": _pct(t.share * 100),
            }
            for t in o.cost_by_type
        ],
        "connections": [
            {
                "id": c.id,
                "name": c.name,
                "organization_name": c.organization_name,
                "state": c.state,
                "last_sync_succeeded_at": None
                if c.last_sync_succeeded_at is None
                else c.last_sync_succeeded_at.isoformat(),
                "data_refreshed_at": None if c.data_refreshed_at is None else c.data_refreshed_at.isoformat(),
                "warning": c.warning,
            }  # fmt: skip
            for c in o.connections
        ],
    }
