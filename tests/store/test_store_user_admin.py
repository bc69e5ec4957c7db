"""Accounts under concurrency and user administration: atomic first run, racing duplicate emails, roles.

The races are real: two connections, two threads. Where the interleaving matters, the second writer is
held until the first has passed its checks but not committed (`race_past_the_check`), which is exactly
the window a check-then-insert loses."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, select

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.store.accounts import (
    authenticate_user,
    count_users,
    create_access_token,
    create_first_admin,
    create_tenant,
    create_user,
    list_users,
    user_for_token,
)
from usageledger.store.sessions import SessionLifetime, create_session, find_session
from usageledger.store.tables import tenants, web_sessions
from usageledger.store.user_admin import change_password, remove_user, set_password, set_role

PASSWORD = "correct horse battery"
LIFETIME = SessionLifetime(idle=dt.timedelta(hours=12), absolute=dt.timedelta(days=14))
NOW = dt.datetime.now(dt.UTC)


def race_past_the_check(
    engine: Engine, first: Callable[[Connection], Any], second: Callable[[Connection], Any], statement: str
) -> Any:
    """Run `first` in an open transaction; run `second` in another thread and transaction until it is about
    to execute `statement` (its checks passed, blind to `first`); commit `first`; return what `second`
    returned or raised."""
    outcome: dict[str, Any] = {}
    reached = threading.Event()

    def watch(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if threading.current_thread() is worker and sql.lstrip().upper().startswith(statement):
            reached.set()

    def run() -> None:
        try:
            with engine.begin() as conn:
                outcome["value"] = second(conn)
        except Exception as exc:
            outcome["value"] = exc

    worker = threading.Thread(target=run)
    with engine.connect() as conn:
        transaction = conn.begin()
        first(conn)
        event.listen(engine, "before_cursor_execute", watch)
        try:
            worker.start()
            assert reached.wait(30), f"the second writer never reached {statement}"
            transaction.commit()
        finally:
            if transaction.is_active:
                transaction.rollback()
            worker.join(60)
            event.remove(engine, "before_cursor_execute", watch)
    assert not worker.is_alive()
    return outcome["value"]


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call on its own thread at the same instant (a barrier); their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _first_admin(engine: Engine, email: str) -> Callable[[], Any]:
    def call() -> Any:
        with engine.begin() as conn:
            return create_first_admin(conn, workspace_name="Acme", email=email, password=PASSWORD)

    return call


# --- first run --------------------------------------------------------------------------------------------


def test_a_first_run_that_passed_the_check_still_loses(engine):
    """Two first runs both see no user; the database lets only the first to commit create an admin."""
    lost = race_past_the_check(
        engine,
        lambda conn: create_first_admin(
            conn, workspace_name="Acme", email="ada@example.com", password=PASSWORD
        ),
        lambda conn: create_first_admin(
            conn, workspace_name="Evil", email="eve@example.com", password=PASSWORD
        ),
        "INSERT INTO FIRST_RUN",
    )
    assert isinstance(lost, ConflictError) and "sign in" in lost.message
    with engine.connect() as conn:
        assert [(u.email, u.role) for u in list_users(conn, None)] == [("ada@example.com", "admin")]
        assert conn.execute(select(tenants.c.name)).scalars().all() == ["Acme"]


def test_first_runs_started_at_the_same_instant_make_one_admin(engine):
    """Two threads run first-run setup at once: one admin, one ConflictError."""
    results = together(_first_admin(engine, "ada@example.com"), _first_admin(engine, "bob@example.com"))
    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "UserRow"]
    with engine.connect() as conn:
        assert count_users(conn) == 1
        assert conn.execute(select(func.count()).select_from(tenants)).scalar_one() == 1


# --- duplicate emails ------------------------------------------------------------------------------------


def test_a_duplicate_email_that_passed_the_check_is_a_conflict_without_the_hash(engine):
    """The unique constraint decides; the ConflictError carries no driver error (whose text held the hash)."""
    with engine.begin() as conn:
        tenant = create_tenant(conn, "Acme")
    lost = race_past_the_check(
        engine,
        lambda conn: create_user(conn, tenant, "ada@example.com", PASSWORD, "admin"),
        lambda conn: create_user(conn, tenant, "ADA@example.com", "another long password", "admin"),
        "INSERT INTO USERS",
    )
    assert isinstance(lost, ConflictError) and "already exists" in lost.message
    assert lost.__cause__ is None and lost.__suppress_context__
    assert "$argon2" not in str(lost)
    with engine.connect() as conn:
        assert authenticate_user(conn, "ada@example.com", PASSWORD) is not None


# --- roles, removal, passwords ----------------------------------------------------------------------------


@pytest.fixture
def acme(engine: Engine) -> dict[str, int]:
    """Workspace Acme with one admin and two members, each with a session and an access token."""
    with engine.begin() as conn:
        tenant = create_tenant(conn, "Acme")
        ids = {"tenant": tenant}
        for name, role in (("ada", "admin"), ("bob", "member"), ("cy", "member")):
            ids[name] = create_user(conn, tenant, f"{name}@example.com", PASSWORD, role)
            create_session(conn, user_id=ids[name], tenant_id=tenant, lifetime=LIFETIME, now=NOW)
    return ids


def _access(engine: Engine, user_id: int) -> tuple[int, int]:
    """(live sessions, access tokens) of a user."""
    from usageledger.store.tables import access_tokens

    with engine.connect() as conn:
        sessions = conn.execute(
            select(func.count()).select_from(web_sessions).where(web_sessions.c.user_id == user_id)
        ).scalar_one()
        tokens = conn.execute(
            select(func.count()).select_from(access_tokens).where(access_tokens.c.user_id == user_id)
        ).scalar_one()
    return sessions, tokens


def test_a_role_change_ends_sessions_and_tokens_at_once(engine, acme):
    """Promoting bob deletes his sessions and access tokens; cy keeps hers."""
    with engine.begin() as conn:
        token = create_access_token(conn, tenant_id=acme["tenant"], user_id=acme["bob"], name="script").token
        create_access_token(conn, tenant_id=acme["tenant"], user_id=acme["cy"], name="script")
    with engine.begin() as conn:
        assert set_role(conn, acme["bob"], "admin", tenant_id=acme["tenant"]).is_admin
        assert user_for_token(conn, token) is None
    assert _access(engine, acme["bob"]) == (0, 0)
    assert _access(engine, acme["cy"]) == (1, 1)


def test_the_last_admin_can_be_neither_demoted_nor_removed(engine, acme):
    """A workspace always keeps an admin; the refusal changes nothing."""
    for change in (lambda c: set_role(c, acme["ada"], "member"), lambda c: remove_user(c, acme["ada"])):
        with pytest.raises(ConflictError, match="last admin"), engine.begin() as conn:
            change(conn)
    with engine.connect() as conn:
        assert [u.role for u in list_users(conn, acme["tenant"])] == ["admin", "member", "member"]
    assert _access(engine, acme["ada"]) == (1, 0)


def test_removing_a_user_ends_their_access(engine, acme):
    """A removed member is gone with their sessions and tokens; they cannot sign in."""
    with engine.begin() as conn:
        create_access_token(conn, tenant_id=acme["tenant"], user_id=acme["bob"], name="script")
        assert remove_user(conn, acme["bob"], tenant_id=acme["tenant"]).email == "bob@example.com"
        assert authenticate_user(conn, "bob@example.com", PASSWORD) is None
    assert _access(engine, acme["bob"]) == (0, 0)


def test_changes_stay_in_the_workspace_and_not_on_yourself(engine, acme):
    """Another workspace's user is not found; an admin cannot change or remove themselves."""
    with engine.begin() as conn:
        other = create_tenant(conn, "Globex")
    with pytest.raises(NotFoundError), engine.begin() as conn:
        set_role(conn, acme["bob"], "admin", tenant_id=other)
    with pytest.raises(NotFoundError), engine.begin() as conn:
        remove_user(conn, acme["bob"], tenant_id=other)
    with pytest.raises(UsageError, match="your own role"), engine.begin() as conn:
        remove_user(conn, acme["ada"], tenant_id=acme["tenant"], by=acme["ada"])
    with pytest.raises(UsageError, match="one of"), engine.begin() as conn:
        set_role(conn, acme["bob"], "owner")


def test_two_admins_demoting_each_other_at_once_leave_one_admin(engine, acme):
    """The last-admin rule holds under concurrency: one demotion wins, the other is refused."""
    with engine.begin() as conn:
        set_role(conn, acme["bob"], "admin")

    def demote(user_id: int) -> Callable[[], Any]:
        def call() -> Any:
            with engine.begin() as conn:
                return set_role(conn, user_id, "member")

        return call

    results = together(demote(acme["ada"]), demote(acme["bob"]))
    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "UserRow"]
    with engine.connect() as conn:
        assert sum(u.is_admin for u in list_users(conn, acme["tenant"])) == 1


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("wrong password!", "a new long password", "current password is not right"),
        (PASSWORD, PASSWORD, "same as the current"),
        (PASSWORD, "short", "at least 10"),
    ],
)
def test_change_password_refusals(engine, acme, current, new, message):
    """Wrong current password, an unchanged one or a short one are refused; nothing changes."""
    with pytest.raises(UsageError, match=message), engine.begin() as conn:
        change_password(conn, acme["bob"], current=current, new=new)
    with engine.connect() as conn:
        assert authenticate_user(conn, "bob@example.com", PASSWORD) is not None
    assert _access(engine, acme["bob"])[0] == 1


def test_a_password_change_ends_every_session_of_the_user(engine, acme):
    """After a change (or an operator's reset) the old password fails and no session of the user is left."""
    with engine.begin() as conn:
        token = create_session(
            conn, user_id=acme["bob"], tenant_id=acme["tenant"], lifetime=LIFETIME, now=NOW
        )
        change_password(conn, acme["bob"], current=PASSWORD, new="a new long password")
        assert find_session(conn, token, lifetime=LIFETIME, now=NOW) is None
        assert authenticate_user(conn, "bob@example.com", PASSWORD) is None
        assert set_password(conn, acme["cy"], "reset by the operator") == 1
    assert _access(engine, acme["bob"])[0] == 0 and _access(engine, acme["cy"])[0] == 0
    assert _access(engine, acme["ada"])[0] == 1
