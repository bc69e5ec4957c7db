"""`worker` and `scheduler`: the PostgreSQL deployment's sync workers and the scheduler that feeds them.

Both refuse SQLite with exit 2 before touching anything: the queue lives in the shared PostgreSQL
database. The job queue (procrastinate and the sync engine) is imported inside the commands, so the
other commands do not pay for it at start.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UsageError
from .app import app
from .context import AppContext, app_context
from .render import console

if TYPE_CHECKING:
    from ..sync import BackgroundSyncs

__all__ = ["serve_with_job_queue"]


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Syncs this process runs at once.")] = 1,
    heartbeat: Annotated[float, typer.Option(hidden=True, min=0.1)] = 10.0,
    stalled_after: Annotated[float, typer.Option(hidden=True, min=0.5)] = 30.0,
    retry_wait: Annotated[int, typer.Option(hidden=True, min=0)] = 30,
    max_attempts: Annotated[int, typer.Option(hidden=True, min=0)] = 6,
    recovery_cron: Annotated[str, typer.Option(hidden=True)] = "* * * * * */10",
) -> None:
    """Take sync jobs from the PostgreSQL job queue (run any number, on any number of machines)."""
    from ..alerting import after_sync_hook
    from ..jobs import QUEUE_NAME, QueueOptions, build_queue, install_queue_schema, queue_conninfo

    actx = app_context(ctx)
    queue_conninfo(actx.settings, "worker")  # exit 2 on SQLite, before the database is touched
    options = QueueOptions(
        max_attempts=max_attempts,
        retry_wait_seconds=retry_wait,
        heartbeat_seconds=heartbeat,
        stalled_after_seconds=stalled_after,
        recovery_cron=recovery_cron,
    )
    if stalled_after <= heartbeat:
        raise UsageError("--stalled-after must be longer than --heartbeat, or live workers look dead.")
    engine = actx.engine  # migrated
    install_queue_schema(engine)
    queue = build_queue(actx.settings, "worker", options, pool_size=concurrency + 3)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    name = f"{socket.gethostname()}:{os.getpid()}"
    console.print(f"Worker {name}: up to {concurrency} syncs at once; Ctrl-C stops after the running ones.")
    queue.run_worker(
        queues=[QUEUE_NAME],
        name=name,
        concurrency=concurrency,
        additional_context={
            "settings": actx.settings,
            "engine": engine,
            "after_sync": after_sync_hook(actx.settings),
        },
        update_heartbeat_interval=options.heartbeat_seconds,
        stalled_worker_timeout=options.stalled_after_seconds,
        delete_jobs="successful",  # the queue table holds what waits, runs or failed, not the history
    )


@app.command()
def scheduler(
    ctx: typer.Context,
    tick: Annotated[float, typer.Option(min=0.1, help="Seconds between two looks for due syncs.")] = 30.0,
) -> None:
    """Queue a sync of every connection when it is due (USAGELEDGER_SYNC_INTERVAL_HOURS), for the workers."""
    from ..jobs import build_queue, install_queue_schema, queue_conninfo, run_scheduler

    actx = app_context(ctx)
    queue_conninfo(actx.settings, "scheduler")
    hours = actx.settings.sync_interval_hours
    if hours <= 0:
        raise UsageError("USAGELEDGER_SYNC_INTERVAL_HOURS is 0 (syncs on demand only): nothing to schedule.")
    engine = actx.engine
    install_queue_schema(engine)
    queue = build_queue(actx.settings, "scheduler")
    stop = threading.Event()
    console.print(f"Scheduler: every connection synced at most {hours:g} h ago; Ctrl-C stops.")
    with queue.open():
        try:
            run_scheduler(queue, engine, dt.timedelta(hours=hours), stop, tick_seconds=tick)
        except KeyboardInterrupt:
            stop.set()


def serve_with_job_queue(actx: AppContext, syncs: BackgroundSyncs) -> Callable[[], None] | None:
    """On PostgreSQL, make `serve` queue syncs (its *Sync now* and its schedule) for the workers.

    Returns what stops it, or None on SQLite, where `serve` keeps syncing in-process.
    """
    from ..jobs import build_queue, enqueue_sync, install_queue_schema, is_postgresql, run_scheduler

    if not is_postgresql(actx.settings):
        return None
    install_queue_schema(actx.engine)
    queue = build_queue(actx.settings, "serve")
    queue.open()
    syncs.use_queue(lambda connection_id, trigger: enqueue_sync(queue, connection_id, trigger))
    stop = threading.Event()
    hours = actx.settings.sync_interval_hours
    thread = None
    if hours > 0:
        thread = threading.Thread(
            target=run_scheduler,
            args=(queue, actx.engine, dt.timedelta(hours=hours), stop),
            name="sync-job-scheduler",
            daemon=True,
        )
        thread.start()
    console.print("Syncs go to the job queue: run `usageledger worker` (one or more) to process them.")

    def stop_queue() -> None:
        stop.set()
        if thread is not None:
            thread.join(5)
        queue.close()

    return stop_queue
