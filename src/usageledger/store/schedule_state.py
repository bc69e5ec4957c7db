"""What the sync scheduler needs to know of each connection, in one light query (no usage aggregates).

A connection is *halted* when the provider rejected its key (a `credential` event) after the key was
stored and after the last successful sync: retrying cannot help until a person connects a new key, so
neither the scheduler nor the job queue's retries try again. Storing a new key (a new credential row)
or a successful manual sync ends the halt, with nothing to reset by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from usageledger.store.tables import connections, credentials, events

__all__ = ["HALTING_EVENT_KINDS", "ScheduleState", "list_schedule_states"]

# Event kinds that mean "a person must act before another sync can succeed" (exit 3 class).
HALTING_EVENT_KINDS: tuple[str, ...] = ("credential",)


@dataclass(frozen=True, slots=True)
class ScheduleState:
    connection_id: int
    state: str
    last_sync_started_at: dt.datetime | None
    halted_at: dt.datetime | None  # when the key was rejected, while that still stands

    @property
    def halted(self) -> bool:
        return self.halted_at is not None


def list_schedule_states(conn: Connection, connection_id: int | None = None) -> list[ScheduleState]:
    """Every connection (or one) with its last sync start and whether its key was rejected since."""
    c = connections.c
    # Per connection, so the (connection_id, kind, created_at) index answers it without reading the log.
    rejected_at = (
        select(func.max(events.c.created_at))
        .where(events.c.connection_id == c.id, events.c.kind.in_(HALTING_EVENT_KINDS))
        .scalar_subquery()
        .label("rejected_at")
    )
    query = (
        select(
            c.id,
            c.state,
            c.last_sync_started_at,
            c.last_sync_succeeded_at,
            credentials.c.created_at.label("key_stored_at"),
            rejected_at,
        )
        .select_from(connections.outerjoin(credentials, credentials.c.connection_id == c.id))
        .order_by(c.id)
    )
    if connection_id is not None:
        query = query.where(c.id == connection_id)
    states = []
    for row in conn.execute(query):
        rejected = row.rejected_at
        stands = (
            rejected is not None
            and (row.key_stored_at is None or rejected > row.key_stored_at)
            and (row.last_sync_succeeded_at is None or rejected > row.last_sync_succeeded_at)
        )
        states.append(
            ScheduleState(
                connection_id=row.id,
                state=row.state,
                last_sync_started_at=row.last_sync_started_at,
                halted_at=rejected if stands else None,
            )
        )
    return states
