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
