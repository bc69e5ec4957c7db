"""SCIM tokens: how an identity provider authenticates to a tenant's SCIM endpoint.

A token is `ulscim_` + 32 random url-safe bytes, shown once when created and stored only as its sha256 with
a short hint to tell tokens apart. It is never logged. Every function takes a `Connection`; the caller owns
the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from usageledger.errors import NotFoundError, UsageError
from usageledger.store.identity_events import SCIM_PROVISIONED
from usageledger.store.tables import events, scim_tokens

__all__ = [
    "SCIM_TOKEN_PREFIX",
    "NewScimToken",
    "ScimTokenRow",
    "create_scim_token",
    "list_scim_tokens",
    "record_scim_activity",
    "revoke_scim_token",
    "tenant_for_scim_token",
]

SCIM_TOKEN_PREFIX = "ulscim_"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- SCIM tokens ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScimTokenRow:
    id: int
    tenant_id: int
    name: str
    hint: str
    created_by_user_id: int | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NewScimToken:
    """A token just created: `token` is the only time the secret exists outside its hash."""

    row: ScimTokenRow
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _scim_token(row: Any) -> ScimTokenRow:
    m = row._mapping
    return ScimTokenRow(
        m["id"],
        m["tenant_id"],
        m["name"],
        m["hint"],
        m["created_by_user_id"],
        m["created_at"],
        m["last_used_at"],
    )


def create_scim_token(
    conn: Connection, *, tenant_id: int, name: str, created_by_user_id: int | None
) -> NewScimToken:
    """Create a SCIM token; the returned secret is never stored and cannot be shown again."""
    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError("Give the SCIM token a name of 1 to 200 characters, such as 'Okta'.")
    token = SCIM_TOKEN_PREFIX + secrets.token_urlsafe(32)
    hint = f"{SCIM_TOKEN_PREFIX}…{token[-4:]}"
    created = _now()
    result = conn.execute(
        insert(scim_tokens).values(
            tenant_id=tenant_id,
            name=name,
            token_hash=_hash(token),
            hint=hint,
            created_by_user_id=created_by_user_id,
            created_at=created,
        )
    )
    token_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return NewScimToken(
        ScimTokenRow(token_id, tenant_id, name, hint, created_by_user_id, created, None), token
    )


def list_scim_tokens(conn: Connection, tenant_id: int) -> list[ScimTokenRow]:
    rows = conn.execute(
        select(scim_tokens).where(scim_tokens.c.tenant_id == tenant_id).order_by(scim_tokens.c.id)
    ).all()
    return [_scim_token(r) for r in rows]


def revoke_scim_token(conn: Connection, token_id: int, *, tenant_id: int) -> ScimTokenRow:
    """Delete a SCIM token of this tenant; its next request gets 401. Returns what it was."""
    row = conn.execute(
        select(scim_tokens).where(scim_tokens.c.id == token_id, scim_tokens.c.tenant_id == tenant_id)
    ).first()
    if row is None:
        raise NotFoundError(f"No SCIM token with id {token_id}.")
    conn.execute(delete(scim_tokens).where(scim_tokens.c.id == token_id))
    return _scim_token(row)


def tenant_for_scim_token(conn: Connection, token: str) -> int | None:
    """The tenant a SCIM token belongs to (and records its use), or None for an unknown or revoked one."""
    if not token.startswith(SCIM_TOKEN_PREFIX) or len(token) > 200:
        return None
    row = conn.execute(
        select(scim_tokens.c.id, scim_tokens.c.tenant_id).where(scim_tokens.c.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    conn.execute(update(scim_tokens).where(scim_tokens.c.id == row.id).values(last_used_at=_now()))
    return int(row.tenant_id)


# One event per tenant and hour sums up what SCIM did, instead of one per request: an identity provider's
# first sync may send thousands of requests.
_ACTIVITY_WINDOW = dt.timedelta(hours=1)
_ACTIVITY_KIND = SCIM_PROVISIONED


def _activity_message(counts: dict[str, int]) -> str:
    said = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in sorted(counts.items()) if n)
    return f"SCIM provisioning: {said}."


def record_scim_activity(
    conn: Connection, tenant_id: int, what: str, *, now: dt.datetime | None = None
) -> None:
    """Count one SCIM change (users_created, groups_updated …) in this hour's summary event of the tenant."""
    now = now or _now()
    latest = conn.execute(
        select(events.c.id, events.c.details)
        .where(
            events.c.tenant_id == tenant_id,
            events.c.kind == _ACTIVITY_KIND,
            events.c.created_at >= now - _ACTIVITY_WINDOW,
        )
        .order_by(events.c.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if latest is None:
        counts = {what: 1}
        conn.execute(
            insert(events).values(
                tenant_id=tenant_id,
                created_at=now,
                kind=_ACTIVITY_KIND,
                level="info",
                message=_activity_message(counts),
                details=json.dumps(counts, sort_keys=True),
            )
        )
        return
    counts = json.loads(latest.details or "{}")
    counts[what] = int(counts.get(what, 0)) + 1
    conn.execute(
        update(events)
        .where(events.c.id == latest.id)
        .values(message=_activity_message(counts), details=json.dumps(counts, sort_keys=True))
    )
