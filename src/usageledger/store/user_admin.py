"""Changing people: passwords, roles and removal, and the sessions and tokens each change ends.

- A password change (by the user, or an operator's reset) ends every web session of that user; the web
  layer then starts a fresh one for the request that made the change. Access tokens are kept: they are
  separate credentials an admin revokes on their own.
- A role change or a removal ends the user's sessions and deletes their access tokens at once, so what
  they could do before stops working on their very next request.
- A workspace always keeps an admin. Demoting or removing is one conditional statement after the
  workspace row is locked (PostgreSQL; SQLite serializes writers), so two admins demoting each other at
  the same moment cannot both succeed.

Every function takes a SQLAlchemy `Connection`; the caller owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, and_, delete, func, or_, select, update

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.store.accounts import ROLES, UserRow, get_user, hash_password, verify_password
from usageledger.store.sessions import end_user_sessions
from usageledger.store.tables import access_tokens, tenants, users

__all__ = ["change_password", "remove_user", "set_password", "set_role"]

_LAST_ADMIN = (
    "{email} is the last admin of this workspace; make another user an admin first, so someone can "
    "still manage connections and users."
)


def _user_in(conn: Connection, user_id: int, tenant_id: int | None, by: int | None) -> UserRow:
    if by == user_id:
        raise UsageError(
            "You cannot change your own role or remove yourself; ask another admin of the workspace."
        )
    user = get_user(conn, user_id)
    if tenant_id is not None and user.tenant_id != tenant_id:
        raise NotFoundError(f"No user with id {user_id}.")
    return user


def _end_access(conn: Connection, user_id: int) -> None:
    end_user_sessions(conn, user_id)
    conn.execute(delete(access_tokens).where(access_tokens.c.user_id == user_id))


def _another_admin_remains(user: UserRow) -> ColumnElement[bool]:
    """True while the workspace has an admin other than `user` (evaluated inside the writing statement)."""
    others = (
        select(func.count())
        .select_from(users)
        .where(users.c.tenant_id == user.tenant_id, users.c.role == "admin", users.c.id != user.id)
        .scalar_subquery()
    )
    return others > 0


def _lock_workspace(conn: Connection, tenant_id: int) -> None:
    """Serialize admin changes within a workspace (PostgreSQL row lock; SQLite ignores FOR UPDATE)."""
    conn.execute(select(tenants.c.id).where(tenants.c.id == tenant_id).with_for_update())


def change_password(conn: Connection, user_id: int, *, current: str, new: str) -> None:
    """The signed-in user changes their own password; the current one must be given."""
    row = conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).first()
    if row is None or not verify_password(row.password_hash, current):
        raise UsageError("Your current password is not right; type it again.")
    if new == current:
        raise UsageError("The new password is the same as the current one; choose a different one.")
    set_password(conn, user_id, new)


def set_password(conn: Connection, user_id: int, new: str) -> int:
    """Set a user's password and end all their sessions; returns how many sessions ended."""
    password_hash = hash_password(new)
    if (
        conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash)).rowcount
        == 0
    ):
        raise NotFoundError(f"No user with id {user_id}.")
    return end_user_sessions(conn, user_id)


def set_role(
    conn: Connection, user_id: int, role: str, *, tenant_id: int | None = None, by: int | None = None
) -> UserRow:
    """Make a user admin or member; their sessions and tokens end at once.

    `tenant_id` confines the change to one workspace (the web); `by` is the acting user, who may not
    change their own role (the CLI's operator acts as nobody)."""
    if role not in ROLES:
        raise UsageError(f"Role must be one of: {', '.join(ROLES)}.")
    user = _user_in(conn, user_id, tenant_id, by)
    if user.role == role:
        return user
    _lock_workspace(conn, user.tenant_id)
    condition = users.c.id == user.id
    if user.is_admin:  # a demotion must leave the workspace another admin
        condition = and_(condition, _another_admin_remains(user))
    if conn.execute(update(users).where(condition).values(role=role)).rowcount == 0:
        raise ConflictError(_LAST_ADMIN.format(email=user.email))
    _end_access(conn, user.id)
    return get_user(conn, user.id)


def remove_user(
    conn: Connection, user_id: int, *, tenant_id: int | None = None, by: int | None = None
) -> UserRow:
    """Delete a user with their sessions and tokens (`tenant_id` and `by` as in `set_role`); returns them."""
    user = _user_in(conn, user_id, tenant_id, by)
    _lock_workspace(conn, user.tenant_id)
    allowed = or_(users.c.role != "admin", _another_admin_remains(user))
    if conn.execute(delete(users).where(users.c.id == user.id, allowed)).rowcount == 0:
        raise ConflictError(_LAST_ADMIN.format(email=user.email))
    _end_access(conn, user.id)  # the foreign keys cascade too; this does not depend on them
    return user
