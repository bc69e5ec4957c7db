"""A running sync's right to go on, proved before every API call and by every write of synced data.

Disconnect deletes the key, sets the connection `disconnected` and clears the sync lease in one
transaction. The sync notices at its next API call (`check`, one read, also in the prefetch thread)
and stops without calling again; a window whose transaction would commit after the disconnect is
refused by `claim` (a conditional UPDATE) and rolled back, so a purge is never undone. A replaced key
(a new credential row) stops it the same way; a key-encryption-key rotation re-seals in place and
does not.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from .. import store
from ..errors import SyncStoppedError

__all__ = ["SyncPermit"]

_NEXT_STEP = {
    store.SyncStanding.DISCONNECTED: "Connect the organization again to sync it.",
    store.SyncStanding.DELETED: "Nothing more is stored for it.",
    store.SyncStanding.KEY_REPLACED: "The next sync uses the new key.",
    store.SyncStanding.LEASE_LOST: "The other sync goes on; `usageledger status` shows it.",
}


class SyncPermit:
    """Whether the sync of `connection_id` by `owner`, with the credential it opened, may still run."""

    def __init__(
        self,
        engine: Engine,
        connection_id: int,
        owner: str,
        ttl_seconds: float,
        credential: store.SealedCredential,
    ) -> None:
        self._engine = engine
        self._connection_id = connection_id
        self._owner = owner
        self._ttl = ttl_seconds
        self._credential_id = credential.id
        self._credential_created_at = credential.created_at

    def check(self) -> None:
        """Raise SyncStoppedError unless the lease and the opened credential are still ours (one read)."""
        with self._engine.connect() as conn:
            self._raise_unless_ok(conn)

    def claim(self, conn: Connection) -> None:
        """In a transaction that writes synced data: renew the lease or raise (the caller rolls back)."""
        if not store.claim_sync_lease(conn, self._connection_id, self._owner, self._ttl):
            self._raise_unless_ok(conn)
            raise SyncStoppedError(self._message(store.SyncStanding.LEASE_LOST))
        self._raise_unless_ok(conn)  # the lease is ours, but the key may have been replaced

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
