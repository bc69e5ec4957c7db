"""Adding and deleting destinations: validate, seal the secret, store, and say so in the event log.

The CLI, the page and the API all come here, so a destination is checked and recorded the same way
whichever way it is made. The event log names the destination and its secret's hint, never the secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from usageledger.notify.config import (
    KINDS,
    generate_signing_secret,
    secret_hint,
    validate_config,
    validate_name,
    validate_secret,
)
from usageledger.store.destinations import (
    DestinationRow,
    SealedSecret,
    delete_destination,
    insert_destination,
    set_destination_enabled,
)
from usageledger.store.runs import add_event
from usageledger.store.vault import Vault

__all__ = ["NewDestination", "add_destination", "pause_destination", "remove_destination"]


@dataclass(frozen=True, slots=True, repr=False)
class NewDestination:
    """A destination just added. `generated_secret` is a signing secret made for it, shown this once."""

    row: DestinationRow
    generated_secret: str | None = None

    def __repr__(self) -> str:
        return f"NewDestination(row={self.row!r})"


def add_destination(
    conn: Connection,
    vault: Vault,
    *,
    tenant_id: int,
    kind: str,
    name: str,
    settings: Mapping[str, Any],
    secret: str,
    by: str,
) -> NewDestination:
    """Check and store a destination; a webhook given no signing secret gets a generated one."""
    name = validate_name(name)
    config = validate_config(kind, settings)
    generated = None
    if kind == "webhook" and not secret.strip():
        generated = secret = generate_signing_secret()
    secret = validate_secret(kind, config, secret)
    ciphertext, kek_id = vault.seal(secret)
    hint = secret_hint(kind, secret)
    row = insert_destination(
        conn,
        tenant_id=tenant_id,
        kind=kind,
        name=name,
        config=config,
        secret=SealedSecret(ciphertext, kek_id, hint),
        created_by=by,
    )
    add_event(
        conn,
        tenant_id=tenant_id,
        connection_id=None,
        kind="destination_added",
        level="info",
        message=f"{by} added the {KINDS[kind].label} destination “{name}” ({hint}).",
        details={"by": by, "destination_id": row.id, "name": name, "kind": kind, "secret_hint": hint},
    )
    return NewDestination(row, generated)


def remove_destination(conn: Connection, destination_id: int, *, tenant_id: int, by: str) -> DestinationRow:
    """Delete a destination and its sealed secret (overwritten first); its delivery log stays."""
    gone = delete_destination(conn, destination_id, tenant_id=tenant_id)
    add_event(
        conn,
        tenant_id=tenant_id,
        connection_id=None,
        kind="destination_deleted",
        level="info",
        message=f"{by} deleted the {KINDS[gone.kind].label} destination “{gone.name}”; its secret is erased.",
        details={"by": by, "destination_id": gone.id, "name": gone.name, "kind": gone.kind},
    )
    return gone


def pause_destination(
    conn: Connection, destination_id: int, *, tenant_id: int, paused: bool, by: str
) -> DestinationRow:
    """Pause a destination (it keeps its settings and secret but gets no alerts) or resume it."""
    row = set_destination_enabled(conn, destination_id, tenant_id=tenant_id, enabled=not paused)
    what = "paused" if paused else "resumed"
    add_event(
        conn,
        tenant_id=tenant_id,
        connection_id=None,
        kind="destination_changed",
        level="info",
        message=f"{by} {what} the {KINDS[row.kind].label} destination “{row.name}”.",
        details={"by": by, "destination_id": row.id, "name": row.name, "enabled": row.enabled},
    )
    return row
