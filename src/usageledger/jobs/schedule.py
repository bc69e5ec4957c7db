"""When each connection syncs next: a pure function of (its last sync, whether its key was rejected, the
interval, now), shared by the scheduler that enqueues syncs and the detail page that shows the next one.

The rule is the in-process scheduler's (`sync.BackgroundSyncs.start_due`): a connection is due once its
last sync started `interval` ago or longer, or when it never synced. A disconnected connection, or one
whose key the provider rejected, is never due: retrying cannot help until a person acts.

One interval serves both passes the issue asks for: every scheduled sync is the incremental sync, which
already re-fetches the whole lookback (`USAGELEDGER_LOOKBACK_DAYS`), so the daily pass over the full
lookback is part of each hourly one. When an hourly grain lands, its cheaper pass belongs here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..store import ScheduleState

__all__ = ["NextSync", "plan_due_syncs", "plan_next_sync"]


@dataclass(frozen=True, slots=True)
class NextSync:
    """What the detail page says about the schedule: a time, "due now", halted, or on demand only."""

    at: dt.datetime | None  # None: not scheduled (see the flags)
    due_now: bool = False
    halted_at: dt.datetime | None = None  # the key was rejected then: no scheduled sync until a new key
    on_demand_only: bool = False  # the interval is 0, or the connection is disconnected


def plan_next_sync(state: ScheduleState, interval: dt.timedelta, now: dt.datetime) -> NextSync:
    """The next scheduled sync of one connection."""
    if state.state == "disconnected" or interval <= dt.timedelta(0):
        return NextSync(at=None, on_demand_only=True)
    if state.halted_at is not None:
        return NextSync(at=None, halted_at=state.halted_at)
    if state.last_sync_started_at is None:
        return NextSync(at=now, due_now=True)
    at = state.last_sync_started_at + interval
    return NextSync(at=max(at, now), due_now=at <= now)


def plan_due_syncs(states: Iterable[ScheduleState], interval: dt.timedelta, now: dt.datetime) -> list[int]:
    """The ids of the connections whose scheduled sync is due now."""
    return [s.connection_id for s in states if plan_next_sync(s, interval, now).due_now]
