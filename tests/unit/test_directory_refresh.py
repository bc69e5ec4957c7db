"""When a sync reads the directory again: a person's sync always, a scheduled one by the directory's age."""

from __future__ import annotations

import datetime as dt

import pytest

from usageledger.sync.directory_refresh import SCHEDULED_TRIGGER, plan_directory_read

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def _hours_ago(hours: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours)


@pytest.mark.parametrize("trigger", ["manual", "connect"])
def test_a_sync_a_person_started_reads_even_a_fresh_directory(trigger):
    plan = plan_directory_read(trigger, _hours_ago(0.1), 24, NOW)
    assert plan.read_first and plan.reason == f"a {trigger} sync reads it"


@pytest.mark.parametrize(
    ("read_hours_ago", "refresh_hours", "reads", "reason"),
    [
        (None, 24, True, "never read"),
        (23.9, 24, False, "read 23.9 h ago"),
        (24.0, 24, True, "24.0 h old"),
        (30.0, 24, True, "30.0 h old"),
        (0.5, 1, False, "read 0.5 h ago"),
        (0.0, 0, True, "0.0 h old"),  # 0: every sync, as before the directory was kept
    ],
)
def test_a_scheduled_sync_reads_the_directory_by_its_age(read_hours_ago, refresh_hours, reads, reason):
    read_at = None if read_hours_ago is None else _hours_ago(read_hours_ago)
    plan = plan_directory_read(SCHEDULED_TRIGGER, read_at, refresh_hours, NOW)
    assert (plan.read_first, plan.reason) == (reads, reason)


def test_a_clock_that_went_back_keeps_the_directory_and_says_so_without_a_negative_age():
    plan = plan_directory_read(SCHEDULED_TRIGGER, NOW + dt.timedelta(minutes=30), 24, NOW)
    assert not plan.read_first and plan.reason == "read 0.0 h ago"
