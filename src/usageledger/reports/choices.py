"""The values a usage filter can take: what is stored for a connection (or a workspace), with names beside ids.

The web filters are pick lists of these, never free text. Values come from the stored usage and cost
(so a key that was deleted upstream but has usage is still there, and one without usage is not), read
from the smallest table that holds the field (a monthly rollup); names come from the synced directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Table, select, union

from usageledger.store.connections import get_connection
from usageledger.store.rollups import monthly_for, table_for
from usageledger.store.tables import anthropic_api_keys, anthropic_workspaces, connections

from .rows import GROUP_KEYS
from .usage import FILTER_FIELDS

__all__ = ["MAX_CHOICES", "Choice", "list_choices", "stored_values"]

MAX_CHOICES = 500  # per field: a pick list longer than this is no longer a pick list


@dataclass(frozen=True, slots=True)
class Choice:
    """One value of a filter: what the URL carries (`value`) and what a person reads (`label`)."""

    value: str
    label: str

    @property
    def named(self) -> bool:
        return self.label != self.value


def _scope(t: Table, tenant_id: int, connection_id: int | None) -> ColumnElement[bool]:
    if connection_id is not None:
        return t.c.connection_id == connection_id
    return t.c.connection_id.in_(select(connections.c.id).where(connections.c.tenant_id == tenant_id))


def stored_values(
    conn: Connection, field: str, *, tenant_id: int, connection_id: int | None = None
) -> list[str]:
    """The distinct non-empty values of one filter field (at most MAX_CHOICES), in order."""
    column = GROUP_KEYS[field]
    selects = []
    for kind in ("usage", "cost"):
        # The monthly rollup holds every value the daily one does, in a twelfth of a year's rows.
        monthly = monthly_for(kind, [column])
        t = table_for(kind, [column]) if monthly is None else monthly
        # DISTINCT in each branch: each table's values come deduplicated from an index in order, and
        # the UNION then merges hundreds of values rather than sorting every stored row.
        selects.append(
            select(t.c[column].label("value")).where(_scope(t, tenant_id, connection_id)).distinct()
        )
    found = union(*selects).subquery()
    query = select(found.c.value).where(found.c.value != "").order_by(found.c.value).limit(MAX_CHOICES)
    return [row.value for row in conn.execute(query)]


def _names(conn: Connection, field: str, tenant_id: int, connection_id: int | None) -> dict[str, str]:
    if field == "organization":
        query = select(connections.c.organization_id, connections.c.organization_name).where(
            connections.c.tenant_id == tenant_id, connections.c.organization_id.is_not(None)
        )
        if connection_id is not None:
            query = query.where(connections.c.id == connection_id)
        return {row[0]: row[1] for row in conn.execute(query) if row[1]}
    directory = {"workspace": anthropic_workspaces, "api_key": anthropic_api_keys}.get(field)
    if directory is None:
        return {}
    query = select(directory.c.id, directory.c.name).where(_scope(directory, tenant_id, connection_id))
    return {row.id: row.name for row in conn.execute(query) if row.name}


def list_choices(
    conn: Connection, *, tenant_id: int, connection_id: int | None = None
) -> dict[str, list[Choice]]:
    """Every filter field → its stored values (at most MAX_CHOICES each), sorted by what people read.

    Scoped to one connection (NotFoundError if it is not the tenant's) or to all of the tenant's.
    """
    if connection_id is not None:
        get_connection(conn, connection_id, tenant_id)
    out: dict[str, list[Choice]] = {}
    for field in FILTER_FIELDS:
        names = _names(conn, field, tenant_id, connection_id)
        choices = [
            Choice(value, names.get(value, value))
            for value in stored_values(conn, field, tenant_id=tenant_id, connection_id=connection_id)
        ]
        out[field] = sorted(choices, key=lambda c: (c.label.casefold(), c.value))
    return out
