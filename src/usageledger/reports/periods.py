"""Named periods ("this month", "last 30 days", "2026-10") resolved to whole UTC days, for every surface.

The web filters, the overview, the CLI's `--period` and the exports all take the same names, so they are
declared once here. A period is a half-open range of days, `[start, end)`, as the planner's windows are;
`today` is always an argument, so every rule here is a pure function that tests can pin.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from usageledger.errors import UsageError

__all__ = [
    "CUSTOM_PERIOD",
    "EARLIEST_DAY",
    "LATEST_DAY",
    "MAX_PERIOD_DAYS",
    "PERIOD_PRESETS",
    "Period",
    "check_days",
    "comparable_previous",
    "first_provisional_day",
    "month_period",
    "resolve_period",
]

# Preset key → the label people see. The keys are what URLs, the API and `--period` take.
PERIOD_PRESETS: dict[str, str] = {
    "this-month": "This month",
    "last-month": "Last month",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "ytd": "Year to date",
}
CUSTOM_PERIOD = "custom"
# Days a period may name, and how long it may be. Far wider than any data (the API's floor is 2026-01-01),
# but bounded: a period and the one it is compared with must stay inside the calendar (a typed 9999-12-31
# overflowed the day after it, a 500), and the overview, the detail page and the FOCUS export do work per
# day of the range (a thousand years took 201 s to export and made a 96 MB overview page).
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)
MAX_PERIOD_DAYS = 3_660  # about ten years
_ROLLING_DAYS = {"7d": 7, "30d": 30, "90d": 90}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days from `start` (inclusive) to `end` (exclusive), with the name it was asked by."""

    key: str
    label: str
    start: dt.date
    end: dt.date

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    first = _first_of_month(day)
    return (first + dt.timedelta(days=32)).replace(day=1)


def _previous_month(day: dt.date) -> dt.date:
    return (_first_of_month(day) - dt.timedelta(days=1)).replace(day=1)


def check_days(first: dt.date | None, last: dt.date | None) -> None:
    """Raise UsageError, saying what is accepted, for a day outside EARLIEST_DAY..LATEST_DAY or a range of
    inclusive days `first`..`last` longer than MAX_PERIOD_DAYS. Either may be None (an open end); a
    reversed range is left to the caller, whose message names its own fields."""
    for day in (first, last):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise UsageError(f"{day} is out of range: name days from {EARLIEST_DAY} to {LATEST_DAY}.")
    if first is not None and last is not None and (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise UsageError(
            f"The range from {first} to {last} spans {(last - first).days + 1:,} days; pick at most "
            f"{MAX_PERIOD_DAYS:,} (about ten years)."
        )


def month_period(text: str) -> Period:
    """The calendar month named `YYYY-MM`."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UsageError(f"A month is written YYYY-MM, such as 2026-10; not {text!r}.")
    start = dt.date(int(match.group(1)), int(match.group(2)), 1)
    check_days(start, None)
    return Period(start.strftime("%Y-%m"), start.strftime("%B %Y"), start, _next_month(start))


def _preset(key: str, today: dt.date) -> Period:
    label = PERIOD_PRESETS[key]
    tomorrow = today + dt.timedelta(days=1)
    if key == "this-month":
        return Period(key, label, _first_of_month(today), tomorrow)
    if key == "last-month":
        start = _previous_month(today)
        return Period(key, label, start, _first_of_month(today))
    if key == "ytd":
        return Period(key, label, today.replace(month=1, day=1), tomorrow)
    return Period(key, label, tomorrow - dt.timedelta(days=_ROLLING_DAYS[key]), tomorrow)


def resolve_period(
    preset: str | None,
    since: dt.date | None,
    until: dt.date | None,
    *,
    today: dt.date,
    default: str = "this-month",
) -> Period:
    """The period asked for: explicit days win over a preset; nothing at all means `default`.

    `until` is inclusive, as everywhere users type days. A month (`2026-10`) is accepted as a preset.
    Raises UsageError, with what to type instead, for an unknown preset, a reversed range, or days that
    `check_days` refuses.
    """
    if since is not None or until is not None:
        if since is not None and until is not None and since > until:
            raise UsageError(
                f"The range starts on {since} but ends on {until}, before it starts; swap the two days."
            )
        check_days(since, until)
        start = since or (until or today).replace(day=1)
        end = (until or today) + dt.timedelta(days=1)
        check_days(start, end - dt.timedelta(days=1))  # an open end filled in: today may be far
        return Period(CUSTOM_PERIOD, f"{start} to {end - dt.timedelta(days=1)}", start, end)
    key = (preset or default).strip().lower()
    if key in PERIOD_PRESETS:
        return _preset(key, today)
    if _MONTH.match(key):
        return month_period(key)
    raise UsageError(
        f"Unknown period {preset!r}: use one of {', '.join(PERIOD_PRESETS)}, a month as YYYY-MM, "
        "or explicit days (since/until, YYYY-MM-DD)."
    )


def comparable_previous(period: Period) -> Period:
    """The stretch to compare `period` with, so partial months are compared fairly.

    A month to date (1st → day N) compares with the same days of the month before (1st → day N, cut at
    that month's end: 31 March compares with 1–28/29 February); a whole calendar month with the whole
    month before; anything else with the same number of days just before it.
    """
    if period.start.day == 1 and period.days <= 31 and period.last_day.month == period.start.month:
        previous_start = _previous_month(period.start)
        previous_month_end = _first_of_month(period.start)
        if period.end == _next_month(period.start):  # a whole month
            return Period("previous", "Previous month", previous_start, previous_month_end)
        end = min(previous_start + dt.timedelta(days=period.days), previous_month_end)
        return Period("previous", "Same days last month", previous_start, end)
    start = period.start - dt.timedelta(days=period.days)
    return Period("previous", "Previous period", start, period.start)


def first_provisional_day(today: dt.date, lookback_days: int) -> dt.date:
    """From this day on, figures may still change: each sync re-fetches today and the `lookback_days - 1`
    days before it, because Anthropic revises recent days. Pages and the API mark these days provisional."""
    return today - dt.timedelta(days=max(lookback_days - 1, 0))
