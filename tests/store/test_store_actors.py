"""Who an actor is: the latest day's rendering wins, and an older window re-synced does not undo it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from usageledger import store
from usageledger.models import ActorInfo
from usageledger.store.tables import anthropic_actors

ADA = ActorInfo("user_actor", "user_01A", "ada@example.test", "Ada")
ADA_DELETED = ActorInfo("user_actor", "user_01A", None, "Deleted User", deleted=True)


def _stored(engine, connection_id):
    with engine.connect() as conn:
        return conn.execute(
            select(
                anthropic_actors.c.email, anthropic_actors.c.deleted, anthropic_actors.c.last_seen_day
            ).where(anthropic_actors.c.connection_id == connection_id)
        ).all()


def test_a_later_day_replaces_who_an_actor_is(engine, connection_id) -> None:
    """A user deleted since is stored as deleted, without an email, seen last on the later day."""
    with engine.begin() as conn:
        store.upsert_actors(conn, connection_id, {ADA: dt.date(2026, 3, 1)})
    with engine.begin() as conn:
        store.upsert_actors(conn, connection_id, {ADA_DELETED: dt.date(2026, 3, 9)})
    assert _stored(engine, connection_id) == [(None, True, dt.date(2026, 3, 9))]


def test_an_older_window_resynced_does_not_undo_a_later_one(engine, connection_id) -> None:
    """Re-syncing March 1 after March 9 keeps what March 9 said."""
    with engine.begin() as conn:
        store.upsert_actors(conn, connection_id, {ADA_DELETED: dt.date(2026, 3, 9)})
    with engine.begin() as conn:
        store.upsert_actors(conn, connection_id, {ADA: dt.date(2026, 3, 1)})
    assert _stored(engine, connection_id) == [(None, True, dt.date(2026, 3, 9))]


def test_two_renderings_in_one_window_store_the_later_one(engine, connection_id) -> None:
    """One window naming the user before and after deletion stores one row: the later."""
    with engine.begin() as conn:
        store.upsert_actors(conn, connection_id, {ADA: dt.date(2026, 3, 1), ADA_DELETED: dt.date(2026, 3, 2)})
    assert _stored(engine, connection_id) == [(None, True, dt.date(2026, 3, 2))]
