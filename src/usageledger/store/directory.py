"""The Anthropic directory as the last sync read it: names beside ids, and who belongs where.

Names (workspaces, API keys, users) are upserted by id and kept when no longer listed: old usage still
needs their names. Memberships (workspace members, RBAC groups and their members) are a picture of now:
each list the sync could read replaces the connection's rows whole, so a member removed upstream
disappears; a list the sync could not read (None: its endpoint answered 403/404) leaves the rows as they
were. The caller owns the transaction, so names and memberships commit together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, exists, select, union

from usageledger.models import Directory

from .tables import (
    anthropic_api_keys,
    anthropic_rbac_group_members,
    anthropic_rbac_groups,
    anthropic_users,
    anthropic_workspace_members,
    anthropic_workspaces,
    cost_rollups,
    usage_rollups,
)

__all__ = ["DIRECTORY_TABLES", "unlisted_ids", "upsert_directory"]

# Every table this module writes, for a purge.
DIRECTORY_TABLES: tuple[Table, ...] = (
    anthropic_workspaces,
    anthropic_api_keys,
    anthropic_users,
    anthropic_workspace_members,
    anthropic_rbac_groups,
    anthropic_rbac_group_members,
)


def _upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    # Imported on use: loading both dialects at import cost a query command ~20 ms of its start.
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    keys = [column.name for column in table.primary_key.columns]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: stmt.excluded[name] for name in rows[0] if name not in keys},
    )
    conn.execute(stmt, list(rows))


def _unique(items: Iterable[Any]) -> list[Any]:
    """Last entry per id wins (one statement may not touch a key twice on PostgreSQL)."""
    return list({item.id: item for item in items}.values())


def _replace(conn: Connection, table: Table, connection_id: int, rows: list[dict[str, Any]] | None) -> None:
    """The connection's rows become `rows` (deduplicated on the key); None leaves them alone."""
    if rows is None:
        return
    conn.execute(delete(table).where(table.c.connection_id == connection_id))
    keys = [column.name for column in table.primary_key.columns]
    unique = list({tuple(row[k] for k in keys): row for row in rows}.values())
    if unique:
        conn.execute(table.insert(), unique)


def upsert_directory(conn: Connection, connection_id: int, directory: Directory) -> None:
    """Store names beside ids (kept when no longer listed) and replace each membership list that was read."""
    cid = connection_id
    _upsert(
        conn,
        anthropic_workspaces,
        [
            {
                "connection_id": cid,
                "id": w.id,
                "name": w.name,
                "archived_at": w.archived_at,
                "created_at": w.created_at,
            }
            for w in _unique(directory.workspaces)
        ],
    )
    _upsert(
        conn,
        anthropic_api_keys,
        [
            {
                "connection_id": cid,
                "id": k.id,
                "name": k.name,
                "workspace_id": k.workspace_id,
                "status": k.status,
                "partial_key_hint": k.partial_key_hint,
                "created_by_id": k.created_by_id,
                "created_by_type": k.created_by_type,
                "created_at": k.created_at,
                "expires_at": k.expires_at,
            }
            for k in _unique(directory.api_keys)
        ],
    )
    _upsert(
        conn,
        anthropic_users,
        [
            {
                "connection_id": cid,
                "id": u.id,
                "email": u.email,
                "name": u.name,
                "role": u.role,
                "added_at": u.added_at,
            }
            for u in _unique(directory.users)
        ],
    )
    members = directory.workspace_members
    _replace(
        conn,
        anthropic_workspace_members,
        cid,
        None
        if members is None
        else [
            {
                "connection_id": cid,
                "workspace_id": m.workspace_id,
                "user_id": m.user_id,
                "workspace_role": m.workspace_role,
            }
            for m in members
        ],
    )
    groups = directory.rbac_groups
    _replace(
        conn,
        anthropic_rbac_groups,
        cid,
        None if groups is None else [{"connection_id": cid, "id": g.id, "name": g.name} for g in groups],
    )
    group_members = directory.rbac_group_members
    _replace(
        conn,
        anthropic_rbac_group_members,
        cid,
        None
        if group_members is None
        else [
            {"connection_id": cid, "rbac_group_id": m.rbac_group_id, "user_id": m.user_id, "email": m.email}
            for m in group_members
        ],
    )


def unlisted_ids(conn: Connection, connection_id: int, start: dt.date, end: dt.date) -> list[str]:
    """Workspace and API key ids that the connection's usage or cost of days [start, end) names and its
    directory does not list (a key created since the directory was read), sorted; [] when all are listed.

    Read from the per-API-key rollups (about one row per key and day, each with its workspace), not the rows.
    """
    listed = {"workspace_id": anthropic_workspaces, "api_key_id": anthropic_api_keys}
    queries = []
    for rollup in (usage_rollups["api_key"], cost_rollups["api_key"]):
        for column, directory in listed.items():
            named = rollup.c[column]
            queries.append(
                select(named.label("id")).where(
                    rollup.c.connection_id == connection_id,
                    rollup.c.day >= start,
                    rollup.c.day < end,
                    named != "",  # the default workspace, or usage through the Console: no id to list
                    ~exists().where(directory.c.connection_id == connection_id, directory.c.id == named),
                )
            )
    return sorted(conn.execute(union(*queries)).scalars())
