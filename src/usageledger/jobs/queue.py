"""The PostgreSQL job queue (procrastinate): the app with our tasks, its schema, and deferring a sync.

Any number of `usageledger worker` processes, on any number of machines, take jobs from the same
database. A sync job carries two of procrastinate's locks named after its connection:

- `queueing_lock`: at most one sync of a connection *waits* in the queue (a second defer is refused), so
  schedulers on several machines, or a person pressing *Sync now* twice, never pile jobs up;
- `lock`: at most one sync of a connection *runs* across all workers; the store's lease
  (`store/locks.py`) still guards it against a CLI `sync` or an in-process run beside the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy import Engine, make_url, text

from ..config import Settings
from ..errors import UsageError

__all__ = [
    "QUEUE_NAME",
    "QueueOptions",
    "build_queue",
    "enqueue_sync",
    "install_queue_schema",
    "is_postgresql",
    "queue_conninfo",
    "sync_lock",
]

QUEUE_NAME = "syncs"
SYNC_TASK = "usageledger.sync_connection"
RECOVERY_TASK = "usageledger.retry_stalled_syncs"
# Any fixed number: it serialises two processes installing the queue's schema on a fresh database.
_SCHEMA_LOCK_KEY = 0x75_6C_71_75  # "ulqu"


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """How workers retry and notice each other's death. The defaults suit production; tests shorten them."""

    max_attempts: int = 6  # a failing sync is tried this often in all, then left failed (and logged)
    retry_wait_seconds: int = 30  # before each retry, plus 3 ** attempt seconds (33 s, 39 s, 57 s, 111 s…)
    heartbeat_seconds: float = 10.0  # each worker proves it is alive this often
    stalled_after_seconds: float = 30.0  # a worker silent this long is dead: its sync job is retried
    recovery_cron: str = "* * * * * */10"  # how often a worker looks for such jobs (6th field: seconds)


def is_postgresql(settings: Settings) -> bool:
    return make_url(settings.resolved_database_url()).get_backend_name() == "postgresql"


def queue_conninfo(settings: Settings, command: str) -> str:
    """The libpq connection string of the database, or a usage error when it is not PostgreSQL."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() != "postgresql":
        raise UsageError(
            f"`usageledger {command}` needs PostgreSQL: the job queue lives in the database that every "
            "worker shares. Set USAGELEDGER_DATABASE_URL=postgresql+psycopg://USER@HOST/DB (the same on "
            "every machine). On SQLite, `usageledger serve` syncs every connection in-process instead."
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_queue(
    settings: Settings, command: str, options: QueueOptions | None = None, pool_size: int = 4
) -> procrastinate.App:
    """The procrastinate app on the settings' PostgreSQL database, with our tasks registered (not opened)."""
    from .tasks import register_tasks  # tasks import the sync engine: only a queue user pays for it

    conninfo = queue_conninfo(settings, command)
    connector = procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1, max_size=max(2, pool_size))
    app = procrastinate.App(connector=connector)
    register_tasks(app, options or QueueOptions())
    return app


def install_queue_schema(engine: Engine) -> bool:
    """Install procrastinate's tables and functions unless they exist; True when this call installed them.

    Idempotent and safe when several workers start at once on a fresh database: the check and the
    install run under one transaction-scoped advisory lock.
    """
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None:
            return False
        schema = SchemaManager.get_schema()
        # Several statements with $$-quoted bodies: sent as one simple query by the driver, as
        # procrastinate's own `schema --apply` does.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute(schema)
        return True


def sync_lock(connection_id: int) -> str:
    """The name of the procrastinate lock (and queueing lock) of one connection's syncs."""
    return f"usageledger-connection-{connection_id}"


def enqueue_sync(app: procrastinate.App, connection_id: int, trigger: str) -> bool:
    """Queue a sync of the connection; False when one is already waiting (it will cover this one)."""
    lock = sync_lock(connection_id)
    try:
        app.configure_task(SYNC_TASK, lock=lock, queueing_lock=lock, queue=QUEUE_NAME).defer(
            connection_id=connection_id, trigger=trigger
        )
    except AlreadyEnqueued:
        return False
    return True
