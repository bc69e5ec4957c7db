"""Anthropic's spend limits as the last sync that could read them listed them.

The list is a picture of now, like the directory's memberships: each successful read replaces the
connection's rows whole, and a sync that may not read them (403, or an organization type the endpoint does
not serve) leaves them as they were. The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    select,
)

from usageledger.models import SpendLimit

from .tables import UTCDateTime, connections, metadata

__all__ = ["StoredSpendLimit", "anthropic_spend_limits", "list_spend_limits", "replace_spend_limits"]

anthropic_spend_limits = Table(
    "anthropic_spend_limits",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(200), primary_key=True),  # spl_…
    Column("scope_type", String(40), nullable=False),
    Column("scope_id", String(200), nullable=False, server_default=""),
    Column("amount_minor", BigInteger),  # minor units of `currency`; NULL: no numeric cap at this scope
    Column("currency", String(8), nullable=False),
    Column("period", String(20), nullable=False),  # daily | weekly | monthly
    Column("is_enabled", Boolean, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("read_at", UTCDateTime, nullable=False),  # when the sync read it
)


@dataclass(frozen=True, slots=True)
class StoredSpendLimit:
    connection_id: int
    organization_id: str | None
    organization_name: str | None
    limit: SpendLimit
    read_at: dt.datetime


def replace_spend_limits(
    conn: Connection, connection_id: int, limits: Sequence[SpendLimit], *, read_at: dt.datetime
) -> None:
    """The connection's stored limits become `limits` (last entry per id wins)."""
    conn.execute(
        delete(anthropic_spend_limits).where(anthropic_spend_limits.c.connection_id == connection_id)
    )
    unique = {limit.id: limit for limit in limits}
    if unique:
        conn.execute(
            anthropic_spend_limits.insert(),
            [
                {
                    "connection_id": connection_id,
                    "id": s.id,
                    "scope_type": s.scope_type,
                    "scope_id": s.scope_id,
                    "amount_minor": s.amount_minor,
                    "currency": s.currency,
                    "period": s.period,
                    "is_enabled": s.is_enabled,
                    "updated_at": s.updated_at,
                    "read_at": read_at,
                }  # fmt: skip
                for s in unique.values()
            ],
        )


def list_spend_limits(conn: Connection, tenant_id: int) -> list[StoredSpendLimit]:
    """Every stored limit of the tenant's connections: organization scope first, then by scope id."""
    t, c = anthropic_spend_limits, connections
    query = (
        select(t, c.c.organization_id, c.c.organization_name)
        .join(c, c.c.id == t.c.connection_id)
        .where(c.c.tenant_id == tenant_id, c.c.state != "disconnected")
        .order_by(c.c.id, t.c.scope_type != "organization", t.c.scope_type, t.c.scope_id, t.c.id)
    )
    out = []
    for r in conn.execute(query):
        limit = SpendLimit(
            r.id, r.scope_type, r.scope_id, None if r.amount_minor is None else int(r.amount_minor),
            r.currency, r.period, bool(r.is_enabled), r.updated_at,
        )  # fmt: skip
        out.append(
            StoredSpendLimit(r.connection_id, r.organization_id, r.organization_name, limit, r.read_at)
        )
    return out
