"""Syncs that run beside a web server: one thread per running sync, at most one per connection.

On PostgreSQL, `serve` hands this object a job queue (`use_queue`): then a sync started from the web app
is a job for the `usageledger worker` processes, and the schedule is the job queue's scheduler's.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from .. import store
from ..config import Settings
from ..errors import UsageLedgerError
from .directory_refresh import SCHEDULED_TRIGGER
from .engine import run_sync

__all__ = ["BackgroundSyncs"]

log = logging.getLogger(__name__)


class BackgroundSyncs:
    """Start syncs without waiting, now or on a schedule (the in-process scheduler of `serve`).

    Failures are already in the event log, so they are only logged here. On several processes the
    store's per-connection lock keeps one sync per connection; a busy connection is skipped.
    """

    def __init__(
        self, settings: Settings, engine: Engine, after_sync: Callable[[Engine, int], object] | None = None
    ) -> None:
        """`after_sync(engine, connection_id)` runs after each successful sync (the alerts' evaluation)."""
        self._settings = settings
        self._after_sync = after_sync
        self._engine = engine
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._enqueue: Callable[[int, str], bool] | None = None

    def use_queue(self, enqueue: Callable[[int, str], bool]) -> None:
        """Queue syncs for the workers instead of running them here; `enqueue` is False when one waits."""
        self._enqueue = enqueue

    @property
    def queued(self) -> bool:
        """Whether syncs go to the job queue (PostgreSQL with workers) rather than threads here."""
        return self._enqueue is not None

    def start(self, connection_id: int, trigger: str = "manual") -> bool:
        """Start (or queue) a sync of the connection; False when one is already running (or waiting)."""
        if self._enqueue is not None:
            return self._enqueue(connection_id, trigger)
        with self._lock:
            running = self._threads.get(connection_id)
            if running is not None and running.is_alive():
                return False
            thread = threading.Thread(
                target=self._run, args=(connection_id, trigger), name=f"sync-{connection_id}", daemon=True
            )
            self._threads[connection_id] = thread
            thread.start()
            return True

    def is_running(self, connection_id: int) -> bool:
        thread = self._threads.get(connection_id)
        return thread is not None and thread.is_alive()

    def start_due(self, max_age_seconds: float, trigger: str = SCHEDULED_TRIGGER) -> list[int]:
        """Start a sync of every connection with a key whose last sync is older than `max_age_seconds`."""
        due_before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=max_age_seconds)
        with self._engine.connect() as conn:
            ids = [
                c.id
                for c in store.list_connections(conn)
                if c.state != "disconnected"
                and (c.last_sync_started_at is None or c.last_sync_started_at <= due_before)
            ]
        return [connection_id for connection_id in ids if self.start(connection_id, trigger)]

    def schedule(self, interval_seconds: float) -> threading.Thread | None:
        """Keep every connection synced at most `interval_seconds` ago, until `stop()` (0 disables)."""
        if interval_seconds <= 0:
            return None

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.start_due(interval_seconds)
                except Exception:  # a database hiccup must not end the schedule
                    log.exception("scheduled sync could not start")
                self._stop.wait(min(interval_seconds, 60.0))

        thread = threading.Thread(target=loop, name="sync-scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def _run(self, connection_id: int, trigger: str) -> None:
        try:
            run_sync(self._settings, self._engine, connection_id, trigger=trigger)
            if self._after_sync is not None:
                self._after_sync(self._engine, connection_id)
        except UsageLedgerError as exc:
            log.warning("sync of connection %s failed: %s", connection_id, exc.message)
        except Exception:
            log.exception("sync of connection %s crashed", connection_id)
