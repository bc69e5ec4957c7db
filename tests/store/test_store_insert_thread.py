"""The insert thread: a sync's row inserts run beside the writer, in order, and fail its window cleanly."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from store_db_fixtures import usage

from usageledger.models import Window
from usageledger.store import (
    InsertThread,
    RepeatedRowError,
    WindowWriter,
    insert_thread,
    start_sync_run,
    window_inserts,
)
from usageledger.store.insert_thread import InsertFailed
from usageledger.store.tables import usage_rows

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
WINDOW = Window(D1, D2 + dt.timedelta(days=1))
INSERT = "INSERT INTO t (a) VALUES (?)"


@pytest.fixture
def table(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(tmp_path / "t.db", check_same_thread=False)
    conn.execute("CREATE TABLE t (a INTEGER UNIQUE)")
    yield conn
    conn.close()


def _stored(conn: sqlite3.Connection) -> list[int]:
    return [a for (a,) in conn.execute("SELECT a FROM t ORDER BY rowid")]


def test_inserts_run_in_order_in_their_own_thread(table: sqlite3.Connection) -> None:
    """Every statement handed over runs, in order, in the insert thread; `wait` returns once they have."""
    ran_in: list[str] = []
    table.set_trace_callback(
        lambda sql: ran_in.append(threading.current_thread().name) if sql.startswith("INSERT") else None
    )
    thread = InsertThread(table)
    thread.send(INSERT, (1,))
    thread.send(INSERT, [(2,), (3,)], many=True)
    thread.send(INSERT, (4,))
    thread.wait()
    table.set_trace_callback(None)
    assert _stored(table) == [1, 2, 3, 4]
    assert set(ran_in) == {"usageledger-inserts"}
    thread.close()
    assert not any(t.name == "usageledger-inserts" for t in threading.enumerate())


def test_a_failed_insert_is_raised_by_wait_and_what_followed_it_is_not_run(table: sqlite3.Connection) -> None:
    thread = InsertThread(table)
    thread.send(INSERT, (1,))
    thread.send(INSERT, (1,), what="usage")  # the unique key refuses it
    thread.send(INSERT, (2,))  # after a failure: the window is lost, nothing more runs
    with pytest.raises(InsertFailed) as failed:
        thread.wait()
    assert failed.value.what == "usage"
    assert isinstance(failed.value.error, IntegrityError)  # as SQLAlchemy raises it for its own statements
    assert _stored(table) == [1]
    thread.send(INSERT, (5,))  # raised once: the thread serves the next window
    thread.wait()
    assert _stored(table) == [1, 5]
    thread.close()


def test_discard_waits_for_the_running_insert_and_drops_the_queued_ones(table: sqlite3.Connection) -> None:
    """A failed window: the statement running finishes (the connection is idle after), the rest never run."""
    running, release = threading.Event(), threading.Event()

    def slow() -> int:
        running.set()
        release.wait(5)
        return 10

    table.create_function("slow", 0, slow)
    thread = InsertThread(table)
    thread.send("INSERT INTO t (a) VALUES (slow())", ())
    assert running.wait(5)
    thread.send(INSERT, (11,))
    thread.send(INSERT, (12,))
    threading.Timer(0.2, release.set).start()
    thread.discard()
    assert _stored(table) == [10]
    thread.send(INSERT, (13,))
    thread.wait()
    assert _stored(table) == [10, 13]
    thread.close()


@pytest.mark.parametrize("stored_before", [False, True], ids=["empty window", "window with rows"])
def test_a_row_repeated_through_the_insert_thread_fails_the_window(
    engine: Engine, connection_id: int, stored_before: bool
) -> None:
    """The writer with an insert thread (SQLite; PostgreSQL writes itself): a repeated row is the same
    RepeatedRowError, of its kind, and the window's transaction keeps nothing."""

    def stored() -> list[tuple]:
        with engine.connect() as conn:
            return [
                tuple(r) for r in conn.execute(select(usage_rows.c.day, usage_rows.c.uncached_input_tokens))
            ]

    with engine.connect() as conn, insert_thread(conn) as inserts:
        assert (inserts is not None) == (engine.dialect.name == "sqlite")
        if stored_before:
            with conn.begin(), window_inserts(inserts):
                run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
                writer = WindowWriter(conn, connection_id, run, WINDOW, inserts=inserts)
                writer.write_usage([usage(D1), usage(D2)])
                writer.finish()
        before = stored()
        with pytest.raises(RepeatedRowError) as refused, conn.begin(), window_inserts(inserts):
            run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
            writer = WindowWriter(conn, connection_id, run, WINDOW, inserts=inserts)
            writer.write_usage([usage(D1, tokens=7), usage(D2, tokens=7)])
            writer.write_usage([usage(D2, tokens=7)])
            writer.finish()
        assert refused.value.kind == "usage"
        assert stored() == before
        # The connection and its thread go on: the next window is written whole.
        with conn.begin(), window_inserts(inserts):
            run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
            writer = WindowWriter(conn, connection_id, run, WINDOW, inserts=inserts)
            writer.write_usage([usage(D1, tokens=9), usage(D2, tokens=9)])
            writer.finish()
    assert sorted(stored()) == [(D1, 9), (D2, 9)]
