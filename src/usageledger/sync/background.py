"""Syncs that run beside a web server: one thread per running sync, at most one per connection."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from ..config import Settings
from ..errors import UsageLedgerError
from .engine import run_sync

__all__ = ["BackgroundSyncs"]

log = logging.getLogger(__name__)


class BackgroundSyncs:
    """Start syncs without waiting; failures are already in the event log, so they are only logged here."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._settings = settings
        self._engine = engine
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, connection_id: int, trigger: str = "manual") -> bool:
        """Start a sync of the connection; False when one is already running in this process."""
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

    def join(self, timeout: float | None = None) -> None:
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def _run(self, connection_id: int, trigger: str) -> None:
        try:
            run_sync(self._settings, self._engine, connection_id, trigger=trigger)
        except UsageLedgerError as exc:
            log.warning("sync of connection %s failed: %s", connection_id, exc.message)
        except Exception:
            log.exception("sync of connection %s crashed", connection_id)
