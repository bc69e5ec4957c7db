"""The sync-run log (progress the pages poll) and the event log (what happened, for people)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Row, select, update

from usageledger.errors import NotFoundError, UsageError
from usageledger.store.tables import connections, events, sync_runs

__all__ = [
    "EventRow",
    "SyncRunRow",
    "add_event",
    "fail_interrupted_runs",
    "list_events",
    "list_sync_runs",
    "start_sync_run",
    "update_sync_run",
]


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    tenant_id: int
    connection_id: int | None
    created_at: dt.datetime
    kind: str
    level: str
    message: str
    request_id: str | None
    details: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class SyncRunRow:
    id: int
    connection_id: int
    trigger: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    range_start: dt.date | None
    range_end: dt.date | None
    days_total: int
    days_done: int
    api_calls: int
    usage_rows: int
    cost_rows: int
    rows_revised: int
    error: str | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> SyncRunRow:
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})


def add_event(
    conn: Connection,
    *,
    tenant_id: int,
    connection_id: int | None,
    kind: str,
    level: str,
    message: str,
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Record an event. `details` is a JSON object and must never hold a secret."""
    result = conn.execute(
        events.insert().values(
            tenant_id=tenant_id,
            connection_id=connection_id,
            created_at=dt.datetime.now(dt.UTC),
            kind=kind,
            level=level,
            message=message,
            request_id=request_id,
            details=json.dumps(details, sort_keys=True, default=str) if details is not None else None,
        )
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def list_events(
    conn: Connection,
    tenant_id: int | None = None,
    connection_id: int | None = None,
    kind: str | None = None,
    limit: int = 200,
) -> list[EventRow]:
    """Events, newest first."""
    query = select(events).order_by(events.c.created_at.desc(), events.c.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(events.c.tenant_id == tenant_id)
    if connection_id is not None:
        query = query.where(events.c.connection_id == connection_id)
    if kind is not None:
        query = query.where(events.c.kind == kind)
    return [
        EventRow(
            id=row.id,
            tenant_id=row.tenant_id,
            connection_id=row.connection_id,
            created_at=row.created_at,
            kind=row.kind,
            level=row.level,
            message=row.message,
            request_id=row.request_id,
            details=json.loads(row.details) if row.details else None,
        )
        for row in conn.execute(query)
    ]


def start_sync_run(
    conn: Connection,
    connection_id: int,
    trigger: str,
    range_start: dt.date | None,
    range_end: dt.date | None,
    days_total: int,
) -> int:
    now = dt.datetime.now(dt.UTC)
    result = conn.execute(
        sync_runs.insert().values(
            connection_id=connection_id,
            trigger=trigger,
            status="running",
            started_at=now,
            range_start=range_start,
            range_end=range_end,
            days_total=days_total,
        )
    )
    conn.execute(
        update(connections).where(connections.c.id == connection_id).values(last_sync_started_at=now)
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def fail_interrupted_runs(conn: Connection, connection_id: int, except_run_id: int) -> int:
    """Mark runs still 'running' from a process that stopped (killed, crashed) as failed; returns how many.

    Only call this while holding the connection's sync lock: then no other run can be alive."""
    return conn.execute(
        update(sync_runs)
        .where(
            sync_runs.c.connection_id == connection_id,
            sync_runs.c.status == "running",
            sync_runs.c.id != except_run_id,
        )
        .values(
            status="failed",
            finished_at=dt.datetime.now(dt.UTC),
            error="Interrupted: the process running this sync stopped; a later sync resumed from the cursor.",
        )
    ).rowcount


def update_sync_run(conn: Connection, run_id: int, **values: Any) -> None:
    unknown = set(values) - set(sync_runs.c.keys()) | ({"id"} & set(values))
    if unknown:
        raise UsageError(f"Not columns of sync_runs: {', '.join(sorted(unknown))}.")
    if not values:
        return
    if conn.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(**values)).rowcount == 0:
        raise NotFoundError(f"No sync run {run_id}.")


def list_sync_runs(conn: Connection, connection_id: int, limit: int = 20) -> list[SyncRunRow]:
    """Runs of a connection, newest first."""
    query = (
        select(sync_runs)
        .where(sync_runs.c.connection_id == connection_id)
        .order_by(sync_runs.c.started_at.desc(), sync_runs.c.id.desc())
        .limit(limit)
    )
    return [SyncRunRow.from_row(row) for row in conn.execute(query)]
