"""Small SQL inserts for people, teams and memberships (the identity import is another module's job)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from usageledger.store.tables import people, team_members, teams

__all__ = ["add_person", "add_team"]

_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def add_team(conn: Connection, tenant_id: int, name: str, cost_center: str | None = None) -> int:
    result = conn.execute(teams.insert().values(tenant_id=tenant_id, display_name=name, cost_center=cost_center,
                                                source="manual", created_at=_NOW, updated_at=_NOW))  # fmt: skip
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def add_person(
    conn: Connection, tenant_id: int, email: str, name: str | None = None, *, cost_center: str | None = None,
    team_ids: tuple[int, ...] = (), active: bool = True,
) -> int:  # fmt: skip
    result = conn.execute(people.insert().values(
        tenant_id=tenant_id, user_name=email, email=email.lower(), display_name=name or email,
        cost_center=cost_center, active=active, source="csv", created_at=_NOW, updated_at=_NOW,
    ))  # fmt: skip
    key = result.inserted_primary_key
    assert key is not None
    person_id = int(key[0])
    for team_id in team_ids:
        conn.execute(team_members.insert().values(team_id=team_id, person_id=person_id))
    return person_id
