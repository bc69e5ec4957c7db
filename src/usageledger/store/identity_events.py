"""The events the identity and ownership features write, declared once: the writers name their kind from
here, and the Identity page's activity list (and its filter) shows exactly these.

They belong to a workspace, not to a connection (`connection_id` is NULL), so a connection's event log
never lists them: the Identity page does, for admins.
"""

from __future__ import annotations

from sqlalchemy import Connection

from .runs import EventRow, list_events

__all__ = [
    "APPLICATION_CHANGED",
    "IDENTITY_EVENT_KINDS",
    "IDENTITY_IMPORT",
    "OWNER_CHANGED",
    "SCIM_PROVISIONED",
    "SCIM_TOKEN_CREATED",
    "SCIM_TOKEN_REVOKED",
    "TEAM_CHANGED",
    "list_identity_events",
]

OWNER_CHANGED = "owner_changed"  # an admin set, changed or removed the owner of a key, workspace or account
APPLICATION_CHANGED = "application_changed"  # an application created, changed or deleted
TEAM_CHANGED = "team_changed"  # an admin set, changed or cleared a team's cost center
IDENTITY_IMPORT = "identity_import"  # a CSV import that changed something (who, and how many of each)
SCIM_PROVISIONED = "scim_provisioned"  # what SCIM changed, summed per hour (an IdP's first sync is large)
SCIM_TOKEN_CREATED = "scim_token_created"
SCIM_TOKEN_REVOKED = "scim_token_revoked"
IDENTITY_EVENT_KINDS: tuple[str, ...] = (
    OWNER_CHANGED,
    APPLICATION_CHANGED,
    TEAM_CHANGED,
    IDENTITY_IMPORT,
    SCIM_PROVISIONED,
    SCIM_TOKEN_CREATED,
    SCIM_TOKEN_REVOKED,
)


def list_identity_events(
    conn: Connection, tenant_id: int, kinds: tuple[str, ...] = IDENTITY_EVENT_KINDS, limit: int = 50
) -> list[EventRow]:
    """The tenant's latest events of these kinds (who changed what, when), newest first."""
    found = [e for kind in kinds for e in list_events(conn, tenant_id=tenant_id, kind=kind, limit=limit)]
    return sorted(found, key=lambda e: (e.created_at, e.id), reverse=True)[:limit]
