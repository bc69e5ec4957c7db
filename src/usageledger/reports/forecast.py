"""The month-end forecast and the month-to-date change: pure functions over a daily cost series.

How the forecast is computed (the page and the README say the same, in one line):

    month-end = spend of the month's complete days (1st … yesterday)
              + days left (today … month end) × the 25th and 75th percentile of the daily spend
                of the last 14 complete days,

so it is a range, never one false-precise number. Today counts as a day left because its usage is
still arriving. The 14 days reach back into the month before, so the first days of a month forecast
from last month's pace. With fewer than 7 complete days of history there is "not enough data yet".
The low end is never below what is already spent (today's partial spend included).
"""

from __future__ import annotations

import calendar
import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "BASIS_DAYS",
    "FORECAST_METHOD",
    "MIN_BASIS_DAYS",
    "Forecast",
    "plan_change",
    "plan_forecast",
]

BASIS_DAYS = 14
MIN_BASIS_DAYS = 7
FORECAST_METHOD = (
    "Spend of this month's complete days, plus the days left (today included) times the 25th–75th "
    f"percentile of daily spend over the last {BASIS_DAYS} complete days."
)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Forecast:
    """Where this month's reported cost will end, as a range; `low`/`high` are None without enough data."""

    month_start: dt.date
    month_end: dt.date  # the month's last day
    spent: Decimal  # month to date, today's partial spend included
    complete_spent: Decimal  # the month's complete days only (1st … yesterday)
    days_left: int  # today … month end
    basis_days: int  # complete days of history the daily pace was taken from
    daily_low: Decimal | None
    daily_high: Decimal | None
    low: Decimal | None
    high: Decimal | None

    @property
    def enough_data(self) -> bool:
        return self.low is not None

    @property
    def method(self) -> str:
        return FORECAST_METHOD


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def plan_forecast(daily: Mapping[dt.date, Decimal], *, today: dt.date, first_day: dt.date | None) -> Forecast:
    """The month-end range of today's month from `daily` reported cost (missing days count as zero).

    `first_day` is the first day any data is stored for (None: nothing stored yet); days before it are
    not history, so a fresh connection is "not enough data yet" rather than a forecast of zeros.
    """
    month_start, month_end = _month_bounds(today)
    spent = sum((v for d, v in daily.items() if month_start <= d <= today), _ZERO)
    complete_spent = sum((v for d, v in daily.items() if month_start <= d < today), _ZERO)
    days_left = (month_end - today).days + 1
    basis_start = today - dt.timedelta(days=BASIS_DAYS)
    if first_day is not None:
        basis_start = max(basis_start, first_day)
    basis = [daily.get(basis_start + dt.timedelta(days=i), _ZERO) for i in range((today - basis_start).days)]
    if first_day is None or len(basis) < MIN_BASIS_DAYS:
        return Forecast(month_start, month_end, spent, complete_spent, days_left, len(basis),
                        None, None, None, None)  # fmt: skip
    quartiles = statistics.quantiles(sorted(basis), n=4, method="inclusive")
    daily_low, daily_high = quartiles[0], quartiles[2]
    low = max(complete_spent + days_left * daily_low, spent)
    high = max(complete_spent + days_left * daily_high, low)
    return Forecast(month_start, month_end, spent, complete_spent, days_left, len(basis),
                    daily_low, daily_high, low, high)  # fmt: skip


def plan_change(current: Decimal, previous: Decimal) -> Decimal | None:
    """The change from `previous` to `current` in percent (None when there was nothing to compare with)."""
    if previous == 0:
        return None
    return (current - previous) / previous * 100
