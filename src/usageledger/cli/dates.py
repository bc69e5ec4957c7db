"""Parsing of dates given on the command line."""

from __future__ import annotations

import datetime as dt

from ..errors import UsageError
from ..reports.periods import check_days, resolve_period

__all__ = ["day_range", "parse_day"]


def parse_day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} takes a day as YYYY-MM-DD, not {text!r}.") from None
    check_days(day, None)
    return day


def day_range(
    period: str | None, since: str | None, until: str | None
) -> tuple[dt.date | None, dt.date | None]:
    """Inclusive first and last day from --period or --since/--until (open-ended when not given)."""
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    if period is None:
        if first is not None and last is not None and first > last:
            raise UsageError(
                f"--since {first} is after --until {last}; swap the two days (both are inclusive)."
            )
        check_days(first, last)
        return first, last
    if first is not None or last is not None:
        raise UsageError("Give --period or --since/--until, not both.")
    chosen = resolve_period(period, None, None, today=dt.datetime.now(dt.UTC).date())
    return chosen.start, chosen.last_day
