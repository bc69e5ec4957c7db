"""Parsing of dates given on the command line."""

from __future__ import annotations

import datetime as dt

from ..errors import UsageError

__all__ = ["parse_day"]


def parse_day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} takes a day as YYYY-MM-DD, not {text!r}.") from None
