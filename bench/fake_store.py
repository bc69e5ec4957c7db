"""Benchmarks' shared set-up: a fake organization's ground truth stored as a sync stores it.

Not a benchmark (nothing here is timed). Each window is written by the real `WindowWriter` in its own
transaction, with the cursor moved after it, so the rollups, counts and rows are a synced connection's,
in a fraction of a sync's time (no HTTP, no JSON).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from usageledger import store
from usageledger.fake import FakeOrganization
from usageledger.models import ACTOR, Window
from usageledger.sync import plan_windows

__all__ = ["store_fake_organization"]


def store_fake_organization(
    engine: Engine,
    tenant_id: int,
    fake: FakeOrganization,
    start: dt.date,
    end: dt.date,
    *,
    source: str = "analytics",
    actor_grain: bool = False,
    name: str | None = None,
) -> int:
    """Store the fake's usage and cost of days [start, end) (and its actor grain when asked) on a new
    connected connection of `tenant_id`, with a succeeded sync run; returns the connection's id."""
    days = (end - start).days
    with engine.begin() as conn:
        connection_id = store.insert_connection(
            conn, tenant_id=tenant_id, name=name or fake.organization.name, provider="anthropic",
            base_url="http://127.0.0.1:1", organization_id=fake.organization.id,
            organization_name=name or fake.organization.name, key_hint="sk-ant-admin01-…demo", source=source,
        )  # fmt: skip
        store.upsert_directory(conn, connection_id, fake.directory)
        run_id = store.start_sync_run(conn, connection_id, "connect", start, end, days)
    for planned in plan_windows(start, end):
        window = Window(planned.start, planned.end)
        with engine.begin() as conn:
            writer = store.WindowWriter(conn, connection_id, run_id, window)
            writer.write_usage(fake.truth_usage(window.start, window.end))
            writer.write_cost(fake.truth_cost(window.start, window.end))
            writer.finish()
            if actor_grain:
                actor = store.WindowWriter(conn, connection_id, run_id, window, grain=ACTOR)
                actor.write_usage(fake.truth_actor_usage(window.start, window.end))
                actor.write_cost(fake.truth_actor_cost(window.start, window.end))
                actor.finish()
            store.set_cursor(conn, connection_id, window.end)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        store.update_sync_run(conn, run_id, status="succeeded", finished_at=now, days_done=days)
        store.update_connection(conn, connection_id, state="connected", last_sync_succeeded_at=now,
                                last_sync_started_at=now)  # fmt: skip
    return connection_id
