"""Whether a sync reads the organization's directory again, and why.

The directory (workspaces, API keys, users, workspace members, RBAC groups and their members) is 9 of a
small organization's 18 calls an hourly sync, and it changes far less often than usage. So:

- a sync a person started (the CLI's `sync` and `connect`, the web app's Sync now) always reads it;
- a scheduled sync reads it when it was never read or is `directory_refresh_hours` old (24 by default;
  0 reads it on every sync, as before);
- a scheduled sync that did not read it first reads it after its windows when the rows it synced name a
  workspace or API key the directory does not list (one created since the last read), so a new key shows
  its name within the hour, as before. Renamed workspaces and keys, a key's status and memberships may be
  up to a day old between a person's syncs.

Anthropic's spend limits are read on every sync: budgets and alerts compare spend against them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["SCHEDULED_TRIGGER", "DirectoryPlan", "plan_directory_read"]

SCHEDULED_TRIGGER = "scheduled"  # what the scheduler and the job queue pass; every other trigger is a person


@dataclass(frozen=True, slots=True)
class DirectoryPlan:
    """Whether to read the directory before the windows, and the reason in words (the sync's event says it)."""

    read_first: bool
    reason: str


def plan_directory_read(
    trigger: str, read_at: dt.datetime | None, refresh_hours: float, now: dt.datetime
) -> DirectoryPlan:
    if trigger != SCHEDULED_TRIGGER:
        return DirectoryPlan(True, f"a {trigger} sync reads it")
    if read_at is None:
        return DirectoryPlan(True, "never read")
    age = now - read_at
    if refresh_hours == 0 or age >= dt.timedelta(hours=refresh_hours):
        return DirectoryPlan(True, f"{_hours(age)} old")
    return DirectoryPlan(False, f"read {_hours(age)} ago")


def _hours(age: dt.timedelta) -> str:
    hours = max(age.total_seconds(), 0) / 3600
    return f"{hours:.1f} h"
