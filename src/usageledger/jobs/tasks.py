"""The queue's tasks: sync one connection (the unit of work is `sync.run_sync`), and recover the sync
jobs of workers that died (killed with SIGKILL, or their machine lost) so another worker resumes them.

Tasks are registered by `register_tasks` on an app built from settings at run time (no app, engine or
settings at import time); the worker hands each task its settings and engine through procrastinate's
`additional_context`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import procrastinate
from procrastinate.job_context import JobContext
from sqlalchemy import Engine

from .. import store
from ..config import Settings
from ..errors import ConflictError, CredentialError, UpstreamError, UsageLedgerError
from ..store.engine import DATABASE_UNAVAILABLE_ERRORS
from ..sync import SCHEDULED_TRIGGER, run_sync
from ..sync.events import record_event
from .queue import QUEUE_NAME, RECOVERY_TASK, SYNC_TASK, QueueOptions

__all__ = ["RETRYABLE_ERRORS", "register_tasks"]

log = logging.getLogger(__name__)

# Failures that may pass by themselves: the API kept failing (429/5xx/timeouts), another process held
# the connection's sync lease, the database went away. The others (a rejected key, a missing scope, a
# deleted connection) need a person, so a retry would only repeat the same answer.
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (
    UpstreamError,
    ConflictError,
    *DATABASE_UNAVAILABLE_ERRORS,
    OSError,
)


def register_tasks(app: procrastinate.App, options: QueueOptions) -> None:
    """Register the sync task and the stalled-job recovery (a periodic task) on `app`."""
    strategy = procrastinate.RetryStrategy(
        max_attempts=options.max_attempts,
        wait=options.retry_wait_seconds,
        exponential_wait=3 if options.retry_wait_seconds else 1,
        retry_exceptions=set(RETRYABLE_ERRORS),
    )

    @app.task(name=SYNC_TASK, queue=QUEUE_NAME, pass_context=True, retry=strategy)
    def sync_connection(context: JobContext, connection_id: int, trigger: str = SCHEDULED_TRIGGER) -> None:
        settings: Settings = context.additional_context["settings"]
        engine: Engine = context.additional_context["engine"]
        try:
            run_sync(settings, engine, connection_id, trigger=trigger)
        except Exception as exc:
            decision = strategy.get_retry_decision(exception=exc, job=context.job)
            _note_job_failure(engine, connection_id, exc, decision, context.job.attempts, options)
            raise
        # Budgets' and anomalies' alerts, as after an in-process sync; handed in by `usageledger worker`
        # (alerting sits above the queue in the layers). It never raises.
        after_sync = context.additional_context.get("after_sync")
        if after_sync is not None:
            after_sync(engine, connection_id)

    @app.periodic(cron=options.recovery_cron, periodic_id="stalled")
    @app.task(name=RECOVERY_TASK, queue=QUEUE_NAME, pass_context=True)
    async def retry_stalled_syncs(context: JobContext, timestamp: int) -> None:
        manager = context.app.job_manager
        stalled = await manager.get_stalled_jobs(
            task_name=SYNC_TASK, seconds_since_heartbeat=options.stalled_after_seconds
        )
        engine: Engine = context.additional_context["engine"]
        for job in stalled:
            await manager.retry_job(job)
            connection_id = job.task_kwargs.get("connection_id")
            if not isinstance(connection_id, int):
                continue
            log.warning("sync job %s of connection %s was stalled; retried", job.id, connection_id)
            await asyncio.to_thread(_note_stalled, engine, connection_id)


def _note_job_failure(
    engine: Engine,
    connection_id: int,
    exc: BaseException,
    decision: Any,
    attempts: int,
    options: QueueOptions,
) -> None:
    """Say in the connection's event log what the queue does next (run_sync logged the failure itself)."""
    if decision is not None:
        retry_at: dt.datetime | None = decision.retry_at
        when = f" at {retry_at:%H:%M:%S} UTC" if retry_at else ""
        kind, level = "sync_retry", "warning"
        message = f"The job queue retries this sync{when} (retry {attempts + 1} of {options.max_attempts})."
    elif isinstance(exc, CredentialError):
        kind, level = "sync_halted", "error"
        message = (
            "Scheduled syncs of this connection stopped: the Admin API rejected its key (revoked or "
            "invalid). Connect again with a new Admin key; scheduled syncs resume by themselves."
        )
    elif isinstance(exc, RETRYABLE_ERRORS):
        kind, level = "sync_failed", "error"
        message = (
            f"The job queue gave up on this sync after {options.max_attempts} retries; the next scheduled "
            "sync tries again."
        )
    else:
        return  # needs a person (scope, a deleted connection): run_sync's own event says what to do
    try:
        with engine.begin() as conn:
            connection = store.get_connection(conn, connection_id)
            record_event(conn, connection, kind, level, message)
    except UsageLedgerError:  # the connection was deleted meanwhile: nothing to tell
        pass


def _note_stalled(engine: Engine, connection_id: int) -> None:
    try:
        with engine.begin() as conn:
            connection = store.get_connection(conn, connection_id)
            record_event(
                conn,
                connection,
                "sync_retry",
                "warning",
                "A worker stopped in the middle of this sync (killed, or its machine lost); another "
                "worker resumes it from the last committed day, so nothing is lost or counted twice.",
            )
    except UsageLedgerError:
        pass
