"""Connections, credentials, locks, events and runs."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from usageledger.config import Settings
from usageledger.errors import NotFoundError
from usageledger.models import ApiKeyInfo, Directory, UserInfo, WorkspaceInfo
from usageledger.store import (
    Vault,
    acquire_sync_lock,
    add_event,
    checkpoint,
    create_engine_for,
    delete_credential,
    ensure_default_tenant,
    get_connection,
    insert_connection,
    list_connections,
    list_events,
    list_sync_runs,
    load_credential,
    lock_owner_id,
    migrate,
    purge_usage,
    release_sync_lock,
    renew_sync_lock,
    set_cursor,
    start_sync_run,
    store_credential,
    update_connection,
    update_sync_run,
    upsert_directory,
)
from usageledger.store.tables import anthropic_workspaces, tenants


def test_connection_row_has_every_column_and_stored_counts(engine: Engine, connection_id: int) -> None:
    """A fresh connection reads back with its values, no rows stored and no day range."""
    with engine.begin() as conn:
        row = get_connection(conn, connection_id)
        update_connection(conn, connection_id, state="syncing", last_error=None)
        set_cursor(conn, connection_id, dt.date(2026, 3, 1))
    assert row.organization_name == "Demo Org" and row.state == "connected"
    assert row.created_at.tzinfo is dt.UTC
    assert (row.rows_stored, row.first_day, row.last_day) == (0, None, None)
    with engine.connect() as conn:
        again = get_connection(conn, connection_id)
    assert again.state == "syncing" and again.cursor_date == dt.date(2026, 3, 1)


def test_connections_are_tenant_scoped(engine: Engine, connection_id: int) -> None:
    """Another tenant cannot see or fetch the connection."""
    with engine.begin() as conn:
        other = int(
            conn.execute(
                tenants.insert().values(name="other", created_at=dt.datetime.now(dt.UTC))
            ).inserted_primary_key[0]
        )
        mine = ensure_default_tenant(conn)
    with engine.connect() as conn:
        assert get_connection(conn, connection_id, tenant_id=mine).id == connection_id
        with pytest.raises(NotFoundError):
            get_connection(conn, connection_id, tenant_id=other)
        assert list_connections(conn, tenant_id=other) == []
        assert [c.id for c in list_connections(conn, tenant_id=mine)] == [connection_id]
        with pytest.raises(NotFoundError):
            get_connection(conn, 999_999)


def test_credential_round_trip_and_not_found_after_delete(engine: Engine, connection_id: int) -> None:
    """A stored credential loads back; after delete_credential it is gone."""
    with engine.begin() as conn:
        store_credential(conn, connection_id, b"sealed-test-bytes", "kek1")
        store_credential(conn, connection_id, b"sealed-test-bytes-2", "kek2")  # replaces
        assert load_credential(conn, connection_id) == (b"sealed-test-bytes-2", "kek2")
        assert delete_credential(conn, connection_id) is True
        assert delete_credential(conn, connection_id) is False
        with pytest.raises(NotFoundError):
            load_credential(conn, connection_id)


def test_deleted_credential_leaves_the_sqlite_file(tmp_path: Path) -> None:
    """After delete + checkpoint, no byte sequence of the ciphertext remains in the .db or -wal file."""
    settings = Settings(home=tmp_path, secret_key=None)
    engine = create_engine_for(settings)
    migrate(engine)
    vault = Vault.from_settings(settings)
    ciphertext, kek_id = vault.seal("sk-ant-admin01-fake-demo-key-" + "7" * 60)
    try:
        with engine.begin() as conn:
            tenant = ensure_default_tenant(conn)
            cid = insert_connection(
                conn,
                tenant_id=tenant,
                name="x",
                provider="anthropic",
                base_url="u",
                organization_id=None,
                organization_name=None,
                key_hint=None,
                source=None,
            )
            store_credential(conn, cid, ciphertext, kek_id)
        checkpoint(engine)
        db = tmp_path / "usageledger.db"
        assert ciphertext in db.read_bytes()  # the check below can see it when it is there
        with engine.begin() as conn:
            delete_credential(conn, cid)
        checkpoint(engine)
        for path in (db, Path(f"{db}-wal")):
            if path.exists():
                data = path.read_bytes()
                assert ciphertext not in data
                assert ciphertext[20:60] not in data
    finally:
        engine.dispose()


def test_lock_is_exclusive_renewable_and_releasable(engine: Engine, connection_id: int) -> None:
    """One owner at a time; only the owner renews or releases; an expired lock can be taken."""
    a, b = lock_owner_id(), lock_owner_id()
    with engine.begin() as conn:
        assert acquire_sync_lock(conn, connection_id, a, 60)
        assert acquire_sync_lock(conn, connection_id, a, 60)  # re-entrant for the same owner
        assert not acquire_sync_lock(conn, connection_id, b, 60)
        assert not renew_sync_lock(conn, connection_id, b, 60)
        assert renew_sync_lock(conn, connection_id, a, 60)
        assert not release_sync_lock(conn, connection_id, b)
        assert release_sync_lock(conn, connection_id, a)
        assert acquire_sync_lock(conn, connection_id, b, -1)  # already expired
        assert acquire_sync_lock(conn, connection_id, a, 60)
        with pytest.raises(NotFoundError):
            acquire_sync_lock(conn, 999_999, a, 60)


def test_lock_of_a_dead_process_on_this_host_is_stolen(engine: Engine, connection_id: int) -> None:
    """A lock whose owner pid on this host has exited is free; one on another host is not."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = f"{socket.gethostname()}:{int(child.stdout)}:deadbeef"
    alive_elsewhere = f"another-host.test:{os.getpid() + 1}:cafe"
    with engine.begin() as conn:
        assert acquire_sync_lock(conn, connection_id, alive_elsewhere, 3600)
        assert not acquire_sync_lock(conn, connection_id, lock_owner_id(), 3600)
        release_sync_lock(conn, connection_id, alive_elsewhere)
        assert acquire_sync_lock(conn, connection_id, dead, 3600)
        assert acquire_sync_lock(conn, connection_id, lock_owner_id(), 3600)


def test_only_one_of_many_racing_owners_wins(engine: Engine, connection_id: int) -> None:
    """Eight threads with their own database connections race; exactly one gets the lock."""
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def race() -> None:
        owner = lock_owner_id()
        barrier.wait()
        with engine.begin() as conn:
            results.append(acquire_sync_lock(conn, connection_id, owner, 600))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_events_are_listed_newest_first_and_filtered(engine: Engine, connection_id: int) -> None:
    """Events come back newest first, filtered by tenant, connection and kind, details parsed."""
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        add_event(
            conn, tenant_id=tenant, connection_id=connection_id, kind="connected", level="info", message="one"
        )
        add_event(
            conn,
            tenant_id=tenant,
            connection_id=connection_id,
            kind="rate_limit",
            level="warning",
            message="two",
            request_id="req_test",
            details={"retry_after": 3},
        )
        add_event(conn, tenant_id=tenant, connection_id=None, kind="connected", level="info", message="three")
    with engine.connect() as conn:
        assert [e.message for e in list_events(conn, tenant_id=tenant)] == ["three", "two", "one"]
        assert [e.message for e in list_events(conn, connection_id=connection_id)] == ["two", "one"]
        (rate,) = list_events(conn, kind="rate_limit")
        assert rate.details == {"retry_after": 3} and rate.request_id == "req_test"
        assert len(list_events(conn, limit=1)) == 1


def test_sync_runs_record_progress(engine: Engine, connection_id: int) -> None:
    """A run starts as running, takes updates, and lists newest first."""
    with engine.begin() as conn:
        first = start_sync_run(conn, connection_id, "connect", dt.date(2026, 1, 1), dt.date(2026, 2, 1), 31)
        second = start_sync_run(conn, connection_id, "manual", None, None, 3)
        update_sync_run(conn, first, status="succeeded", days_done=31, finished_at=dt.datetime.now(dt.UTC))
        with pytest.raises(NotFoundError):
            update_sync_run(conn, 999_999, status="failed")
    with engine.connect() as conn:
        runs = list_sync_runs(conn, connection_id, 10)
        assert get_connection(conn, connection_id).last_sync_started_at is not None
    assert [r.id for r in runs] == [second, first]
    assert runs[1].status == "succeeded" and runs[1].days_done == 31 and runs[0].status == "running"


def test_directory_upsert_replaces_names_and_purge_removes_data(engine: Engine, connection_id: int) -> None:
    """Names are upserted by id; purge_usage removes the synced data and resets the cursor."""
    directory = Directory(
        workspaces=[WorkspaceInfo(id="wrk_a", name="Old name")],
        api_keys=[ApiKeyInfo(id="apikey_a", name="Test key", workspace_id="wrk_a")],
        users=[UserInfo(id="user_a", email="demo@example.test", name="Demo")],
    )
    with engine.begin() as conn:
        upsert_directory(conn, connection_id, directory)
        directory.workspaces = [
            WorkspaceInfo(id="wrk_a", name="New name"),
            WorkspaceInfo(id="wrk_b", name="B"),
        ]
        upsert_directory(conn, connection_id, directory)
        names = dict(conn.execute(select(anthropic_workspaces.c.id, anthropic_workspaces.c.name)).all())
        assert names == {"wrk_a": "New name", "wrk_b": "B"}
        set_cursor(conn, connection_id, dt.date(2026, 2, 1))
        assert purge_usage(conn, connection_id) == 4
        assert get_connection(conn, connection_id).cursor_date is None
