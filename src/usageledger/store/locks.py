"""One sync at a time per connection: a lease on the connection row, taken with one conditional UPDATE.

The owner string is "hostname:pid:token". A lease is free when nobody holds it, when it expired, or
when its owner ran on this host and that process no longer exists. Each attempt is a single
`UPDATE … WHERE <free>` whose row count says who won, so two processes never both hold it
(on SQLite the writer lock serializes them; on PostgreSQL the row lock makes the loser re-check).

A running sync proves it may go on with `sync_standing` (one read, before each API call) and
`claim_sync_lease` (one conditional UPDATE, in each transaction that writes synced data). Disconnect
clears the lease and sets the state `disconnected` in one transaction, so a sync sees either the
connection as it was (and its window commits before the disconnect, whose purge then removes it) or
the disconnect (and its window is rolled back).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from enum import Enum

from sqlalchemy import Connection, and_, or_, select, update

from usageledger.errors import NotFoundError
from usageledger.store.tables import connections, credentials

__all__ = [
    "SyncStanding",
    "acquire_sync_lock",
    "claim_sync_lease",
    "finish_sync_lease",
    "lock_is_held",
    "lock_owner_id",
    "release_sync_lock",
    "renew_sync_lock",
    "sync_standing",
]


class SyncStanding(Enum):
    """Whether a running sync may go on, and if not, why."""

    OK = "ok"
    DELETED = "the connection was deleted"
    DISCONNECTED = "the connection was disconnected"
    KEY_REPLACED = "the connection's key was replaced"
    LEASE_LOST = "another sync took over this connection"


def lock_owner_id() -> str:
    """A fresh owner string for this process: "hostname:pid:token"."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


def _owner_is_dead(owner: str) -> bool:
    """True when `owner` names a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, belongs to someone else
        return False
    return False


def lock_is_held(owner: str | None, expires_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a sync lease is held by someone who may still be working (not expired, not a dead pid here)."""
    if owner is None:
        return False
    if expires_at is not None and expires_at <= now:
        return False
    return not _owner_is_dead(owner)


def acquire_sync_lock(conn: Connection, connection_id: int, owner: str, ttl_seconds: float) -> bool:
    """Take the connection's sync lease for `owner`; False when someone alive holds it."""
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(seconds=ttl_seconds)
    c = connections.c
    taken = conn.execute(
        update(connections)
        .where(c.id == connection_id)
        .where(
            or_(
                c.lock_owner.is_(None),
                c.lock_expires_at.is_(None),
                c.lock_expires_at < now,
                c.lock_owner == owner,
            )
        )
        .values(lock_owner=owner, lock_expires_at=expires)
    ).rowcount
    if taken:
        return True
    holder = conn.execute(select(c.lock_owner).where(c.id == connection_id)).first()
    if holder is None:
        raise NotFoundError(f"No connection {connection_id}.")
    stale = holder.lock_owner
    if stale is None or not _owner_is_dead(stale):
        return False
    # Compare-and-swap on the dead owner: if someone else stole it first, we lose.
    stolen = conn.execute(
        update(connections)
        .where(c.id == connection_id, c.lock_owner == stale)
        .values(lock_owner=owner, lock_expires_at=expires)
    ).rowcount
    return bool(stolen)


def renew_sync_lock(conn: Connection, connection_id: int, owner: str, ttl_seconds: float) -> bool:
    """Extend the lease; False when `owner` no longer holds it."""
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)
    return bool(
        conn.execute(
            update(connections)
            .where(connections.c.id == connection_id, connections.c.lock_owner == owner)
            .values(lock_expires_at=expires)
        ).rowcount
    )


def release_sync_lock(conn: Connection, connection_id: int, owner: str) -> bool:
    """Give the lease back (only if `owner` still holds it)."""
    return bool(
        conn.execute(
            update(connections)
            .where(connections.c.id == connection_id, connections.c.lock_owner == owner)
            .values(lock_owner=None, lock_expires_at=None)
        ).rowcount
    )


def sync_standing(
    conn: Connection, connection_id: int, owner: str, credential_id: int, credential_created_at: dt.datetime
) -> SyncStanding:
    """One cheap read: does `owner` still hold the lease, and is the credential it opened still stored?

    A replaced key is a new credential row (new id and created_at); a re-seal under a new key-encryption
    key updates the row in place, so a rotation does not stop a sync.
    """
    c = connections.c
    row = conn.execute(
        select(c.state, c.lock_owner, credentials.c.id.label("credential_id"))
        .select_from(
            connections.outerjoin(
                credentials,
                and_(
                    credentials.c.connection_id == c.id,
                    credentials.c.id == credential_id,
                    credentials.c.created_at == credential_created_at,
                ),
            )
        )
        .where(c.id == connection_id)
    ).first()
    if row is None:
        return SyncStanding.DELETED
    if row.state == "disconnected":
        return SyncStanding.DISCONNECTED
    if row.credential_id is None:
        return SyncStanding.KEY_REPLACED
    if row.lock_owner != owner:
        return SyncStanding.LEASE_LOST
    return SyncStanding.OK


def claim_sync_lease(conn: Connection, connection_id: int, owner: str, ttl_seconds: float) -> bool:
    """Renew the lease only while `owner` holds it and the connection is not disconnected.

    Call it in the transaction that writes synced data, and roll back when it returns False. The UPDATE
    takes the database's write lock (SQLite) or the connection row's lock (PostgreSQL, where a waiting
    UPDATE re-checks its WHERE against the committed row), so it is ordered against a disconnect.
    """
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)
    c = connections.c
    return bool(
        conn.execute(
            update(connections)
            .where(c.id == connection_id, c.lock_owner == owner, c.state != "disconnected")
            .values(lock_expires_at=expires)
        ).rowcount
    )


def finish_sync_lease(conn: Connection, connection_id: int, owner: str, **values: object) -> bool:
    """Set the connection's final sync values and release the lease, unless the lease was lost or the
    connection disconnected meanwhile (then nothing changes: a disconnected connection stays so)."""
    c = connections.c
    return bool(
        conn.execute(
            update(connections)
            .where(c.id == connection_id, c.lock_owner == owner, c.state != "disconnected")
            .values(lock_owner=None, lock_expires_at=None, **values)
        ).rowcount
    )
