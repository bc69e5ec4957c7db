"""`usageledger admin …`: list, create, reset a password, change a role, remove; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, func, select

from usageledger.store.accounts import authenticate_user, create_access_token, get_user_by_email
from usageledger.store.sessions import SessionLifetime, create_session
from usageledger.store.tables import access_tokens, web_sessions

PASSWORD = "correct horse battery"
LIFETIME = SessionLifetime(idle=dt.timedelta(hours=12), absolute=dt.timedelta(days=14))


@pytest.fixture
def team(cli):
    """An admin and a member made with the CLI (passwords piped on standard input)."""
    assert cli("admin", "create-user", "ada@example.com", "--role", "admin", "--password-stdin",
               stdin=PASSWORD + "\n").exit_code == 0  # fmt: skip
    assert (
        cli("admin", "create-user", "bob@example.com", "--password-stdin", stdin=PASSWORD + "\n").exit_code
        == 0
    )
    return cli


@pytest.fixture
def db(cli_env):
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


def _signed_in_everywhere(db, email: str) -> tuple[int, int]:
    """Give the user a web session and an access token; return their ids for later checks."""
    with db.begin() as conn:
        user = get_user_by_email(conn, email)
        create_session(conn, user_id=user.id, tenant_id=user.tenant_id, lifetime=LIFETIME,
                       now=dt.datetime.now(dt.UTC))  # fmt: skip
        create_access_token(conn, tenant_id=user.tenant_id, user_id=user.id, name="script")
        return user.id, user.tenant_id


def _access(db, user_id: int) -> tuple[int, int]:
    with db.connect() as conn:
        count = lambda table: conn.execute(  # noqa: E731
            select(func.count()).select_from(table).where(table.c.user_id == user_id)
        ).scalar_one()
        return count(web_sessions), count(access_tokens)


def test_list_users(team):
    """list-users shows every user with role and workspace, as JSON too."""
    listed = team("admin", "list-users", "--format", "json")
    assert listed.exit_code == 0
    assert [(u["email"], u["role"]) for u in listed.json()] == [("ada@example.com", "admin"),
                                                              ("bob@example.com", "member")]  # fmt: skip
    assert "argon2" not in listed.out and "password" not in listed.out
    assert team("admin", "list-users", "--format", "xml").exit_code == 2


def test_set_password_resets_and_ends_sessions(team, db):
    """The new password works, the old fails, and the user's web sessions are gone (tokens stay)."""
    user_id, _ = _signed_in_everywhere(db, "bob@example.com")
    done = team("admin", "set-password", "BOB@example.com", "--password-stdin", stdin="a new passphrase\n")
    assert done.exit_code == 0 and "1 web session(s) ended" in done.out
    assert "a new passphrase" not in done.out + done.err
    with db.connect() as conn:
        assert authenticate_user(conn, "bob@example.com", "a new passphrase") is not None
        assert authenticate_user(conn, "bob@example.com", PASSWORD) is None
    assert _access(db, user_id) == (0, 1)


def test_passwords_never_come_from_an_argument_or_an_empty_stdin(team):
    """No password argument exists; an empty or short piped password is refused with exit 2."""
    assert team("admin", "set-password", "bob@example.com", "hunter2hunter2").exit_code == 2
    empty = team("admin", "set-password", "bob@example.com", "--password-stdin", stdin="")
    assert empty.exit_code == 2 and "standard input was empty" in empty.err
    short = team("admin", "set-password", "bob@example.com", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "at least 10" in short.err
    no_tty = team("admin", "set-password", "bob@example.com")
    assert no_tty.exit_code == 2 and "--password-stdin" in no_tty.err


def test_set_role_ends_sessions_and_tokens(team, db):
    """Promoting bob ends his sessions and revokes his tokens at once."""
    user_id, _ = _signed_in_everywhere(db, "bob@example.com")
    done = team("admin", "set-role", "bob@example.com", "admin")
    assert done.exit_code == 0 and "is admin" in done.out
    assert _access(db, user_id) == (0, 0)
    assert team("admin", "set-role", "bob@example.com", "owner").exit_code == 2


def test_the_last_admin_stays(team):
    """Demoting or removing the only admin fails with exit 7 and says what to do."""
    demote = team("admin", "set-role", "ada@example.com", "member")
    assert demote.exit_code == 7 and "make another user an admin first" in demote.err
    remove = team("admin", "remove-user", "ada@example.com", "--yes")
    assert remove.exit_code == 7 and "last admin" in remove.err


def test_remove_user(team, db):
    """remove-user asks first (no answer: nothing happens); --yes removes user, sessions and tokens."""
    user_id, _ = _signed_in_everywhere(db, "bob@example.com")
    asked = team("admin", "remove-user", "bob@example.com", stdin="n\n")
    assert asked.exit_code == 1 and _access(db, user_id) == (1, 1)
    done = team("admin", "remove-user", "bob@example.com", "--yes")
    assert done.exit_code == 0 and _access(db, user_id) == (0, 0)
    missing = team("admin", "remove-user", "bob@example.com", "--yes")
    assert missing.exit_code == 6 and "No user with email" in missing.err


def test_a_duplicate_email_is_exit_7(team):
    """create-user with a taken email is a conflict (exit 7), never a traceback or a hash."""
    again = team("admin", "create-user", "ADA@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.exit_code == 7 and "already exists" in again.err
    assert "Traceback" not in again.err and "argon2" not in again.err
