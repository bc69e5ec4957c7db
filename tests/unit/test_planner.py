"""The planner: which days a sync fetches, as a pure function of cursor, today and settings."""

from __future__ import annotations

import datetime as dt

import pytest

from usageledger.errors import UsageError
from usageledger.sync.planner import API_EARLIEST_DAY, earliest_allowed_day, plan_range, plan_windows

TODAY = dt.date(2026, 11, 25)
D = dt.date


def test_backfill_reaches_the_api_floor_not_365_days():
    """A year back from 2026-11-25 is before 2026-01-01, so the backfill starts at the floor."""
    assert plan_range(cursor=None, today=TODAY, backfill_days=365, lookback_days=3) == (
        API_EARLIEST_DAY,
        D(2026, 11, 26),
    )


def test_backfill_days_limits_the_first_sync():
    """--backfill-days 30 fetches 30 days ending today."""
    assert plan_range(cursor=None, today=TODAY, backfill_days=30, lookback_days=3) == (
        D(2026, 10, 27),
        D(2026, 11, 26),
    )


def test_earliest_day_is_within_the_last_365_days():
    """Late in 2027 the 365-day rule, not the floor, bounds the start."""
    today = D(2027, 12, 31)
    assert earliest_allowed_day(today) == D(2027, 1, 1)
    assert (today - earliest_allowed_day(today)).days == 364


def test_incremental_starts_lookback_days_before_the_cursor():
    """Recent days are re-fetched because the provider revises them."""
    assert plan_range(cursor=D(2026, 11, 20), today=TODAY, backfill_days=365, lookback_days=3) == (
        D(2026, 11, 17),
        D(2026, 11, 26),
    )


def test_incremental_after_a_sync_today_still_refetches_the_lookback():
    """A cursor at tomorrow (fully synced) still re-fetches the last days."""
    assert plan_range(cursor=D(2026, 11, 26), today=TODAY, backfill_days=365, lookback_days=3) == (
        D(2026, 11, 23),
        D(2026, 11, 26),
    )


def test_explicit_range_is_inclusive_and_ignores_the_cursor():
    """--since/--until re-fetch exactly those days."""
    assert plan_range(
        cursor=D(2026, 11, 26),
        today=TODAY,
        backfill_days=365,
        lookback_days=3,
        since=D(2026, 3, 1),
        until=D(2026, 3, 31),
    ) == (D(2026, 3, 1), D(2026, 4, 1))


@pytest.mark.parametrize(
    ("since", "until"),
    [(D(2025, 12, 31), None), (D(2026, 5, 2), D(2026, 5, 1))],
)
def test_bad_explicit_ranges_are_usage_errors(since, until):
    """A range before the floor or backwards says how to fix it."""
    with pytest.raises(UsageError):
        plan_range(cursor=None, today=TODAY, backfill_days=365, lookback_days=3, since=since, until=until)


def test_windows_are_at_most_31_days_contiguous_and_oldest_first():
    """329 days become ten 31-day windows and one of 19."""
    windows = plan_windows(API_EARLIEST_DAY, D(2026, 11, 26))
    assert [w.days for w in windows] == [31] * 10 + [19]
    assert windows[0].start == API_EARLIEST_DAY and windows[-1].end == D(2026, 11, 26)
    assert all(a.end == b.start for a, b in zip(windows, windows[1:], strict=False))


def test_no_windows_for_an_empty_range():
    assert plan_windows(D(2026, 5, 1), D(2026, 5, 1)) == []
