"""The month-end forecast and the month-to-date change, on hand-made daily series."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from usageledger.reports.forecast import BASIS_DAYS, MIN_BASIS_DAYS, plan_change, plan_forecast

D = dt.date


def _series(start: dt.date, amounts: list[str]) -> dict[dt.date, Decimal]:
    return {start + dt.timedelta(days=i): Decimal(a) for i, a in enumerate(amounts)}


def test_a_steady_month_forecasts_its_pace():
    """$10 every day since 1 October: on 11 November the range is $10 a day for the 20 days left."""
    daily = _series(D(2026, 10, 1), ["10"] * 41)  # 1 Oct … 10 Nov
    forecast = plan_forecast(daily, today=D(2026, 11, 11), first_day=D(2026, 10, 1))
    assert forecast.complete_spent == Decimal(100)  # 1 … 10 November
    assert forecast.days_left == 20  # 11 … 30 November, today included
    assert forecast.basis_days == BASIS_DAYS
    assert forecast.low == forecast.high == Decimal(300)


def test_a_step_change_moves_the_range_to_the_new_pace():
    """Spend doubling on 1 November: by the 20th the last 14 days are all at the new pace, not the month's mean."""
    daily = _series(D(2026, 10, 1), ["100"] * 31 + ["200"] * 19)  # Oct at 100, 1–19 Nov at 200
    forecast = plan_forecast(daily, today=D(2026, 11, 20), first_day=D(2026, 10, 1))
    assert forecast.daily_low == forecast.daily_high == Decimal(200)
    assert forecast.low == Decimal(19 * 200 + 11 * 200)


def test_a_fresh_step_change_widens_the_range_between_the_two_paces():
    """Four days after spend doubled the range spans the old and the new pace: low at 100 a day, high above it."""
    daily = _series(D(2026, 10, 1), ["100"] * 37 + ["200"] * 4)  # 1 Oct … 6 Nov at 100, 7–10 Nov at 200
    forecast = plan_forecast(daily, today=D(2026, 11, 11), first_day=D(2026, 10, 1))
    assert forecast.daily_low == Decimal(100)
    assert Decimal(100) < forecast.daily_high <= Decimal(200)
    assert forecast.low is not None and forecast.high is not None and forecast.low < forecast.high


def test_the_first_day_of_a_month_forecasts_from_last_months_pace():
    """On the 1st nothing of the month is complete: the whole month is forecast from October's last 14 days."""
    daily = _series(D(2026, 10, 1), ["7"] * 31)
    forecast = plan_forecast(daily, today=D(2026, 11, 1), first_day=D(2026, 10, 1))
    assert forecast.complete_spent == 0 and forecast.days_left == 30
    assert forecast.low == forecast.high == Decimal(210)


def test_the_second_day_counts_the_first_as_spent():
    """On the 2nd, the 1st is spent and 29 days are left, at last month's pace."""
    daily = _series(D(2026, 10, 18), ["5"] * 14 + ["40"])  # 18–31 Oct at 5, 1 Nov at 40
    forecast = plan_forecast(daily, today=D(2026, 11, 2), first_day=D(2026, 10, 18))
    assert forecast.complete_spent == Decimal(40) and forecast.days_left == 29
    assert forecast.daily_low == Decimal(5)
    assert forecast.low == Decimal(40 + 29 * 5)


def test_a_month_with_no_data_says_not_enough_data():
    """Nothing stored at all: no forecast, and nothing spent."""
    forecast = plan_forecast({}, today=D(2026, 11, 15), first_day=None)
    assert not forecast.enough_data
    assert forecast.low is None and forecast.high is None and forecast.spent == 0


def test_too_little_history_says_not_enough_data():
    """A connection with fewer than 7 complete days of history gets no forecast yet, then one on day 7."""
    daily = _series(D(2026, 11, 10), ["3"] * 6)
    assert not plan_forecast(daily, today=D(2026, 11, 16), first_day=D(2026, 11, 10)).enough_data
    forecast = plan_forecast(daily, today=D(2026, 11, 17), first_day=D(2026, 11, 10))
    assert forecast.basis_days == MIN_BASIS_DAYS and forecast.enough_data


def test_days_without_spend_count_as_zero_and_the_low_end_never_falls_below_what_is_spent():
    """Idle days pull the pace down, but the low end stays at least the month to date (today's partial spend too)."""
    daily = _series(D(2026, 10, 20), ["0"] * 21 + ["500"])  # idle, then $500 today (10 Nov)
    forecast = plan_forecast(daily, today=D(2026, 11, 10), first_day=D(2026, 10, 20))
    assert forecast.daily_low == forecast.daily_high == 0
    assert forecast.spent == Decimal(500)
    assert forecast.low == forecast.high == Decimal(500)


def test_money_stays_exact_decimal():
    """Cents do not drift: micro-cent amounts sum and multiply exactly."""
    daily = _series(D(2026, 10, 1), ["0.00000001"] * 45)
    forecast = plan_forecast(daily, today=D(2026, 11, 15), first_day=D(2026, 10, 1))
    assert forecast.low == Decimal("0.00000030")
    assert isinstance(forecast.high, Decimal)


def test_change_is_percent_of_the_previous_and_none_without_one():
    """$150 against $120 is +25 %; against nothing there is no percentage to show."""
    assert plan_change(Decimal(150), Decimal(120)) == Decimal(25)
    assert plan_change(Decimal(90), Decimal(120)) == Decimal(-25)
    assert plan_change(Decimal(5), Decimal(0)) is None
