"""Teams (SCIM Groups, or a CSV's team column) and their members, scoped by tenant like people.

A member must be a person of the same tenant; another tenant's id is reported as unknown. Each change of a
team's fields or members bumps its `version` (the SCIM ETag). Every function takes a `Connection`; the
caller owns the transaction.

A team's cost center is not one of its `TeamFields`: SCIM Groups have no such attribute, so a SCIM replace
or patch must not clear it. It is set at creation or by `set_team_cost_center` (an admin on the web or the
API, or a CSV's `team_cost_center`), which records a `team_changed` event saying who changed it from what.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.store.identity_events import TEAM_CHANGED
from usageledger.store.ownership import Editor
from usageledger.store.people import MAX_PAGE, check_version
from usageledger.store.runs import add_event
from usageledger.store.tables import people, team_members, teams

__all__ = [
    "TeamFields",
    "TeamRow",
    "add_team_member",
    "all_memberships",
    "all_teams",
    "checked_cost_center",
    "create_team",
    "delete_team",
    "get_team",
    "list_teams",
    "member_counts",
    "remove_team_member",
    "replace_team",
    "set_team_cost_center",
    "team_member_ids",
    "team_names_by_person",
]


MAX_COST_CENTER = 200  # the column's length


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- teams ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamFields:
    display_name: str
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class TeamRow:
    id: int
    tenant_id: int
    fields: TeamFields
    source: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    cost_center: str | None = None  # for spend the team owns, and members who have none of their own


def _team(row: Any) -> TeamRow:
    m = row._mapping
    fields = TeamFields(m["display_name"], m["external_id"])
    return TeamRow(
        m["id"],
        m["tenant_id"],
        fields,
        m["source"],
        m["version"],
        m["created_at"],
        m["updated_at"],
        m["cost_center"],
    )


def _team_values(fields: TeamFields) -> dict[str, Any]:
    name = fields.display_name.strip() if fields.display_name else ""
    if not name or len(name) > 500:
        raise UsageError("A team needs a displayName of 1 to 500 characters.")
    if fields.external_id is not None and len(fields.external_id) > 200:
        raise UsageError("A team's externalId is longer than 200 characters.")
    return dataclasses.asdict(fields) | {"display_name": name}


def checked_cost_center(value: str | None) -> str | None:
    """A cost center as stored: trimmed, None when blank; UsageError when too long or not one line."""
    cleaned = value.strip() if value else ""
    if len(cleaned) > MAX_COST_CENTER:
        raise UsageError(f"A cost center is at most {MAX_COST_CENTER} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise UsageError("A cost center is one line of text, without control characters.")
    return cleaned or None


def _team_taken(name: str) -> ConflictError:
    return ConflictError(f"A team named {name!r} already exists in this workspace.")


def _team_name_taken(conn: Connection, tenant_id: int, name: str, but: int | None = None) -> bool:
    query = select(teams.c.id).where(teams.c.tenant_id == tenant_id, teams.c.display_name == name)
    if but is not None:
        query = query.where(teams.c.id != but)
    return conn.execute(query.limit(1)).first() is not None


def _checked_members(conn: Connection, tenant_id: int, person_ids: Iterable[int]) -> set[int]:
    """The ids, once every one is a person of this tenant (another tenant's id is simply unknown)."""
    wanted = set(person_ids)
    if not wanted:
        return wanted
    found = set(
        conn.execute(
            select(people.c.id).where(people.c.tenant_id == tenant_id, people.c.id.in_(wanted))
        ).scalars()
    )
    missing = sorted(wanted - found)
    if missing:
        raise UsageError(f"No person with id {missing[0]} in this workspace; a member must be a person.")
    return wanted


def create_team(
    conn: Connection,
    tenant_id: int,
    fields: TeamFields,
    *,
    source: str,
    member_ids: Iterable[int] = (),
    cost_center: str | None = None,
) -> TeamRow:
    values = _team_values(fields) | {"cost_center": checked_cost_center(cost_center)}
    members = _checked_members(conn, tenant_id, member_ids)
    if _team_name_taken(conn, tenant_id, values["display_name"]):
        raise _team_taken(values["display_name"])
    now = _now()
    try:
        with conn.begin_nested():
            result = conn.execute(
                insert(teams).values(
                    tenant_id=tenant_id, source=source, version=1, created_at=now, updated_at=now, **values
                )
            )
    except IntegrityError as exc:
        raise _team_taken(values["display_name"]) from exc
    team_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if members:
        conn.execute(insert(team_members), [{"team_id": team_id, "person_id": p} for p in sorted(members)])
    return get_team(conn, tenant_id, team_id)


def get_team(conn: Connection, tenant_id: int, team_id: int) -> TeamRow:
    row = conn.execute(select(teams).where(teams.c.tenant_id == tenant_id, teams.c.id == team_id)).first()
    if row is None:
        raise NotFoundError(f"No team with id {team_id}.")
    return _team(row)


def list_teams(
    conn: Connection,
    tenant_id: int,
    *,
    display_name: str | None = None,
    external_id: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[int, list[TeamRow]]:
    where = [teams.c.tenant_id == tenant_id]
    if display_name is not None:
        where.append(teams.c.display_name == display_name)
    if external_id is not None:
        where.append(teams.c.external_id == external_id)
    total = conn.execute(select(func.count()).select_from(teams).where(*where)).scalar_one()
    rows = conn.execute(
        select(teams)
        .where(*where)
        .order_by(teams.c.id)
        .offset(max(offset, 0))
        .limit(min(max(limit, 0), MAX_PAGE))
    ).all()
    return int(total), [_team(r) for r in rows]


def team_member_ids(conn: Connection, team_id: int) -> list[int]:
    return list(
        conn.execute(
            select(team_members.c.person_id)
            .where(team_members.c.team_id == team_id)
            .order_by(team_members.c.person_id)
        ).scalars()
    )


def replace_team(
    conn: Connection,
    tenant_id: int,
    team_id: int,
    fields: TeamFields,
    *,
    member_ids: Sequence[int] | None = None,
    expected_version: int | None = None,
) -> TeamRow:
    """Write a team's state and, when `member_ids` is given, exactly those members (its cost center stays)."""
    current = get_team(conn, tenant_id, team_id)
    check_version(current.version, expected_version, "team")
    values = _team_values(fields)
    if values["display_name"] != current.fields.display_name and _team_name_taken(
        conn, tenant_id, values["display_name"], but=team_id
    ):
        raise _team_taken(values["display_name"])
    changed = TeamFields(**values) != current.fields
    if member_ids is not None:
        wanted = _checked_members(conn, tenant_id, member_ids)
        present = set(team_member_ids(conn, team_id))
        if wanted != present:
            changed = True
            gone = present - wanted
            if gone:
                conn.execute(
                    delete(team_members).where(
                        team_members.c.team_id == team_id, team_members.c.person_id.in_(gone)
                    )
                )
            added = sorted(wanted - present)
            if added:
                conn.execute(insert(team_members), [{"team_id": team_id, "person_id": p} for p in added])
    if not changed:
        return current
    conn.execute(
        update(teams)
        .where(teams.c.id == team_id)
        .values(version=current.version + 1, updated_at=_now(), **values)
    )
    return get_team(conn, tenant_id, team_id)


def delete_team(conn: Connection, tenant_id: int, team_id: int) -> None:
    get_team(conn, tenant_id, team_id)
    conn.execute(delete(team_members).where(team_members.c.team_id == team_id))
    conn.execute(delete(teams).where(teams.c.tenant_id == tenant_id, teams.c.id == team_id))


def member_counts(conn: Connection, tenant_id: int) -> dict[int, int]:
    """Team id → number of members, for every team of the tenant that has any."""
    rows = conn.execute(
        select(team_members.c.team_id, func.count())
        .join(teams, teams.c.id == team_members.c.team_id)
        .where(teams.c.tenant_id == tenant_id)
        .group_by(team_members.c.team_id)
    ).all()
    return {int(team_id): int(count) for team_id, count in rows}


def team_names_by_person(conn: Connection, tenant_id: int) -> dict[int, list[str]]:
    """Person id → names of their teams (sorted), for every person of the tenant in a team."""
    rows = conn.execute(
        select(team_members.c.person_id, teams.c.display_name)
        .join(teams, teams.c.id == team_members.c.team_id)
        .where(teams.c.tenant_id == tenant_id)
        .order_by(teams.c.display_name)
    ).all()
    names: dict[int, list[str]] = {}
    for person_id, name in rows:
        names.setdefault(int(person_id), []).append(name)
    return names


def all_teams(conn: Connection, tenant_id: int) -> list[TeamRow]:
    rows = conn.execute(select(teams).where(teams.c.tenant_id == tenant_id).order_by(teams.c.id)).all()
    return [_team(r) for r in rows]


def all_memberships(conn: Connection, tenant_id: int) -> list[tuple[int, int]]:
    """Every (team id, person id) pair of the tenant."""
    rows = conn.execute(
        select(team_members.c.team_id, team_members.c.person_id)
        .join(teams, teams.c.id == team_members.c.team_id)
        .where(teams.c.tenant_id == tenant_id)
    ).all()
    return [(int(t), int(p)) for t, p in rows]


def _bump(conn: Connection, team_id: int) -> None:
    conn.execute(
        update(teams).where(teams.c.id == team_id).values(version=teams.c.version + 1, updated_at=_now())
    )


def add_team_member(conn: Connection, tenant_id: int, team_id: int, person_id: int) -> bool:
    """Put a person of the tenant in a team of the tenant; False when they already were."""
    get_team(conn, tenant_id, team_id)
    _checked_members(conn, tenant_id, [person_id])
    present = conn.execute(
        select(team_members.c.team_id).where(
            team_members.c.team_id == team_id, team_members.c.person_id == person_id
        )
    ).first()
    if present is not None:
        return False
    conn.execute(insert(team_members).values(team_id=team_id, person_id=person_id))
    _bump(conn, team_id)
    return True


def remove_team_member(conn: Connection, tenant_id: int, team_id: int, person_id: int) -> bool:
    """Take a person out of a team of the tenant; False when they were not in it."""
    get_team(conn, tenant_id, team_id)
    result = conn.execute(
        delete(team_members).where(team_members.c.team_id == team_id, team_members.c.person_id == person_id)
    )
    if result.rowcount == 0:
        return False
    _bump(conn, team_id)
    return True


def set_team_cost_center(
    conn: Connection, tenant_id: int, team_id: int, cost_center: str | None, *, editor: Editor
) -> TeamRow:
    """Set (or, with None or blank, clear) a team's cost center, and record who changed it from what.

    Nothing is written, not even an event, when the team already has this cost center."""
    current = get_team(conn, tenant_id, team_id)
    wanted = checked_cost_center(cost_center)
    if wanted == current.cost_center:
        return current
    conn.execute(
        update(teams)
        .where(teams.c.id == team_id)
        .values(cost_center=wanted, version=current.version + 1, updated_at=_now())
    )
    name = current.fields.display_name
    add_event(
        conn,
        tenant_id=tenant_id,
        connection_id=None,
        kind=TEAM_CHANGED,
        level="info",
        message=f"{editor.email} changed the cost center of the team {name}: "
        f"{current.cost_center or 'none'} → {wanted or 'none'}.",
        details={"user_id": editor.user_id, "user": editor.email, "team_id": team_id, "team": name,
                 "field": "cost_center", "old": current.cost_center, "new": wanted},
    )  # fmt: skip
    return get_team(conn, tenant_id, team_id)
