"""A running sync's right to go on, proved before every API call and by every write of synced data.

Disconnect deletes the key, sets the connection `disconnected` and clears the sync lease in one
transaction. The sync notices at its next API call (`check`, one read, also in the fetching threads)
and stops without calling again; a window whose transaction would commit after the disconnect is
refused by `claim` (a conditional UPDATE) and rolled back, so a purge is never undone. A replaced key
(a new credential row) stops it the same way; a key-encryption-key rotation re-seals in place and
does not.

A disconnect also announces itself with a small file before it waits for the database (see
`announce_disconnect`): SQLite does not queue writers, and a sync that commits window after window
could keep a waiting disconnect out until it finished. The sync reads the announcement before each
call and window, steps aside (its window rolls back) and the disconnect gets the database.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from .. import store
from ..config import Settings
from ..errors import SyncStoppedError

__all__ = ["SyncPermit", "announce_disconnect", "disconnect_announcement"]

# An announcement older than this is ignored: left behind by a disconnect whose process was killed.
ANNOUNCEMENT_TTL_SECONDS = 120.0

_NEXT_STEP = {
    store.SyncStanding.DISCONNECTED: "Connect the organization again to sync it.",
    store.SyncStanding.DELETED: "Nothing more is stored for it.",
    store.SyncStanding.KEY_REPLACED: "The next sync uses the new key.",
    store.SyncStanding.LEASE_LOST: "The other sync goes on; `usageledger status` shows it.",
}


def disconnect_announcement(settings: Settings, engine: Engine, connection_id: int) -> Path:
    """Where a disconnect of `connection_id` announces itself: beside the SQLite file, else in the home."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(f"{database.name}-disconnecting-{connection_id}")
    return settings.home / f"disconnecting-{connection_id}"


@contextmanager
def announce_disconnect(path: Path) -> Iterator[None]:
    """Tell running syncs of the connection to step aside while the disconnect's transaction runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{dt.datetime.now(dt.UTC).isoformat()}\n", encoding="ascii")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _announced(path: Path) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age < ANNOUNCEMENT_TTL_SECONDS


class SyncPermit:
    """Whether the sync of `connection_id` by `owner`, with the credential it opened, may still run."""

    def __init__(
        self,
        engine: Engine,
        connection_id: int,
        owner: str,
        ttl_seconds: float,
        credential: store.SealedCredential,
        announcement: Path,
    ) -> None:
        self._engine = engine
        self._connection_id = connection_id
        self._owner = owner
        self._ttl = ttl_seconds
        self._credential_id = credential.id
        self._credential_created_at = credential.created_at
        self._announcement = announcement

    def check(self) -> None:
        """Raise SyncStoppedError unless the lease and the opened credential are still ours (one read)."""
        self._raise_if_announced()
        with self._engine.connect() as conn:
            self._raise_unless_ok(conn)

    def claim(self, conn: Connection) -> None:
        """In a transaction that writes synced data: renew the lease or raise (the caller rolls back)."""
        self._raise_if_announced()
        if not store.claim_sync_lease(conn, self._connection_id, self._owner, self._ttl):
            self._raise_unless_ok(conn)
            raise SyncStoppedError(self._message(store.SyncStanding.LEASE_LOST))
        self._raise_unless_ok(conn)  # the lease is ours, but the key may have been replaced

    def _raise_if_announced(self) -> None:
        if _announced(self._announcement):
            raise SyncStoppedError(self._message(store.SyncStanding.DISCONNECTED))

    def _raise_unless_ok(self, conn: Connection) -> None:
        standing = store.sync_standing(
            conn, self._connection_id, self._owner, self._credential_id, self._credential_created_at
        )
        if standing is not store.SyncStanding.OK:
            raise SyncStoppedError(self._message(standing))

    @staticmethod
    def _message(standing: store.SyncStanding) -> str:
        return (
            f"Sync stopped: {standing.value}. No further call was made with the key it held and the "
            f"window in progress was not stored. {_NEXT_STEP[standing]}"
        )
