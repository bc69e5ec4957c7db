"""Forecast-based warnings on a hand-made series: which thresholds the forecast crosses, and by which day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from usageledger.alerting import plan_budget_alerts
from usageledger.reports.budgets import plan_budget_status
from usageledger.store.budgets import BudgetRow

TODAY = dt.date(2026, 11, 15)
CREATED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _budget(dollars: int, thresholds: tuple[int, ...] = (50, 80, 100)) -> BudgetRow:
    return BudgetRow(7, 1, "workspace", "wrk_a", dollars * 100_000_000, thresholds, CREATED, CREATED)


def _series() -> dict[dt.date, Decimal]:
    """1–14 November alternating $5 and $15 (pace: 25th percentile $5, 75th $15), nothing yet today."""
    return {dt.date(2026, 11, d): Decimal(5 if d % 2 else 15) for d in range(1, 15)}


def test_the_forecast_range_warns_on_thresholds_its_low_end_reaches_and_names_the_day():
    """$140 spent, $220–380 forecast against $300: 50 % by the 16th; 80 % and 100 % only possibly."""
    status = plan_budget_status(
        _budget(300), "Workspace A", _series(), today=TODAY, first_day=dt.date(2026, 11, 1)
    )
    assert (status.actual, status.forecast.low, status.forecast.high) == (140, 220, 380)
    half, most, whole = status.crossings
    assert (half.actual, half.forecast, half.by_day, half.earliest) == (
        False,
        True,
        dt.date(2026, 11, 16),
        TODAY,
    )
    # Not warned on: at the slow pace $240 is reached only in December; at the fast pace by the 21st.
    assert (most.forecast, most.by_day, most.earliest) == (False, None, dt.date(2026, 11, 21))
    assert (whole.forecast, whole.by_day, whole.earliest) == (False, None, dt.date(2026, 11, 25))
    assert (
        status.state == "warning"
        and status.exceed is not None
        and status.exceed.earliest == dt.date(2026, 11, 25)
    )
    alerts = plan_budget_alerts([status])
    assert [(a.basis, a.threshold_pct) for a in alerts] == [("forecast", 50)]
    assert "by 16 November" in alerts[0].message and "220.00 USD–380.00 USD" in alerts[0].message


def test_forecast_to_exceed_names_the_day_at_the_slow_pace_and_the_earliest_at_the_fast_one():
    """$200 budget, $140 spent: at $5 a day it is exceeded by the 26th, at $15 as early as the 18th."""
    status = plan_budget_status(
        _budget(200), "Workspace A", _series(), today=TODAY, first_day=dt.date(2026, 11, 1)
    )
    assert status.state == "forecast_over"
    exceed = status.exceed
    assert exceed is not None and (exceed.by_day, exceed.earliest) == (
        dt.date(2026, 11, 26),
        dt.date(2026, 11, 18),
    )
    assert [(a.basis, a.threshold_pct) for a in plan_budget_alerts([status])] == [
        ("actual", 50),
        ("forecast", 80),
        ("forecast", 100),
    ]


def test_too_little_history_gives_no_forecast_warning():
    """Five days of data: no forecast, so only actual spend can alert."""
    short = {dt.date(2026, 11, d): Decimal(50) for d in range(10, 15)}
    status = plan_budget_status(
        _budget(300), "Workspace A", short, today=TODAY, first_day=dt.date(2026, 11, 10)
    )
    assert status.forecast.low is None and status.forecast_pct is None
    assert [(a.basis, a.threshold_pct) for a in plan_budget_alerts([status])] == [
        ("actual", 50),
        ("actual", 80),
    ]
