"""store/sessions.py: server-side web sessions with idle and absolute expiry (the clock is passed in)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from usageledger.store.accounts import create_tenant, create_user
from usageledger.store.sessions import (
    SessionLifetime,
    create_session,
    end_session,
    end_user_sessions,
    find_session,
    purge_expired_sessions,
)
from usageledger.store.tables import web_sessions

LIFETIME = SessionLifetime(idle=dt.timedelta(hours=12), absolute=dt.timedelta(days=14))
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def user(engine: Engine) -> tuple[int, int]:
    """(tenant id, user id) of one member."""
    with engine.begin() as conn:
        tenant = create_tenant(conn, "Acme")
        return tenant, create_user(conn, tenant, "ada@example.com", "correct horse battery", "member")


def _start(engine: Engine, user: tuple[int, int], now: dt.datetime = T0) -> str:
    with engine.begin() as conn:
        return create_session(conn, user_id=user[1], tenant_id=user[0], lifetime=LIFETIME, now=now)


def _find(engine: Engine, token: str, now: dt.datetime):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return find_session(conn, token, lifetime=LIFETIME, now=now)


def test_the_token_is_stored_only_as_its_hash(engine, user):
    """The table holds the sha256 of the cookie's token, never the token."""
    token = _start(engine, user)
    with engine.connect() as conn:
        (stored,) = conn.execute(select(web_sessions.c.id)).one()
    assert token not in stored and len(stored) == 64
    found = _find(engine, token, T0)
    assert found is not None and found.user_id == user[1] and found.tenant_id == user[0]
    assert _find(engine, token + "x", T0) is None


def test_idle_expiry(engine, user):
    """A session unused for the idle timeout is over, and its row is deleted."""
    token = _start(engine, user)
    assert _find(engine, token, T0 + dt.timedelta(hours=11, minutes=59)) is not None
    # used at 11:59, so it now lives until 23:59 after sign-in
    assert _find(engine, token, T0 + dt.timedelta(hours=23, minutes=58)) is not None
    assert _find(engine, token, T0 + dt.timedelta(hours=36)) is None
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(web_sessions)).scalar_one() == 0


def test_absolute_expiry_even_when_used_all_the_time(engine, user):
    """However often it is used, a session ends at its absolute lifetime."""
    token = _start(engine, user)
    now = T0
    while now < T0 + dt.timedelta(days=14) - dt.timedelta(hours=6):
        now += dt.timedelta(hours=6)
        assert _find(engine, token, now) is not None, now
    assert _find(engine, token, T0 + dt.timedelta(days=14)) is None


def test_last_seen_is_written_at_most_once_a_minute(engine, user):
    """Requests within a minute do not write; a later one moves last_seen_at."""
    token = _start(engine, user)
    found = _find(engine, token, T0 + dt.timedelta(seconds=59))
    assert found is not None and found.last_seen_at == T0
    found = _find(engine, token, T0 + dt.timedelta(minutes=5))
    assert found is not None and found.last_seen_at == T0 + dt.timedelta(minutes=5)
    with engine.connect() as conn:
        assert conn.execute(select(web_sessions.c.last_seen_at)).scalar_one() == T0 + dt.timedelta(minutes=5)


def test_ending_sessions(engine, user):
    """end_session ends one; end_user_sessions ends every session of the user."""
    first, second, third = (_start(engine, user) for _ in range(3))
    with engine.begin() as conn:
        end_session(conn, first)
    assert _find(engine, first, T0) is None and _find(engine, second, T0) is not None
    with engine.begin() as conn:
        assert end_user_sessions(conn, user[1]) == 2
    assert _find(engine, second, T0) is None and _find(engine, third, T0) is None


def test_purge_deletes_only_expired_rows(engine, user):
    """Idle and over-age rows are purged; live ones stay."""
    idle = _start(engine, user, T0 - dt.timedelta(hours=13))
    old = _start(engine, user, T0 - dt.timedelta(days=15))
    live = _start(engine, user, T0 - dt.timedelta(hours=1))
    with engine.begin() as conn:
        assert purge_expired_sessions(conn, lifetime=LIFETIME, now=T0) == 2
    assert _find(engine, live, T0) is not None
    assert _find(engine, idle, T0) is None and _find(engine, old, T0) is None
