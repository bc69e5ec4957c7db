"""Named periods resolve to whole UTC days, and each compares with a fair previous stretch."""

from __future__ import annotations

import datetime as dt

import pytest

from usageledger.errors import UsageError
from usageledger.reports.periods import (
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_PERIOD_DAYS,
    PERIOD_PRESETS,
    comparable_previous,
    month_period,
    resolve_period,
)

D = dt.date
TODAY = D(2026, 11, 25)


@pytest.mark.parametrize(
    ("preset", "start", "last_day"),
    [
        ("this-month", D(2026, 11, 1), D(2026, 11, 25)),
        ("last-month", D(2026, 10, 1), D(2026, 10, 31)),
        ("7d", D(2026, 11, 19), D(2026, 11, 25)),
        ("30d", D(2026, 10, 27), D(2026, 11, 25)),
        ("90d", D(2026, 8, 28), D(2026, 11, 25)),
        ("ytd", D(2026, 1, 1), D(2026, 11, 25)),
        ("2026-02", D(2026, 2, 1), D(2026, 2, 28)),
    ],
)
def test_presets_resolve_to_days(preset, start, last_day):
    """Each preset covers exactly the days its label promises, today included."""
    period = resolve_period(preset, None, None, today=TODAY)
    assert (period.start, period.last_day) == (start, last_day)


def test_every_preset_has_a_rule():
    """No preset is listed without resolving."""
    for key in PERIOD_PRESETS:
        assert resolve_period(key, None, None, today=TODAY).days >= 1


def test_last_month_in_january_is_december():
    """The year rolls back with the month."""
    period = resolve_period("last-month", None, None, today=D(2027, 1, 3))
    assert (period.start, period.end) == (D(2026, 12, 1), D(2027, 1, 1))


def test_explicit_days_win_and_until_is_inclusive():
    """since/until beat a preset; the last day typed is included."""
    period = resolve_period("7d", D(2026, 3, 2), D(2026, 3, 4), today=TODAY)
    assert (period.key, period.start, period.end, period.days) == ("custom", D(2026, 3, 2), D(2026, 3, 5), 3)


def test_open_ended_ranges():
    """Only since: up to today. Only until: from the first of until's month."""
    assert resolve_period(None, D(2026, 11, 20), None, today=TODAY).last_day == TODAY
    assert resolve_period(None, None, D(2026, 9, 9), today=TODAY).start == D(2026, 9, 1)


def test_reversed_range_says_what_to_do():
    """A range that ends before it starts is refused with advice, not silently swapped."""
    with pytest.raises(UsageError, match="swap"):
        resolve_period(None, D(2026, 5, 2), D(2026, 5, 1), today=TODAY)


@pytest.mark.parametrize(
    ("since", "until"),
    [(None, D(9999, 12, 31)), (D(1, 1, 1), None), (D(1, 1, 1), D(2026, 5, 1)), (D(1999, 12, 31), None)],
)
def test_days_outside_the_calendar_we_serve_are_refused_with_the_range(since, until):
    """A typed 9999-12-31 or 0001-01-01 is a message naming the days accepted, not an overflow (a 500)."""
    with pytest.raises(UsageError, match="from 2000-01-01 to 2999-12-31"):
        resolve_period(None, since, until, today=TODAY)


def test_a_period_spans_at_most_ten_years():
    """The longest range is accepted and still has a previous period; a day more, or an open start so early
    that today is further than that, is refused with the limit (pages and exports work per day)."""
    last = EARLIEST_DAY + dt.timedelta(days=MAX_PERIOD_DAYS - 1)
    longest = resolve_period(None, EARLIEST_DAY, last, today=TODAY)
    assert longest.days == MAX_PERIOD_DAYS
    assert comparable_previous(longest).end == longest.start
    with pytest.raises(UsageError, match=f"spans {MAX_PERIOD_DAYS + 1:,} days; pick at most 3,660"):
        resolve_period(None, EARLIEST_DAY, last + dt.timedelta(days=1), today=TODAY)
    with pytest.raises(UsageError, match="pick at most 3,660"):
        resolve_period(None, EARLIEST_DAY, None, today=TODAY)
    with pytest.raises(UsageError, match="pick at most 3,660"):
        resolve_period(None, TODAY, LATEST_DAY, today=TODAY)


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_a_month_outside_the_calendar_we_serve_is_refused(month):
    with pytest.raises(UsageError, match="out of range"):
        month_period(month)


@pytest.mark.parametrize("bad", ["yesterday", "2026-1", ""])
def test_unknown_period_names_the_choices(bad):
    """An unknown name lists what is accepted."""
    with pytest.raises(UsageError, match="this-month"):
        resolve_period(bad or "nope", None, None, today=TODAY)


def test_month_period_refuses_bad_months():
    """YYYY-MM with a real month only."""
    with pytest.raises(UsageError, match="YYYY-MM"):
        month_period("2026-00")
    with pytest.raises(UsageError, match="YYYY-MM"):
        resolve_period("2026-13", None, None, today=TODAY)


def test_month_to_date_compares_with_the_same_days_last_month():
    """1–25 November compares with 1–25 October, not with all of October."""
    previous = comparable_previous(resolve_period("this-month", None, None, today=TODAY))
    assert (previous.start, previous.last_day) == (D(2026, 10, 1), D(2026, 10, 25))


def test_month_to_date_is_cut_at_a_shorter_previous_month():
    """1–31 March compares with all of February (28 days), never with days of March."""
    previous = comparable_previous(resolve_period(None, D(2026, 3, 1), D(2026, 3, 30), today=D(2026, 3, 31)))
    assert (previous.start, previous.end) == (D(2026, 2, 1), D(2026, 3, 1))


def test_whole_month_compares_with_whole_previous_month():
    """A closed month compares with the whole month before, whatever the lengths."""
    previous = comparable_previous(month_period("2026-03"))
    assert (previous.start, previous.end, previous.label) == (D(2026, 2, 1), D(2026, 3, 1), "Previous month")


def test_rolling_period_compares_with_the_days_just_before():
    """Last 7 days compares with the 7 days before them."""
    previous = comparable_previous(resolve_period("7d", None, None, today=TODAY))
    assert (previous.start, previous.end) == (D(2026, 11, 12), D(2026, 11, 19))
