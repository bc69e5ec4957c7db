"""The PostgreSQL job queue and its workers: procrastinate tasks that call `sync.run_sync`, the
scheduler that queues due syncs, and the schedule both it and the detail page read.

The in-process scheduler (`sync.BackgroundSyncs`) stays the way for SQLite, on one machine.
"""

from .queue import (
    QUEUE_NAME,
    QueueOptions,
    build_queue,
    enqueue_sync,
    install_queue_schema,
    is_postgresql,
    queue_conninfo,
    sync_lock,
)
from .schedule import NextSync, plan_due_syncs, plan_next_sync
from .scheduler import enqueue_due_syncs, run_scheduler

__all__ = [
    "QUEUE_NAME",
    "NextSync",
    "QueueOptions",
    "build_queue",
    "enqueue_due_syncs",
    "enqueue_sync",
    "install_queue_schema",
    "is_postgresql",
    "plan_due_syncs",
    "plan_next_sync",
    "queue_conninfo",
    "run_scheduler",
    "sync_lock",
]
