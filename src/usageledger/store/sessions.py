"""Server-side web sessions: the browser holds a random token, the database holds its sha256 and the expiry.

A session ends when its row is gone: sign-out deletes it, a password or role change or a user's removal
deletes every row of that user, and expired rows count as gone (and are purged at sign-in). Idle expiry
runs from `last_seen_at`, which is refreshed at most once a minute so reading pages does not write on
every request. Every function takes a SQLAlchemy `Connection`; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, or_, select, update

from usageledger.store.tables import web_sessions

__all__ = [
    "TOUCH_INTERVAL",
    "SessionLifetime",
    "SessionRow",
    "create_session",
    "end_session",
    "end_user_sessions",
    "find_session",
    "purge_expired_sessions",
]

# How stale `last_seen_at` may get before a request refreshes it (a write); far below any idle timeout.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SessionLifetime:
    """How long a session lives: `idle` since the last request, `absolute` since sign-in."""

    idle: dt.timedelta
    absolute: dt.timedelta


@dataclass(frozen=True, slots=True)
class SessionRow:
    user_id: int
    tenant_id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(
    conn: Connection, *, user_id: int, tenant_id: int, lifetime: SessionLifetime, now: dt.datetime
) -> str:
    """Store a new session and return its token (the only copy: it goes into the cookie)."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(web_sessions).values(
            id=_session_id(token),
            user_id=user_id,
            tenant_id=tenant_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime.absolute,
        )
    )
    return token


def find_session(
    conn: Connection, token: str, *, lifetime: SessionLifetime, now: dt.datetime
) -> SessionRow | None:
    """The live session of `token` (its last-seen time refreshed when stale), or None if ended or expired."""
    session_id = _session_id(token)
    row = conn.execute(select(web_sessions).where(web_sessions.c.id == session_id)).first()
    if row is None:
        return None
    if now >= row.expires_at or now >= row.last_seen_at + lifetime.idle:
        conn.execute(delete(web_sessions).where(web_sessions.c.id == session_id))
        return None
    last_seen = row.last_seen_at
    if now - last_seen >= TOUCH_INTERVAL:
        conn.execute(update(web_sessions).where(web_sessions.c.id == session_id).values(last_seen_at=now))
        last_seen = now
    return SessionRow(row.user_id, row.tenant_id, row.created_at, last_seen, row.expires_at)


def end_session(conn: Connection, token: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.id == _session_id(token)))


def end_user_sessions(conn: Connection, user_id: int) -> int:
    """End every session of a user at once; returns how many there were."""
    return conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id)).rowcount


def purge_expired_sessions(conn: Connection, *, lifetime: SessionLifetime, now: dt.datetime) -> int:
    """Delete the rows of sessions that can no longer be used; returns how many."""
    expired = or_(web_sessions.c.expires_at <= now, web_sessions.c.last_seen_at <= now - lifetime.idle)
    return conn.execute(delete(web_sessions).where(expired)).rowcount
