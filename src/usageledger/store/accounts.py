"""Accounts: usageledger workspaces (tenants), their users and personal access tokens.

Passwords are hashed with argon2 (argon2-cffi); personal access tokens are random strings shown once
and stored only as their sha256 hex digest. Every function takes a SQLAlchemy `Connection`; the caller
owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.store.tables import access_tokens, first_run, tenants, users

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "TOKEN_PREFIX",
    "AccessTokenRow",
    "NewAccessToken",
    "TenantRow",
    "UserRow",
    "authenticate_user",
    "count_users",
    "create_access_token",
    "create_first_admin",
    "create_tenant",
    "create_user",
    "delete_access_token",
    "get_tenant",
    "get_user",
    "get_user_by_email",
    "hash_password",
    "hash_token",
    "list_access_tokens",
    "list_users",
    "normalize_email",
    "user_for_token",
    "verify_password",
]

ROLES: tuple[str, ...] = ("admin", "member")
TOKEN_PREFIX = "ulpat_"
MIN_PASSWORD_LENGTH = 10

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_EMAIL_TAKEN = "A user with this email already exists; sign in or pick another email."
_ALREADY_SET_UP = "This usageledger already has users; sign in instead."
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-dummy")


@dataclass(frozen=True, slots=True)
class TenantRow:
    id: int
    name: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    tenant_id: int
    email: str
    role: str
    created_at: dt.datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class AccessTokenRow:
    id: int
    tenant_id: int
    user_id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NewAccessToken:
    """A token just created: `token` is the only time the secret exists outside its hash."""

    row: AccessTokenRow
    token: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _user(row: object) -> UserRow:
    m = row._mapping  # type: ignore[attr-defined]
    return UserRow(m["id"], m["tenant_id"], m["email"], m["role"], m["created_at"])


def _token(row: object) -> AccessTokenRow:
    m = row._mapping  # type: ignore[attr-defined]
    return AccessTokenRow(
        m["id"], m["tenant_id"], m["user_id"], m["name"], m["created_at"], m["last_used_at"]
    )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """The argon2id hash stored for `password`, once it is long enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- tenants ------------------------------------------------------------------------------------------


def create_tenant(conn: Connection, name: str) -> int:
    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError("Give the workspace a name of 1 to 200 characters.")
    result = conn.execute(insert(tenants).values(name=name, created_at=_now()))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_tenant(conn: Connection, tenant_id: int) -> TenantRow:
    row = conn.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
    if row is None:
        raise NotFoundError(f"No workspace with id {tenant_id}.")
    return TenantRow(row.id, row.name, row.created_at)


# --- users --------------------------------------------------------------------------------------------


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def create_user(conn: Connection, tenant_id: int, email: str, password: str, role: str) -> int:
    """Add a user to a workspace; the password is stored as an argon2 hash. Returns the user id."""
    email = normalize_email(email)
    if not _EMAIL.match(email) or len(email) > 320:
        raise UsageError("Give a valid email address, such as ada@example.com.")
    if role not in ROLES:
        raise UsageError(f"Role must be one of: {', '.join(ROLES)}.")
    password_hash = hash_password(password)
    get_tenant(conn, tenant_id)
    if conn.execute(select(users.c.id).where(users.c.email == email)).first() is not None:
        raise ConflictError(_EMAIL_TAKEN)
    try:
        result = conn.execute(
            insert(users).values(
                tenant_id=tenant_id, email=email, password_hash=password_hash, role=role, created_at=_now()
            )
        )
    except IntegrityError:
        # Someone added the same email between the check above and this insert: the unique constraint
        # decides. `from None`: the driver's error carries the statement's parameters, the hash among them.
        raise ConflictError(_EMAIL_TAKEN) from None
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_user(conn: Connection, user_id: int) -> UserRow:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFoundError(f"No user with id {user_id}.")
    return _user(row)


def get_user_by_email(conn: Connection, email: str) -> UserRow:
    row = conn.execute(select(users).where(users.c.email == normalize_email(email))).first()
    if row is None:
        raise NotFoundError(f"No user with email {normalize_email(email)!r}; check the spelling.")
    return _user(row)


def list_users(conn: Connection, tenant_id: int | None) -> list[UserRow]:
    """The users of one workspace, or of every workspace (None: the operator's view in the CLI)."""
    query = select(users).order_by(users.c.tenant_id, users.c.id)
    if tenant_id is not None:
        query = query.where(users.c.tenant_id == tenant_id)
    return [_user(r) for r in conn.execute(query)]


def authenticate_user(conn: Connection, email: str, password: str) -> UserRow | None:
    """The user whose email and password match, or None. Takes the same time for unknown emails."""
    row = conn.execute(select(users).where(users.c.email == normalize_email(email))).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    if not verify_password(stored, password) or row is None:
        return None
    if _hasher.check_needs_rehash(stored):
        conn.execute(update(users).where(users.c.id == row.id).values(password_hash=_hasher.hash(password)))
    return _user(row)


# --- personal access tokens ---------------------------------------------------------------------------


def create_access_token(conn: Connection, *, tenant_id: int, user_id: int, name: str) -> NewAccessToken:
    """Create a personal access token; the returned secret is never stored and cannot be shown again."""
    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError("Give the token a name of 1 to 200 characters, such as 'reporting script'.")
    user = get_user(conn, user_id)
    if user.tenant_id != tenant_id:
        raise NotFoundError(f"No user with id {user_id}.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    created = _now()
    result = conn.execute(
        insert(access_tokens).values(
            tenant_id=tenant_id, user_id=user_id, name=name, token_hash=hash_token(token), created_at=created
        )
    )
    token_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return NewAccessToken(AccessTokenRow(token_id, tenant_id, user_id, name, created, None), token)


def list_access_tokens(conn: Connection, tenant_id: int) -> list[AccessTokenRow]:
    rows = conn.execute(
        select(access_tokens).where(access_tokens.c.tenant_id == tenant_id).order_by(access_tokens.c.id)
    )
    return [_token(r) for r in rows]


def delete_access_token(conn: Connection, token_id: int, *, tenant_id: int) -> None:
    result = conn.execute(
        sql_delete(access_tokens).where(
            access_tokens.c.id == token_id, access_tokens.c.tenant_id == tenant_id
        )
    )
    if result.rowcount == 0:
        raise NotFoundError(f"No access token with id {token_id}.")


def user_for_token(conn: Connection, token: str) -> UserRow | None:
    """The user a bearer token belongs to (and records its use), or None for an unknown token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = conn.execute(
        select(access_tokens.c.id, access_tokens.c.user_id, access_tokens.c.tenant_id).where(
            access_tokens.c.token_hash == hash_token(token)
        )
    ).first()
    if row is None:
        return None
    user = get_user(conn, row.user_id)
    if user.tenant_id != row.tenant_id:
        return None
    conn.execute(update(access_tokens).where(access_tokens.c.id == row.id).values(last_used_at=_now()))
    return user


def create_first_admin(conn: Connection, *, workspace_name: str, email: str, password: str) -> UserRow:
    """First run: name the workspace and create its first admin. Adopts a workspace created earlier by the
    CLI (which connects into the first tenant), so its connections stay visible. Fails once any user exists.

    Atomic: the single `first_run` row (primary key 1) is inserted first, in the caller's transaction, so
    of two simultaneous first runs the database lets exactly one through; the other gets ConflictError."""
    if count_users(conn) > 0:
        raise ConflictError(_ALREADY_SET_UP)
    workspace_name = workspace_name.strip()
    if not workspace_name or len(workspace_name) > 200:
        raise UsageError("Give the workspace a name of 1 to 200 characters, such as your company's name.")
    hash_password(password)  # a short password is refused before the first run is claimed
    try:
        conn.execute(insert(first_run).values(id=1, completed_at=_now()))
    except IntegrityError:
        raise ConflictError(_ALREADY_SET_UP) from None
    first = conn.execute(select(tenants.c.id).order_by(tenants.c.id).limit(1)).first()
    if first is None:
        tenant_id = create_tenant(conn, workspace_name)
    else:
        tenant_id = int(first.id)
        conn.execute(update(tenants).where(tenants.c.id == tenant_id).values(name=workspace_name))
    return get_user(conn, create_user(conn, tenant_id, email, password, "admin"))
