"""Which days to fetch, as a pure function of (cursor, today, settings). Backfill is the same plan with no cursor.

Windows are whole UTC days, at most 31 (the API's longest range), oldest first, so a sync killed after
some windows committed resumes from the cursor they left.
"""

from __future__ import annotations

import datetime as dt

from ..errors import UsageError
from ..models import Window

__all__ = ["API_EARLIEST_DAY", "MAX_WINDOW_DAYS", "earliest_allowed_day", "plan_range", "plan_windows"]

API_EARLIEST_DAY = dt.date(2026, 1, 1)  # the analytics endpoints hold nothing before this day
MAX_WINDOW_DAYS = 31
MAX_HISTORY_DAYS = 365


def earliest_allowed_day(today: dt.date) -> dt.date:
    """`starting_at` must be within the last 365 days: midnight of today-364 always is."""
    return max(API_EARLIEST_DAY, today - dt.timedelta(days=MAX_HISTORY_DAYS - 1))


def plan_range(
    *,
    cursor: dt.date | None,
    today: dt.date,
    backfill_days: int,
    lookback_days: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> tuple[dt.date, dt.date] | None:
    """The [start, end) range of days one sync fetches, or None when there is nothing to fetch.

    Explicit `since`/`until` (inclusive) re-fetch exactly that range. Otherwise: the first sync reaches
    back `backfill_days`; later ones start `lookback_days` before the cursor, because the provider
    revises recent days. The range always ends after today (today's partial usage included).
    """
    earliest = earliest_allowed_day(today)
    end = today + dt.timedelta(days=1)
    if since is not None or until is not None:
        start = since or earliest
        end = min(end, (until + dt.timedelta(days=1)) if until else end)
        if start < earliest:
            raise UsageError(
                f"--since {start} is before the earliest day the API serves ({earliest}); use a later date."
            )
        if end <= start:
            raise UsageError(f"--since {start} is after --until {end - dt.timedelta(days=1)}; swap them.")
        return start, end
    if cursor is None:
        start = today - dt.timedelta(days=backfill_days - 1)
    else:
        start = min(cursor, end) - dt.timedelta(days=lookback_days)
    start = max(start, earliest)
    return (start, end) if start < end else None


def plan_windows(start: dt.date, end: dt.date, *, max_days: int = MAX_WINDOW_DAYS) -> list[Window]:
    """Split [start, end) into windows of at most `max_days`, oldest first."""
    windows = []
    while start < end:
        stop = min(end, start + dt.timedelta(days=max_days))
        windows.append(Window(start, stop))
        start = stop
    return windows
