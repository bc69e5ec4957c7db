"""store/accounts.py: workspaces, users with argon2 hashes, personal access tokens hashed at rest."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.store.accounts import (
    authenticate_user,
    count_users,
    create_access_token,
    create_first_admin,
    create_tenant,
    create_user,
    delete_access_token,
    list_access_tokens,
    list_users,
    user_for_token,
)
from usageledger.store.tables import access_tokens, tenants, users

PASSWORD = "correct horse battery"


@pytest.fixture
def conn(engine):
    with engine.begin() as conn:
        yield conn


def test_password_is_stored_as_argon2_hash(conn):
    """The users table holds an argon2id hash, never the password."""
    tenant = create_tenant(conn, "Acme")
    create_user(conn, tenant, "Ada@Example.com", PASSWORD, "admin")
    stored = conn.execute(select(users.c.password_hash, users.c.email)).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert stored.email == "ada@example.com"


def test_authenticate_user(conn):
    """Right password: the user; wrong password or unknown email: None."""
    tenant = create_tenant(conn, "Acme")
    user_id = create_user(conn, tenant, "ada@example.com", PASSWORD, "member")
    user = authenticate_user(conn, " ADA@example.com ", PASSWORD)
    assert user is not None and user.id == user_id and user.role == "member" and not user.is_admin
    assert authenticate_user(conn, "ada@example.com", "wrong password!") is None
    assert authenticate_user(conn, "nobody@example.com", PASSWORD) is None


@pytest.mark.parametrize(
    ("email", "password", "role", "error"),
    [
        ("not-an-email", PASSWORD, "admin", UsageError),
        ("ada@example.com", "short", "admin", UsageError),
        ("ada@example.com", PASSWORD, "owner", UsageError),
    ],
)
def test_create_user_validates(conn, email, password, role, error):
    """Bad email, short password or unknown role are refused with a message."""
    tenant = create_tenant(conn, "Acme")
    with pytest.raises(error):
        create_user(conn, tenant, email, password, role)


def test_create_user_refuses_duplicate_email_and_unknown_tenant(conn):
    """Emails are unique across workspaces; the workspace must exist."""
    tenant = create_tenant(conn, "Acme")
    create_user(conn, tenant, "ada@example.com", PASSWORD, "admin")
    with pytest.raises(ConflictError):
        create_user(conn, tenant, "ADA@example.com", PASSWORD, "member")
    with pytest.raises(NotFoundError):
        create_user(conn, 999, "bob@example.com", PASSWORD, "member")


def test_first_admin_adopts_the_existing_workspace(conn):
    """First run names the workspace the CLI created (so its connections stay visible) and refuses a second time."""
    first = create_tenant(conn, "default")
    admin = create_first_admin(conn, workspace_name="Acme Inc.", email="ada@example.com", password=PASSWORD)
    assert admin.tenant_id == first and admin.is_admin
    assert conn.execute(select(tenants.c.name).where(tenants.c.id == first)).scalar_one() == "Acme Inc."
    assert count_users(conn) == 1
    with pytest.raises(ConflictError):
        create_first_admin(conn, workspace_name="Other", email="eve@example.com", password=PASSWORD)


def test_first_admin_creates_a_workspace_when_none_exists(conn):
    """On an empty database the first admin gets a new workspace."""
    admin = create_first_admin(conn, workspace_name="Acme", email="ada@example.com", password=PASSWORD)
    assert [u.email for u in list_users(conn, admin.tenant_id)] == ["ada@example.com"]


def test_access_token_is_shown_once_and_hashed_at_rest(conn):
    """The token is returned once; the table has only its sha256; it resolves to its user until revoked."""
    tenant = create_tenant(conn, "Acme")
    user_id = create_user(conn, tenant, "ada@example.com", PASSWORD, "admin")
    new = create_access_token(conn, tenant_id=tenant, user_id=user_id, name="script")
    stored = conn.execute(select(access_tokens.c.token_hash)).scalar_one()
    assert stored == hashlib.sha256(new.token.encode()).hexdigest()
    assert new.token not in stored
    user = user_for_token(conn, new.token)
    assert user is not None and user.id == user_id
    assert list_access_tokens(conn, tenant)[0].last_used_at is not None
    assert user_for_token(conn, new.token + "x") is None
    assert user_for_token(conn, "not-a-token") is None
    delete_access_token(conn, new.row.id, tenant_id=tenant)
    assert user_for_token(conn, new.token) is None


def test_tokens_stay_in_their_workspace(conn):
    """A token cannot be made for, listed or revoked from another workspace."""
    acme, globex = create_tenant(conn, "Acme"), create_tenant(conn, "Globex")
    ada = create_user(conn, acme, "ada@example.com", PASSWORD, "admin")
    with pytest.raises(NotFoundError):
        create_access_token(conn, tenant_id=globex, user_id=ada, name="sneaky")
    new = create_access_token(conn, tenant_id=acme, user_id=ada, name="script")
    assert list_access_tokens(conn, globex) == []
    with pytest.raises(NotFoundError):
        delete_access_token(conn, new.row.id, tenant_id=globex)
