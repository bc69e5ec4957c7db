"""The in-process scheduler of `serve` keeps connections synced, skipping disconnected and fresh ones."""

from __future__ import annotations

import datetime as dt
import time

from usageledger import store
from usageledger.config import Settings
from usageledger.sync import BackgroundSyncs


class FakeStartRecorder(BackgroundSyncs):
    """BackgroundSyncs whose `start` records the ids instead of syncing."""

    def __init__(self, settings, engine) -> None:
        super().__init__(settings, engine)
        self.started: list[int] = []

    def start(self, connection_id: int, trigger: str = "manual") -> bool:
        self.started.append(connection_id)
        return True


def _connection(conn, tenant_id: int, name: str, **values) -> int:
    connection_id = store.insert_connection(
        conn,
        tenant_id=tenant_id,
        name=name,
        provider="anthropic",
        base_url="http://127.0.0.1:1",
        organization_id="org_fake",
        organization_name="Fake",
        key_hint="sk-ant-admin01-…fake",
        source="analytics",
    )
    if values:
        store.update_connection(conn, connection_id, **values)
    return connection_id


def test_the_schedule_starts_due_connections_only(tmp_path, secret_key):
    """Never-synced and stale connections start; fresh and disconnected ones do not."""
    settings = Settings(home=tmp_path, secret_key=secret_key)
    engine = store.create_engine_for(settings)
    store.migrate(engine)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        tenant = store.ensure_default_tenant(conn)
        never = _connection(conn, tenant, "never synced")
        stale = _connection(conn, tenant, "stale", last_sync_started_at=now - dt.timedelta(hours=7))
        _connection(conn, tenant, "fresh", last_sync_started_at=now - dt.timedelta(minutes=5))
        _connection(conn, tenant, "gone", state="disconnected")
    syncs = FakeStartRecorder(settings, engine)
    thread = syncs.schedule(6 * 3600)
    deadline = time.monotonic() + 5
    while len(syncs.started) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    syncs.stop()
    assert thread is not None
    thread.join(5)
    assert sorted(syncs.started) == sorted([never, stale])
    engine.dispose()


def test_an_interval_of_zero_disables_the_schedule(tmp_path, secret_key):
    settings = Settings(home=tmp_path, secret_key=secret_key)
    syncs = BackgroundSyncs(settings, store.create_engine_for(settings))
    assert syncs.schedule(0) is None
