"""A sync's row inserts run by a thread of their own on SQLite, beside the writer's Python work.

sqlite3 lets go of the GIL while SQLite runs a statement, and a backfill's multi-row inserts are a
large part of the writing thread's time. Run here, that time overlaps the writer's decoding, row
building and summing of the next page instead of adding to it: with the cheaper rollup sums, a large
organization's year went from 0.257 to 0.232 of calls × latency (README, "Measured"). PostgreSQL's COPY
already runs in the server's process; it does not use this.

One sqlite3 connection is not safe in two threads at once, so the rules are strict:
- the thread runs only the inserts it is handed, in order, on the writer's connection and transaction;
- before the connection runs anything else (a window's deletes, rollups, events, commit or rollback) the
  writer waits until the thread is idle: `wait()` when the window goes on, `discard()` when it failed;
- a failed insert is raised by the next `send` or `wait`, and the inserts handed over after it are not run
  (the window's transaction is rolled back).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

__all__ = ["InsertFailed", "InsertThread", "insert_thread", "window_inserts"]

# Statements handed over and not yet run: enough that the writer never waits for the thread to take one,
# few enough that the rows waiting (500 a statement) stay a small part of a window's memory.
_DEPTH = 4


class InsertFailed(Exception):
    """An insert run by the thread failed: `what` is the label it was handed with, `error` the failure as
    SQLAlchemy raises it for a statement run on the writer's own connection (an IntegrityError, say)."""

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__(f"an insert of {what or 'rows'} failed: {error}")
        self.what = what
        self.error = error


class _Stop:
    __slots__ = ()


_STOP = _Stop()


class InsertThread:
    """Runs `INSERT`s handed over by `send` on one sqlite3 connection, in order, in its own thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._queue: queue.Queue[tuple[str, Sequence[Any], bool, str] | _Stop] = queue.Queue(maxsize=_DEPTH)
        self._failure: InsertFailed | None = None
        self._skip = False  # set by discard(): drop what is queued instead of running it
        self._thread = threading.Thread(target=self._run, name="usageledger-inserts", daemon=True)
        self._thread.start()

    def send(self, sql: str, parameters: Sequence[Any], *, many: bool = False, what: str = "") -> None:
        """Hand over one statement (`many`: `parameters` is a sequence of parameter tuples); `what` names
        its rows in the InsertFailed it would raise. Raises the InsertFailed of an earlier one."""
        self._raise_failure()
        self._queue.put((sql, parameters, many, what))

    def wait(self) -> None:
        """Return once every statement handed over has run; raise the first that failed (InsertFailed)."""
        self._queue.join()
        self._raise_failure()

    def discard(self) -> None:
        """The window failed: drop the statements not yet run, wait for the one running, forget failures."""
        self._skip = True
        self._queue.join()
        self._skip = False
        self._failure = None

    def close(self) -> None:
        """Stop the thread once the statements handed over are done with (call `wait` or `discard` first)."""
        self._queue.put(_STOP)
        self._thread.join()

    def _raise_failure(self) -> None:
        failure = self._failure
        if failure is not None:
            self._failure = None
            self._skip = False
            raise failure

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if isinstance(item, _Stop):
                    return
                if self._skip or self._failure is not None:
                    continue  # the window is lost already: its later inserts must not run
                sql, parameters, many, what = item
                try:
                    if many:
                        self._connection.executemany(sql, parameters)
                    else:
                        self._connection.execute(sql, parameters)
                except sqlite3.Error as exc:  # handed to the writer, which raises it in its own thread
                    wrapped = DBAPIError.instance(sql, None, exc, sqlite3.Error, hide_parameters=True)
                    self._failure = InsertFailed(what, wrapped)
                except BaseException as exc:
                    self._failure = InsertFailed(what, exc)
            finally:
                self._queue.task_done()


@contextmanager
def insert_thread(conn: Connection) -> Iterator[InsertThread | None]:
    """An insert thread on `conn`'s sqlite3 connection for as long as the block runs; None elsewhere."""
    if conn.dialect.name != "sqlite":
        yield None
        return
    dbapi_connection = conn.connection.dbapi_connection
    assert isinstance(dbapi_connection, sqlite3.Connection)
    thread = InsertThread(dbapi_connection)
    try:
        yield thread
    finally:
        thread.discard()  # nothing is left to run after the last window; a failed one's rest is dropped
        thread.close()


@contextmanager
def window_inserts(thread: InsertThread | None) -> Iterator[None]:
    """One window's inserts: if the window fails, the thread is idle before its transaction rolls back."""
    try:
        yield
    except BaseException:
        if thread is not None:
            thread.discard()
        raise
