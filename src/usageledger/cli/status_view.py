"""`usageledger status` as a table: a narrow view that fits 80 columns, and the wide one with every field.

The narrow view keeps what says whether a connection is healthy (id, organization, state, last good
sync, rows, last day stored) and prints each connection's last error in full below the table, where a
sentence has room, instead of squeezing it into a column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from .render import records_table

__all__ = ["status_notes", "status_table"]


def _minute(iso: str | None) -> str | None:
    """`2026-05-09T18:30:12.345+00:00` → `2026-05-09 18:30` (UTC, as stored)."""
    if iso is None:
        return None
    return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def _narrow(record: dict[str, Any], with_name: bool) -> dict[str, Any]:
    row = {"id": record["id"], "organization": record["organization_name"] or record["organization_id"]}
    if with_name:
        row["name"] = record["name"]
    row |= {
        "state": record["state"],
        "last_synced_utc": _minute(record["last_sync_succeeded_at"]),
        "rows_stored": record["rows_stored"],
        "last_day": record["last_day"],
    }
    return row


def status_table(records: Sequence[dict[str, Any]], *, wide: bool) -> Table:
    """The connections table; `wide` shows every field of `status --json`."""
    if wide:
        return records_table(records, list(records[0]), title="Connections")
    # The connection's name defaults to its organization's: a second column only when one differs.
    with_name = any(r["name"] != r["organization_name"] for r in records)
    rows = [_narrow(r, with_name) for r in records]
    return records_table(rows, list(rows[0]), title="Connections")


def status_notes(records: Sequence[dict[str, Any]]) -> list[str]:
    """One line per connection with a last error, in full."""
    return [f"Connection {r['id']}: {r['last_error']}" for r in records if r.get("last_error")]
