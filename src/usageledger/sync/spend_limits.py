"""Anthropic's spend limits during a sync: read after the directory, stored in the directory's transaction.

Refused (403) or not offered to this organization type: one `spend_limits_skipped` event, the stored limits
are kept as the last sync that could read them left them, and the sync goes on.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Connection

from .. import store
from ..anthropic import AdminApiClient
from ..anthropic.spend_limits import SpendLimitsRead, fetch_spend_limits
from ..store.spend_limits import replace_spend_limits
from .events import record_event

__all__ = ["read_spend_limits", "store_spend_limits"]


def read_spend_limits(client: AdminApiClient) -> SpendLimitsRead:
    return fetch_spend_limits(client)


def store_spend_limits(conn: Connection, connection: store.ConnectionRow, read: SpendLimitsRead) -> None:
    if read.limits is not None:
        replace_spend_limits(conn, connection.id, read.limits, read_at=dt.datetime.now(dt.UTC))
        return
    skipped = read.skipped
    assert skipped is not None
    answer = "403, not allowed for this key" if skipped.status == 403 else "not offered to this organization"
    record_event(
        conn,
        connection,
        "spend_limits_skipped",
        "info",
        f"Anthropic's spend limits were not read ({skipped.path} answered {answer}); the sync went on. "
        "Listing them needs an Admin key of an organization admin, and for Claude Console organizations "
        "Anthropic's early-access preview. Budgets work without them.",
        request_id=skipped.request_id,
        details={"path": skipped.path, "status": skipped.status},
    )
