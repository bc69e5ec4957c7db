"""The admin key at rest: sealed by the vault on connect, opened only for the length of a sync."""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from .. import store
from ..config import Settings

__all__ = ["open_admin_key", "store_admin_key"]


def store_admin_key(settings: Settings, conn: Connection, connection_id: int, admin_key: str) -> None:
    ciphertext, kek_id = store.Vault.from_settings(settings).seal(admin_key)
    store.store_credential(conn, connection_id, ciphertext, kek_id)


def open_admin_key(
    settings: Settings, engine: Engine, connection_id: int
) -> tuple[str, store.SealedCredential]:
    """The key in clear, and the stored credential it came from (a sync checks it is still the stored one)."""
    with engine.connect() as conn:
        sealed = store.load_sealed_credential(conn, connection_id)
    return store.Vault.from_settings(settings).open(sealed.ciphertext, sealed.kek_id), sealed
