"""The queue's commands and schema: SQLite is refused with what to do; the schema installs once, safely."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from usageledger import jobs
from usageledger.cli import main
from usageledger.config import Settings
from usageledger.store import create_engine_for, migrate
from usageledger.sync import BackgroundSyncs


@pytest.mark.parametrize("command", [["worker"], ["worker", "--concurrency", "4"], ["scheduler"]])
def test_queue_commands_on_sqlite_exit_2_and_say_what_to_do(command, tmp_path, monkeypatch, capsys):
    """`worker` and `scheduler` need PostgreSQL: exit 2, the variable to set, and no database created."""
    monkeypatch.setenv("USAGELEDGER_HOME", str(tmp_path / "home"))
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "needs PostgreSQL" in err and "USAGELEDGER_DATABASE_URL=postgresql+psycopg://" in err
    assert "Traceback" not in err
    assert not (tmp_path / "home" / "usageledger.db").exists()


@pytest.mark.postgres
def test_the_queue_schema_installs_once_even_when_workers_start_together(postgres_url, tmp_path):
    """Four processes' worth of concurrent installs: one installs, the others find it; again is a no-op."""
    engine = create_engine(postgres_url)
    try:
        results: list[bool] = []
        errors: list[BaseException] = []

        def install() -> None:
            try:
                results.append(jobs.install_queue_schema(engine))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=install) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert sorted(results) == [False, False, False, True]
        assert jobs.install_queue_schema(engine) is False
        with engine.connect() as conn:
            assert conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_sync_now_on_postgresql_queues_one_job_per_connection(postgres_url, tmp_path):
    """With the queue in use, *Sync now* queues a job (locked by connection) instead of a thread; a
    second press while it waits queues nothing more."""
    settings = Settings(home=tmp_path, database_url=postgres_url)
    engine = create_engine_for(settings)
    migrate(engine)
    jobs.install_queue_schema(engine)
    queue = jobs.build_queue(settings, "serve")
    syncs = BackgroundSyncs(settings, engine)
    try:
        with queue.open():
            syncs.use_queue(lambda connection_id, trigger: jobs.enqueue_sync(queue, connection_id, trigger))
            assert syncs.start(7, "manual") is True
            assert syncs.start(7, "manual") is False
            assert syncs.start(8, "manual") is True
        assert not syncs.is_running(7)  # nothing runs in this process
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT lock, queueing_lock, args->>'trigger' FROM procrastinate_jobs ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [
            (jobs.sync_lock(7), jobs.sync_lock(7), "manual"),
            (jobs.sync_lock(8), jobs.sync_lock(8), "manual"),
        ]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_serve_on_postgresql_queues_due_syncs_and_sends_sync_now_to_the_queue(postgres_url, tmp_path):
    """`serve`'s PostgreSQL path: its scheduler thread queues the due connection (not the fresh one) at
    once, and *Sync now* goes to the queue; on SQLite the same call changes nothing."""
    import datetime as dt

    from usageledger import store
    from usageledger.cli.context import AppContext
    from usageledger.cli.worker import serve_with_job_queue

    sqlite = AppContext(Settings(home=tmp_path / "sqlite"))
    assert serve_with_job_queue(sqlite, BackgroundSyncs(sqlite.settings, sqlite.engine)) is None
    sqlite.close()

    actx = AppContext(Settings(home=tmp_path / "pg", database_url=postgres_url))
    with actx.engine.begin() as conn:
        tenant_id = store.ensure_default_tenant(conn)
        ids = [
            store.insert_connection(
                conn,
                tenant_id=tenant_id,
                name=f"org {i}",
                provider="anthropic",
                base_url="http://127.0.0.1:1",
                organization_id=f"org-{i}",
                organization_name=None,
                key_hint=None,
                source="analytics",
            )  # fmt: skip
            for i in range(2)
        ]
        store.update_connection(conn, ids[1], last_sync_started_at=dt.datetime.now(dt.UTC))  # fresh
    syncs = BackgroundSyncs(actx.settings, actx.engine)
    stop = serve_with_job_queue(actx, syncs)
    assert stop is not None and syncs.queued
    try:

        def queued_locks() -> list[str]:
            with actx.engine.connect() as conn:
                return list(conn.execute(text(
                    "SELECT lock FROM procrastinate_jobs WHERE task_name = 'usageledger.sync_connection' ORDER BY id"
                )).scalars())  # fmt: skip

        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20)
        while not queued_locks() and dt.datetime.now(dt.UTC) < deadline:
            threading.Event().wait(0.05)
        assert queued_locks() == [jobs.sync_lock(ids[0])]  # the never-synced one; the fresh one is not due
        assert syncs.start(ids[1], "manual") is True  # Sync now: a job, not a thread
        assert queued_locks() == [jobs.sync_lock(ids[0]), jobs.sync_lock(ids[1])]
        assert not syncs.is_running(ids[1])
    finally:
        stop()
        actx.close()
