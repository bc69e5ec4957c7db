"""Connection status: what `usageledger status`, the Integrations cards and the detail page show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from usageledger.store.connections import ConnectionRow, list_connections, list_sync_runs
from usageledger.store.locks import lock_is_held
from usageledger.store.tables import credentials

__all__ = ["ConnectionStatus", "status_report"]


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """Everything `usageledger status` and the connections page show about one connection."""

    connection: ConnectionRow
    has_credential: bool
    sync_running: bool
    last_run_status: str | None

    @property
    def state(self) -> str:
        """The stored state, except that a sync whose process stopped shows as `error`, not `syncing`."""
        if self.connection.state == "syncing" and not self.sync_running:
            return "error"
        return self.connection.state

    @property
    def last_error(self) -> str | None:
        if self.connection.state == "syncing" and not self.sync_running:
            return "The last sync was interrupted before it finished. Run `usageledger sync` (or Sync now) to resume."
        return self.connection.last_error

    def as_json(self) -> dict[str, Any]:
        c = self.connection

        def iso(value: dt.date | dt.datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": c.id,
            "name": c.name,
            "provider": c.provider,
            "organization_id": c.organization_id,
            "organization_name": c.organization_name,
            "state": self.state,
            "source": c.source,
            "key_hint": c.key_hint,
            "has_credential": self.has_credential,
            "sync_running": self.sync_running,
            "last_sync_status": self.last_run_status,
            "last_sync_started_at": iso(c.last_sync_started_at),
            "last_sync_finished_at": iso(c.last_sync_finished_at),
            "last_sync_succeeded_at": iso(c.last_sync_succeeded_at),
            "last_error": self.last_error,
            "data_refreshed_at": iso(c.data_refreshed_at),
            "directory_read_at": iso(c.directory_read_at),
            "rows_stored": c.rows_stored,
            "cost_rows_stored": c.cost_rows_stored,
            "first_day": iso(c.first_day),
            "last_day": iso(c.last_day),
            "cursor_date": iso(c.cursor_date),
        }


def status_report(conn: Connection, tenant_id: int | None = None) -> list[ConnectionStatus]:
    """Status of every connection (of one tenant, when given), oldest first."""
    rows = list_connections(conn, tenant_id)
    sealed = {cid for (cid,) in conn.execute(select(credentials.c.connection_id))}
    now = dt.datetime.now(dt.UTC)
    out = []
    for row in rows:
        runs = list_sync_runs(conn, row.id, limit=1)
        out.append(
            ConnectionStatus(
                connection=row,
                has_credential=row.id in sealed,
                sync_running=lock_is_held(row.lock_owner, row.lock_expires_at, now),
                last_run_status=runs[0].status if runs else None,
            )
        )
    return out
