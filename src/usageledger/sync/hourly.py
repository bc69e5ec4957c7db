"""The hourly grain of a sync: the recent days by hour (workspace × model), stored after the daily windows.

Every sync that reaches today fetches the lookback's days and today so far at `time_bucket_width=1h`
(usage and cost side by side, within the client's limit of requests in flight) and replaces the
connection's hourly rows in one transaction once the daily windows committed. The calls go out as soon
as the daily windows' calls are all made (`HourlyPages`), while the writer is still storing their pages,
so they no longer add their round trips to the sync's time. The hours are a view for the recent days,
not the record: the daily grain stays the source of every total. So a failure here never fails the
sync: the daily windows have committed, the hourly rows stay as the last sync left them, and an
`hourly_skipped` event says why. Only a rejected key or a disconnect (which stop everything) go through.

The closed days of the range (before today) are checked against the daily grain just stored: per day,
tokens must be equal and cost within a cent, or a `mismatch` event says where.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from types import TracebackType

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from .. import store
from ..anthropic.client import AdminApiClient
from ..anthropic.hourly import MAX_HOURLY_RANGE, HourlySource
from ..errors import MalformedResponseError, PermissionDeniedError, UpstreamError
from ..models import TOKEN_METRICS, CostRecord, UsageRecord
from ..store.hourly import replace_hours
from ..store.tables import cost_rows, usage_rows
from .actor_grain import DayTotals
from .events import record_event, record_grain_mismatch
from .permit import SyncPermit
from .planner import earliest_allowed_day

__all__ = ["HourlyPages", "hourly_range", "sync_hours"]

_HOUR = dt.timedelta(hours=1)
_CENT = Decimal("0.01")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def hourly_range(today: dt.date, now: dt.datetime, lookback_days: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the hours a sync keeps: midnight `lookback_days` before today, to the end of the
    current hour (today's partial hour included). At most the API's 31 days, never before the earliest day
    it serves. A `today` other than now's day (a test's) ends at that day's midnight."""
    end = (
        (now.replace(minute=0, second=0, microsecond=0) + _HOUR)
        if now.date() == today
        else _midnight(today + dt.timedelta(days=1))
    )
    start = max(
        _midnight(today - dt.timedelta(days=lookback_days)),
        _midnight(earliest_allowed_day(today)),
        end - MAX_HOURLY_RANGE,
    )
    return start, end


def _fetch(
    source: HourlySource, start: dt.datetime, end: dt.datetime
) -> tuple[list[UsageRecord], list[CostRecord]]:
    """Every usage and cost row of the range (two chains side by side): a few pages, held in memory."""

    def usage() -> list[UsageRecord]:
        return [r for page in source.iter_usage(start, end) for r in page.records]

    def cost() -> list[CostRecord]:
        return [r for page in source.iter_cost(start, end) for r in page.records]

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="usageledger-hourly") as pool:
        usage_future, cost_future = pool.submit(usage), pool.submit(cost)
        return usage_future.result(), cost_future.result()


_Hours = tuple[tuple[dt.datetime, dt.datetime], list[UsageRecord], list[CostRecord]]


class HourlyPages:
    """The hours of `hourly_range` (its span, usage and cost rows), fetched in a thread of their own once
    `ready()` says the daily windows' calls are all made, while the writer is still storing those windows.
    Not before: they would take request slots from the pages the writer waits for, and the API would no
    longer see every daily call first. `ready()` False (the sync is failing) fetches nothing.

    Use as a context manager; leaving it waits for a fetch under way (a few calls)."""

    def __init__(
        self,
        client: AdminApiClient,
        organization_id: str | None,
        page_limit: int,
        today: dt.date,
        lookback_days: int,
        ready: Callable[[], bool],
    ) -> None:
        source = HourlySource(client, organization_id, page_limit)

        def fetch() -> _Hours | None:
            if not ready():
                return None
            # The span when the calls go out: the current hour then, not when the sync started.
            span = hourly_range(today, dt.datetime.now(dt.UTC), lookback_days)
            return (span, *_fetch(source, *span))

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usageledger-hourly")
        self._hours = self._pool.submit(fetch)

    def __enter__(self) -> HourlyPages:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._pool.shutdown(wait=True)

    def hours(self) -> _Hours:
        """The span and its rows; raises what fetching them raised."""
        hours = self._hours.result()
        if hours is None:
            raise RuntimeError("the hourly rows were not fetched: the daily windows' calls did not all end")
        return hours


def sync_hours(
    engine: Engine,
    connection: store.ConnectionRow,
    run_id: int,
    permit: SyncPermit,
    pages: HourlyPages,
    today: dt.date,
    checked_from: dt.date,
) -> tuple[int, int]:
    """Store the hours `pages` fetched; returns (usage rows, cost rows) stored, (0, 0) when skipped. Whole
    days from `checked_from` (the first this sync stored) are checked."""
    try:
        (start, _), usage, cost = pages.hours()
        with engine.begin() as conn:
            permit.claim(conn)  # as a window does: a disconnect committed meanwhile wins
            try:
                stored = replace_hours(conn, connection.id, run_id, usage, cost)
            except store.RepeatedRowError as exc:
                raise MalformedResponseError(
                    f"The Anthropic API returned the same {exc.kind} row twice; a page cursor led back to an "
                    "earlier page."
                ) from None
            _check_days(conn, connection, max(start.date(), checked_from), today, usage, cost)
        return stored
    except (UpstreamError, PermissionDeniedError) as exc:
        with engine.begin() as conn:
            record_event(
                conn,
                connection,
                "hourly_skipped",
                "warning",
                f"Today's data by hour was not refreshed: {exc.message} The daily data of this sync is "
                "stored; the hourly view shows what the last sync that could fetch it left, and the next "
                "sync tries again.",
                request_id=exc.request_id,
            )
        return 0, 0


def _day(bucket: dt.date) -> dt.date:
    """The UTC day of an hourly record's bucket (an aware datetime, typed as its base class)."""
    return bucket.date() if isinstance(bucket, dt.datetime) else bucket


def _check_days(
    conn: Connection,
    connection: store.ConnectionRow,
    first: dt.date,
    today: dt.date,
    usage: list[UsageRecord],
    cost: list[CostRecord],
) -> None:
    """The hours of each whole day in [first, today) must add up to that day in the daily grain (today
    is still moving: its hours and its day were read moments apart)."""
    if today <= first:
        return
    by_hour = DayTotals()
    by_hour.add_usage(r._replace(day=d) for r in usage if first <= (d := _day(r.day)) < today)
    by_hour.add_cost(r._replace(day=d) for r in cost if first <= (d := _day(r.day)) < today)
    by_day = _daily_totals(conn, connection.id, first, today)
    problems = by_hour.differences(by_day)
    if problems:
        record_grain_mismatch(
            conn,
            connection,
            "hourly",
            "The hourly data does not add up to the daily data (hourly vs daily)",
            problems,
            "the next sync fetches both again.",
        )


def _daily_totals(conn: Connection, connection_id: int, first: dt.date, last: dt.date) -> DayTotals:
    """The daily grain's tokens and cost per day in [first, last), as stored."""
    totals = DayTotals()
    u = usage_rows.c
    tokens = [u[name] for name in TOKEN_METRICS]
    query = (
        select(u.day, *(func.sum(t) for t in tokens))
        .where(u.connection_id == connection_id, u.day >= first, u.day < last)
        .group_by(u.day)
    )
    for day, *sums in conn.execute(query):
        totals.tokens[day] = [int(s or 0) for s in sums]
    c = cost_rows.c
    query = (
        select(c.day, func.sum(c.amount_microcents))
        .where(c.connection_id == connection_id, c.day >= first, c.day < last)
        .group_by(c.day)
    )
    for day, microcents in conn.execute(query):
        totals.cents[day] = Decimal(int(microcents or 0)).scaleb(-6)
    return totals
