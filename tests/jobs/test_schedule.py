"""The schedule as a pure function: when a connection syncs next, and which are due."""

from __future__ import annotations

import datetime as dt

import pytest

from usageledger.jobs import NextSync, plan_due_syncs, plan_next_sync
from usageledger.store import ScheduleState

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _state(connection_id=1, state="connected", started=None, halted_at=None) -> ScheduleState:
    return ScheduleState(connection_id, state, started, halted_at)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (_state(started=NOW - dt.timedelta(minutes=20)), NextSync(at=NOW + dt.timedelta(minutes=40))),
        (_state(started=NOW - HOUR), NextSync(at=NOW, due_now=True)),
        (_state(started=NOW - 5 * HOUR), NextSync(at=NOW, due_now=True)),
        (_state(started=None), NextSync(at=NOW, due_now=True)),
        (_state(state="disconnected", started=None), NextSync(at=None, on_demand_only=True)),
        (_state(started=NOW - 5 * HOUR, halted_at=NOW - HOUR), NextSync(at=None, halted_at=NOW - HOUR)),
    ],
    ids=["later", "exactly-due", "overdue", "never-synced", "disconnected", "key-rejected"],
)
def test_next_sync_of_one_connection(state, expected):
    """Due once the last start is an interval old; never for a disconnected or key-rejected connection."""
    assert plan_next_sync(state, HOUR, NOW) == expected


def test_an_interval_of_zero_means_on_demand_only():
    """USAGELEDGER_SYNC_INTERVAL_HOURS=0 schedules nothing, however old the last sync."""
    assert plan_next_sync(_state(started=None), dt.timedelta(0), NOW) == NextSync(
        at=None, on_demand_only=True
    )


def test_due_syncs_are_the_due_connections_only():
    """Of fresh, stale, never-synced, halted and disconnected connections, the stale and the new are due."""
    states = [
        _state(1, started=NOW - dt.timedelta(minutes=5)),
        _state(2, started=NOW - 2 * HOUR),
        _state(3, started=None),
        _state(4, started=NOW - 2 * HOUR, halted_at=NOW - HOUR),
        _state(5, state="disconnected", started=NOW - 2 * HOUR),
    ]
    assert plan_due_syncs(states, HOUR, NOW) == [2, 3]
