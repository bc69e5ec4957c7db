"""Connections to providers and what hangs off them: tenants, credentials, directory names, purge.

Every function takes a SQLAlchemy `Connection`; the caller owns the transaction. Functions that take
`tenant_id` scope by it: a connection of another tenant is reported as not found.
Locks (`acquire_sync_lock`…) and the run/event log (`start_sync_run`, `add_event`…) live in
`store.locks` and `store.runs` and are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, func, select, update

from usageledger.errors import NotFoundError, UsageError
from usageledger.store.directory import DIRECTORY_TABLES
from usageledger.store.locks import acquire_sync_lock, release_sync_lock, renew_sync_lock
from usageledger.store.rollups import delete_rollups
from usageledger.store.runs import (
    EventRow,
    SyncRunRow,
    add_event,
    list_events,
    list_sync_runs,
    start_sync_run,
    update_sync_run,
)
from usageledger.store.spend_limits import anthropic_spend_limits
from usageledger.store.tables import (
    GRAIN_TABLES,
    anthropic_actors,
    connections,
    cost_adjustments,
    credentials,
    tenants,
    usage_rows,
)

__all__ = [
    "ConnectionRow",
    "EventRow",
    "SealedCredential",
    "SyncRunRow",
    "acquire_sync_lock",
    "add_event",
    "delete_credential",
    "ensure_default_tenant",
    "get_connection",
    "insert_connection",
    "list_connections",
    "list_events",
    "list_sync_runs",
    "load_credential",
    "load_sealed_credential",
    "purge_usage",
    "release_sync_lock",
    "renew_sync_lock",
    "set_cursor",
    "start_sync_run",
    "store_credential",
    "update_connection",
    "update_sync_run",
]

DEFAULT_TENANT_NAME = "default"


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    """One row of `connections`, plus what is stored for it (usage rows and their day range)."""

    id: int
    tenant_id: int
    name: str
    provider: str
    state: str
    source: str | None
    base_url: str
    organization_id: str | None
    organization_name: str | None
    key_hint: str | None
    created_at: dt.datetime
    disconnected_at: dt.datetime | None
    last_sync_started_at: dt.datetime | None
    last_sync_finished_at: dt.datetime | None
    last_sync_succeeded_at: dt.datetime | None
    last_error: str | None
    data_refreshed_at: dt.datetime | None
    backfill_start: dt.date | None
    cursor_date: dt.date | None
    lock_owner: str | None
    lock_expires_at: dt.datetime | None
    directory_read_at: dt.datetime | None = None
    rows_stored: int = 0
    cost_rows_stored: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    @classmethod
    def from_row(cls, row: Row[Any]) -> ConnectionRow:
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _connection_select() -> Select[Any]:
    def scalar(table: Any, expr: Any, label: str) -> Any:
        return select(expr).where(table.c.connection_id == connections.c.id).scalar_subquery().label(label)

    return select(
        connections,
        connections.c.usage_rows_stored.label("rows_stored"),
        scalar(usage_rows, func.min(usage_rows.c.day), "first_day"),
        scalar(usage_rows, func.max(usage_rows.c.day), "last_day"),
    )


def ensure_default_tenant(conn: Connection) -> int:
    """The id of the first tenant, creating the default one on a fresh database."""
    tenant_id = conn.execute(select(func.min(tenants.c.id))).scalar()
    if tenant_id is not None:
        return int(tenant_id)
    result = conn.execute(tenants.insert().values(name=DEFAULT_TENANT_NAME, created_at=_now()))
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def insert_connection(
    conn: Connection,
    *,
    tenant_id: int,
    name: str,
    provider: str,
    base_url: str,
    organization_id: str | None,
    organization_name: str | None,
    key_hint: str | None,
    source: str | None,
    state: str = "connected",
) -> int:
    result = conn.execute(
        connections.insert().values(
            tenant_id=tenant_id,
            name=name,
            provider=provider,
            state=state,
            source=source,
            base_url=base_url,
            organization_id=organization_id,
            organization_name=organization_name,
            key_hint=key_hint,
            created_at=_now(),
        )
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def get_connection(conn: Connection, connection_id: int, tenant_id: int | None = None) -> ConnectionRow:
    query = _connection_select().where(connections.c.id == connection_id)
    if tenant_id is not None:
        query = query.where(connections.c.tenant_id == tenant_id)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"No connection {connection_id}; `usageledger status` lists the connections.")
    return ConnectionRow.from_row(row)


def list_connections(conn: Connection, tenant_id: int | None = None) -> list[ConnectionRow]:
    query = _connection_select().order_by(connections.c.id)
    if tenant_id is not None:
        query = query.where(connections.c.tenant_id == tenant_id)
    return [ConnectionRow.from_row(row) for row in conn.execute(query)]


def update_connection(conn: Connection, connection_id: int, **values: Any) -> None:
    unknown = set(values) - set(connections.c.keys()) | ({"id"} & set(values))
    if unknown:
        raise UsageError(f"Not columns of connections: {', '.join(sorted(unknown))}.")
    if not values:
        return
    result = conn.execute(update(connections).where(connections.c.id == connection_id).values(**values))
    if result.rowcount == 0:
        raise NotFoundError(f"No connection {connection_id}.")


def set_cursor(conn: Connection, connection_id: int, cursor_date: dt.date | None) -> None:
    """Every day before `cursor_date` is stored; written in the same transaction as the rows."""
    update_connection(conn, connection_id, cursor_date=cursor_date)


# --- credentials ---------------------------------------------------------------------------------------


def store_credential(conn: Connection, connection_id: int, ciphertext: bytes, kek_id: str) -> None:
    """Store (or replace) the sealed admin key of a connection."""
    delete_credential(conn, connection_id)
    conn.execute(
        credentials.insert().values(
            connection_id=connection_id, ciphertext=ciphertext, kek_id=kek_id, created_at=_now()
        )
    )


@dataclass(frozen=True, slots=True, repr=False)
class SealedCredential:
    """A stored credential and what identifies it: a replaced key is a new (id, created_at);
    a re-seal under a new key-encryption key (rotation) keeps both."""

    id: int
    created_at: dt.datetime
    ciphertext: bytes
    kek_id: str

    def __repr__(self) -> str:  # never print the ciphertext
        return f"SealedCredential(id={self.id}, kek_id={self.kek_id!r})"


def load_sealed_credential(conn: Connection, connection_id: int) -> SealedCredential:
    row = conn.execute(
        select(
            credentials.c.id, credentials.c.created_at, credentials.c.ciphertext, credentials.c.kek_id
        ).where(credentials.c.connection_id == connection_id)
    ).first()
    if row is None:
        raise NotFoundError(
            f"Connection {connection_id} has no stored key (it was disconnected); connect it again."
        )
    return SealedCredential(row.id, row.created_at, bytes(row.ciphertext), row.kek_id)


def load_credential(conn: Connection, connection_id: int) -> tuple[bytes, str]:
    sealed = load_sealed_credential(conn, connection_id)
    return sealed.ciphertext, sealed.kek_id


def delete_credential(conn: Connection, connection_id: int) -> bool:
    """Overwrite the ciphertext with zeros of the same length, then delete the row.

    With SQLite's secure_delete the freed space is zeroed too; after the commit, call
    `store.checkpoint(engine)` so the WAL is folded into the file and truncated.
    """
    length = conn.execute(
        select(func.length(credentials.c.ciphertext)).where(credentials.c.connection_id == connection_id)
    ).scalar()
    if length is None:
        return False
    conn.execute(
        update(credentials)
        .where(credentials.c.connection_id == connection_id)
        .values(ciphertext=bytes(int(length)), kek_id="")
    )
    conn.execute(delete(credentials).where(credentials.c.connection_id == connection_id))
    return True


# --- synced data and directory -------------------------------------------------------------------------


def purge_usage(conn: Connection, connection_id: int) -> int:
    """Delete every synced row of a connection (usage, cost, directory) and reset its cursor."""
    removed = 0
    for table in (
        *(table for tables in GRAIN_TABLES.values() for table in tables),  # every grain's rows
        cost_adjustments,  # synced data too: the revisions of closed days
        *DIRECTORY_TABLES,
        anthropic_actors,
        anthropic_spend_limits,
    ):
        removed += conn.execute(delete(table).where(table.c.connection_id == connection_id)).rowcount
    delete_rollups(conn, connection_id)
    conn.execute(
        update(connections)
        .where(connections.c.id == connection_id)
        .values(
            cursor_date=None,
            backfill_start=None,
            data_refreshed_at=None,
            directory_read_at=None,  # its tables are emptied: the next sync, scheduled or not, reads it
            usage_rows_stored=0,
            cost_rows_stored=0,
        )
    )
    return removed
