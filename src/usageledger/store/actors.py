"""Who an actor of the actor grain is: kind, id, and the email and name its rows last rendered.

The actor grain's rows carry only an actor's kind and id; this table says who that is. A day synced later
replaces what an earlier one said (a user renamed, a user deleted since), and re-syncing an old window
never undoes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Connection

from usageledger.models import ActorInfo

from .tables import anthropic_actors

__all__ = ["upsert_actors"]


def upsert_actors(conn: Connection, connection_id: int, seen: Mapping[ActorInfo, dt.date]) -> int:
    """Store each actor with the last day it was seen; returns how many were given."""
    if not seen:
        return 0
    # One row per actor (a statement may not touch a key twice on PostgreSQL): its latest rendering wins.
    latest: dict[tuple[str, str], tuple[ActorInfo, dt.date]] = {}
    for actor, day in seen.items():
        key = (actor.actor_type, actor.actor_id)
        if key not in latest or day >= latest[key][1]:
            latest[key] = (actor, day)
    # Imported on use: loading both dialects at import cost a query command ~20 ms of its start.
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(anthropic_actors)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["connection_id", "actor_type", "actor_id"],
        set_={
            "email": excluded.email,
            "name": excluded.name,
            "deleted": excluded.deleted,
            "last_seen_day": excluded.last_seen_day,
        },
        # An older window re-synced keeps what a later day said about the actor.
        where=anthropic_actors.c.last_seen_day <= excluded.last_seen_day,
    )
    conn.execute(
        stmt,
        [
            {
                "connection_id": connection_id,
                "actor_type": actor.actor_type,
                "actor_id": actor.actor_id,
                "email": actor.email,
                "name": actor.name,
                "deleted": actor.deleted,
                "last_seen_day": day,
            }
            for actor, day in latest.values()
        ],
    )
    return len(latest)
