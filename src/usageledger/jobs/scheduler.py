"""The scheduler of the PostgreSQL deployment: every tick, queue a sync of each connection that is due.

Run by `usageledger scheduler`, or by `usageledger serve` on PostgreSQL. Several schedulers may run at
once (one per web server): a sync waiting in the queue refuses a second one (its queueing lock), so
they never queue a connection twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

import procrastinate
from sqlalchemy import Engine

from .. import store
from ..sync import SCHEDULED_TRIGGER
from .queue import enqueue_sync
from .schedule import plan_due_syncs

__all__ = ["enqueue_due_syncs", "run_scheduler"]

log = logging.getLogger(__name__)


def enqueue_due_syncs(app: procrastinate.App, engine: Engine, interval: dt.timedelta) -> list[int]:
    """Queue a sync of every connection that is due; the ids actually queued (not already waiting)."""
    with engine.connect() as conn:
        states = store.list_schedule_states(conn)
    due = plan_due_syncs(states, interval, dt.datetime.now(dt.UTC))
    return [connection_id for connection_id in due if enqueue_sync(app, connection_id, SCHEDULED_TRIGGER)]


def run_scheduler(
    app: procrastinate.App,
    engine: Engine,
    interval: dt.timedelta,
    stop: threading.Event,
    tick_seconds: float = 30.0,
) -> None:
    """Enqueue due syncs every `tick_seconds` until `stop` is set. `app` must be open."""
    while not stop.is_set():
        try:
            queued = enqueue_due_syncs(app, engine, interval)
            if queued:
                log.info("queued scheduled syncs of connections %s", queued)
        except Exception:  # a database hiccup must not end the schedule
            log.exception("scheduled syncs could not be queued")
        stop.wait(tick_seconds)
