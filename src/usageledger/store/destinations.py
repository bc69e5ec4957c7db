"""Notification destinations (email, Slack, generic webhook) and the log of every delivery attempt.

A destination's secret (the SMTP password, the Slack webhook URL, the webhook signing secret) is sealed by
the vault before it is stored, exactly as an admin key is, and only its hint is ever read back for display.
Deleting a destination overwrites the ciphertext with zeros before deleting the row (SQLite's
secure_delete zeroes the freed page; `store.checkpoint` then folds the WAL back). The delivery log keeps
the destination's name and kind, so it outlives the destination. Every function takes a `Connection`; the
caller owns the transaction. Functions that take `tenant_id` scope by it: another tenant's destination is
reported as not found.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from usageledger.errors import ConflictError, NotFoundError
from usageledger.store.tables import UTCDateTime, metadata
from usageledger.store.vault import Vault

__all__ = [
    "DeliveryRow",
    "DestinationRow",
    "SealedSecret",
    "delete_destination",
    "get_destination",
    "insert_destination",
    "last_delivery_per_destination",
    "list_deliveries",
    "list_destinations",
    "load_destination_secret",
    "record_delivery",
    "rotate_destination_secrets",
    "set_destination_enabled",
    "notification_deliveries",
    "notification_destinations",
]

notification_destinations = Table(
    "notification_destinations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # email | slack | webhook
    Column("name", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("config", Text, nullable=False),  # JSON object of the settings that are not secret
    Column("secret_ciphertext", LargeBinary, nullable=False),
    Column("secret_kek_id", String(64), nullable=False),  # which key-encryption key sealed it (rotation)
    Column("secret_hint", String(100), nullable=False),  # all that is ever shown of the secret
    Column("created_by", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "name", name="uq_notification_destinations_tenant_name"),
)

# One row per attempt: a delivery retried twice has three rows. `alert_id` is the alert's id (0 for a test
# notice); `error` is written by the sender with every secret removed.
notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("alert_id", Integer, nullable=False),
    Column("destination_id", Integer, ForeignKey("notification_destinations.id", ondelete="SET NULL")),
    Column("destination_name", String(200), nullable=False),
    Column("destination_kind", String(20), nullable=False),
    Column("attempt", Integer, nullable=False),  # 1, 2, 3 …
    Column("status", String(20), nullable=False),  # delivered | failed
    Column("response_code", Integer),  # the HTTP status or SMTP reply code, when there was one
    Column("error", Text),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_notification_deliveries_tenant_alert", "tenant_id", "alert_id"),
    Index("ix_notification_deliveries_destination", "destination_id"),
)


@dataclass(frozen=True, slots=True)
class DestinationRow:
    """A destination as it may be shown: its settings and the secret's hint, never the secret."""

    id: int
    tenant_id: int
    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]
    secret_hint: str
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True, repr=False)
class SealedSecret:
    """A secret as the vault sealed it, with the hint that may be shown of it."""

    ciphertext: bytes
    kek_id: str
    hint: str

    def __repr__(self) -> str:
        return f"SealedSecret(kek_id={self.kek_id!r}, hint={self.hint!r})"


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    alert_id: int
    destination_id: int | None
    destination_name: str
    destination_kind: str
    attempt: int
    status: str
    response_code: int | None
    error: str | None
    at: dt.datetime


_SHOWN = (
    notification_destinations.c.id,
    notification_destinations.c.tenant_id,
    notification_destinations.c.kind,
    notification_destinations.c.name,
    notification_destinations.c.enabled,
    notification_destinations.c.config,
    notification_destinations.c.secret_hint,
    notification_destinations.c.created_by,
    notification_destinations.c.created_at,
)


def _destination(row: Any) -> DestinationRow:
    m = row._mapping
    return DestinationRow(
        id=m["id"],
        tenant_id=m["tenant_id"],
        kind=m["kind"],
        name=m["name"],
        enabled=bool(m["enabled"]),
        config=json.loads(m["config"]),
        secret_hint=m["secret_hint"],
        created_by=m["created_by"],
        created_at=m["created_at"],
    )


def insert_destination(
    conn: Connection,
    *,
    tenant_id: int,
    kind: str,
    name: str,
    config: dict[str, Any],
    secret: SealedSecret,
    created_by: str,
) -> DestinationRow:
    """Store a destination whose secret is already sealed; a name taken in the tenant is a conflict."""
    values = {
        "tenant_id": tenant_id,
        "kind": kind,
        "name": name,
        "enabled": True,
        "config": json.dumps(config, sort_keys=True),
        "secret_ciphertext": secret.ciphertext,
        "secret_kek_id": secret.kek_id,
        "secret_hint": secret.hint,
        "created_by": created_by,
        "created_at": dt.datetime.now(dt.UTC),
    }
    try:
        with conn.begin_nested():
            result = conn.execute(insert(notification_destinations).values(**values))
    except IntegrityError:
        raise ConflictError(f"A destination named {name!r} exists already; choose another name.") from None
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return get_destination(conn, int(primary_key[0]), tenant_id=tenant_id)


def get_destination(conn: Connection, destination_id: int, *, tenant_id: int) -> DestinationRow:
    row = conn.execute(
        select(*_SHOWN).where(
            notification_destinations.c.id == destination_id,
            notification_destinations.c.tenant_id == tenant_id,
        )
    ).first()
    if row is None:
        raise NotFoundError(f"No notification destination with id {destination_id}.")
    return _destination(row)


def list_destinations(
    conn: Connection, tenant_id: int, *, enabled_only: bool = False
) -> list[DestinationRow]:
    query = (
        select(*_SHOWN)
        .where(notification_destinations.c.tenant_id == tenant_id)
        .order_by(notification_destinations.c.id)
    )
    if enabled_only:
        query = query.where(notification_destinations.c.enabled.is_(True))
    return [_destination(row) for row in conn.execute(query)]


def load_destination_secret(conn: Connection, destination_id: int, *, tenant_id: int) -> SealedSecret:
    """The sealed secret of a destination, for the sender about to use it (open it with the vault)."""
    row = conn.execute(
        select(
            notification_destinations.c.secret_ciphertext,
            notification_destinations.c.secret_kek_id,
            notification_destinations.c.secret_hint,
        ).where(
            notification_destinations.c.id == destination_id,
            notification_destinations.c.tenant_id == tenant_id,
        )
    ).first()
    if row is None:
        raise NotFoundError(f"No notification destination with id {destination_id}.")
    return SealedSecret(bytes(row.secret_ciphertext), row.secret_kek_id, row.secret_hint)


def set_destination_enabled(
    conn: Connection, destination_id: int, *, tenant_id: int, enabled: bool
) -> DestinationRow:
    """Pause (or resume) a destination: a paused one keeps its settings and gets no alerts."""
    get_destination(conn, destination_id, tenant_id=tenant_id)
    conn.execute(
        update(notification_destinations)
        .where(notification_destinations.c.id == destination_id)
        .values(enabled=enabled)
    )
    return get_destination(conn, destination_id, tenant_id=tenant_id)


def delete_destination(conn: Connection, destination_id: int, *, tenant_id: int) -> DestinationRow:
    """Overwrite the sealed secret with zeros of the same length, then delete the row. Returns what it was."""
    gone = get_destination(conn, destination_id, tenant_id=tenant_id)
    where = notification_destinations.c.id == destination_id
    length = conn.execute(select(func.length(notification_destinations.c.secret_ciphertext)).where(where))
    conn.execute(
        update(notification_destinations)
        .where(where)
        .values(secret_ciphertext=bytes(int(length.scalar() or 0)), secret_kek_id="", secret_hint="")
    )
    conn.execute(delete(notification_destinations).where(where))
    return gone


def record_delivery(
    conn: Connection,
    *,
    tenant_id: int,
    alert_id: int,
    destination: DestinationRow,
    attempt: int,
    status: str,
    response_code: int | None = None,
    error: str | None = None,
) -> None:
    """Log one delivery attempt. `error` must already be free of secrets (the senders scrub it)."""
    conn.execute(
        insert(notification_deliveries).values(
            tenant_id=tenant_id,
            alert_id=alert_id,
            destination_id=destination.id,
            destination_name=destination.name,
            destination_kind=destination.kind,
            attempt=attempt,
            status=status,
            response_code=response_code,
            error=error,
            at=dt.datetime.now(dt.UTC),
        )
    )


def _delivery(r: Any) -> DeliveryRow:
    return DeliveryRow(
        id=r.id,
        alert_id=r.alert_id,
        destination_id=r.destination_id,
        destination_name=r.destination_name,
        destination_kind=r.destination_kind,
        attempt=r.attempt,
        status=r.status,
        response_code=r.response_code,
        error=r.error,
        at=r.at,
    )


def list_deliveries(
    conn: Connection,
    tenant_id: int,
    *,
    alert_id: int | None = None,
    destination_id: int | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    """Delivery attempts of the tenant, newest first; of one alert or one destination when asked."""
    t = notification_deliveries
    query = select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.id.desc()).limit(limit)
    if alert_id is not None:
        query = query.where(t.c.alert_id == alert_id)
    if destination_id is not None:
        query = query.where(t.c.destination_id == destination_id)
    return [_delivery(r) for r in conn.execute(query)]


def last_delivery_per_destination(
    conn: Connection, tenant_id: int, alert_ids: list[int]
) -> dict[int, list[DeliveryRow]]:
    """Per alert, the last attempt to each destination (what the Alerts page shows); one query."""
    if not alert_ids:
        return {}
    t = notification_deliveries
    query = select(t).where(t.c.tenant_id == tenant_id, t.c.alert_id.in_(alert_ids)).order_by(t.c.id.desc())
    last: dict[int, dict[str, DeliveryRow]] = {}
    for r in conn.execute(query):
        per_alert = last.setdefault(r.alert_id, {})
        if r.destination_name not in per_alert:  # newest first: the first seen is the last attempt
            per_alert[r.destination_name] = _delivery(r)
    return {alert_id: list(rows.values()) for alert_id, rows in last.items()}


def rotate_destination_secrets(conn: Connection, vault: Vault) -> int:
    """Re-seal every destination secret not sealed by `vault`'s newest key (as `rotate_credentials` does for
    admin keys); returns how many changed. The caller owns the transaction."""
    t = notification_destinations
    rows = conn.execute(
        select(t.c.id, t.c.secret_ciphertext, t.c.secret_kek_id).where(t.c.secret_kek_id != vault.kek_id)
    ).all()
    for row in rows:
        ciphertext, kek_id = vault.reseal(bytes(row.secret_ciphertext), row.secret_kek_id)
        conn.execute(
            update(t).where(t.c.id == row.id).values(secret_ciphertext=ciphertext, secret_kek_id=kek_id)
        )
    return len(rows)
