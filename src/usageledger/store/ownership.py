"""Who owns what, as admins set it: owners of API keys, workspaces and service accounts, and applications.

Every change writes an event in the same transaction (`owner_changed`, `application_changed`) saying who
changed what, from what to what, so the event log is the audit trail. A person or team named here must
belong to the tenant; anything else is refused with a sentence, never stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, tuple_, update

from usageledger.errors import ConflictError, NotFoundError, UsageError

from .identity_events import APPLICATION_CHANGED, OWNER_CHANGED
from .runs import add_event
from .tables import application_resources, applications, owners, people, teams

__all__ = [
    "APPLICATION_SUBJECTS",
    "OWNER_SUBJECTS",
    "ApplicationRow",
    "Choice",
    "OwnerRow",
    "Editor",
    "clear_owner",
    "create_application",
    "delete_application",
    "get_application",
    "list_applications",
    "list_owners",
    "list_people_choices",
    "list_team_choices",
    "set_owner",
    "update_application",
]

OWNER_SUBJECTS: tuple[str, ...] = ("api_key", "workspace", "service_account")
APPLICATION_SUBJECTS: tuple[str, ...] = ("api_key", "workspace")
_MAX_ID = 200


@dataclass(frozen=True, slots=True)
class Editor:
    """Who makes a change, as the event log records it: a signed-in user, or (user_id None) a command such as
    the demo, named by `email`."""

    user_id: int | None
    email: str


@dataclass(frozen=True, slots=True)
class OwnerRow:
    subject_type: str
    subject_id: str
    person_id: int | None
    team_id: int | None
    set_by_user_id: int | None
    set_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    id: int
    name: str
    team_id: int | None
    resources: tuple[tuple[str, str], ...]  # (subject type, subject id), sorted
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Choice:
    """A person or a team, as a picker lists it."""

    id: int
    name: str
    detail: str | None = None  # a person's email, a team's cost center


def _check_subject(subject_type: str, subject_id: str, allowed: tuple[str, ...]) -> None:
    if subject_type not in allowed:
        raise UsageError(f"An owner is set on {', '.join(allowed)}; not on {subject_type!r}.")
    if len(subject_id) > _MAX_ID or (subject_type != "workspace" and not subject_id.strip()):
        raise UsageError(f"Give the {subject_type.replace('_', ' ')}'s id (at most {_MAX_ID} characters).")


def _check_person(conn: Connection, tenant_id: int, person_id: int) -> str:
    row = conn.execute(
        select(people.c.display_name, people.c.user_name).where(
            people.c.id == person_id, people.c.tenant_id == tenant_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"No person with id {person_id} in this workspace; pick one from the directory.")
    return str(row.display_name or row.user_name)


def _check_team(conn: Connection, tenant_id: int, team_id: int) -> str:
    row = conn.execute(
        select(teams.c.display_name).where(teams.c.id == team_id, teams.c.tenant_id == tenant_id)
    ).first()
    if row is None:
        raise NotFoundError(f"No team with id {team_id} in this workspace; pick one from the directory.")
    return str(row.display_name)


def _describe(conn: Connection, tenant_id: int, person_id: int | None, team_id: int | None) -> str | None:
    if person_id is not None:
        return f"person {_check_person(conn, tenant_id, person_id)} (#{person_id})"
    if team_id is not None:
        return f"team {_check_team(conn, tenant_id, team_id)} (#{team_id})"
    return None


def _owner_row(conn: Connection, tenant_id: int, subject_type: str, subject_id: str) -> OwnerRow | None:
    row = conn.execute(
        select(owners).where(
            owners.c.tenant_id == tenant_id,
            owners.c.subject_type == subject_type,
            owners.c.subject_id == subject_id,
        )  # fmt: skip
    ).first()
    if row is None:
        return None
    return OwnerRow(
        row.subject_type, row.subject_id, row.person_id, row.team_id, row.set_by_user_id, row.set_at
    )


def _owner_event(
    conn: Connection,
    tenant_id: int,
    editor: Editor,
    subject: tuple[str, str],
    old: str | None,
    new: str | None,
) -> None:
    what = f"{subject[0].replace('_', ' ')} {subject[1] or '(default workspace)'}"
    add_event(
        conn,
        tenant_id=tenant_id,
        connection_id=None,
        kind=OWNER_CHANGED,
        level="info",
        message=f"{editor.email} changed the owner of {what}: {old or 'none'} → {new or 'none'}.",
        details={
            "user_id": editor.user_id,
            "user": editor.email,
            "subject_type": subject[0],
            "subject_id": subject[1],
            "old": old,
            "new": new,
        },  # fmt: skip
    )


def set_owner(
    conn: Connection,
    tenant_id: int,
    subject_type: str,
    subject_id: str,
    *,
    person_id: int | None = None,
    team_id: int | None = None,
    editor: Editor,
    now: dt.datetime | None = None,
) -> OwnerRow:
    """Set (or replace) the owner of an API key, workspace or service account: one person or one team."""
    _check_subject(subject_type, subject_id, OWNER_SUBJECTS)
    if (person_id is None) == (team_id is None):
        raise UsageError("An owner is one person or one team: give exactly one of person_id and team_id.")
    new = _describe(conn, tenant_id, person_id, team_id)
    before = _owner_row(conn, tenant_id, subject_type, subject_id)
    now = now or dt.datetime.now(dt.UTC)
    values: dict[str, Any] = {"person_id": person_id, "team_id": team_id, "set_by_user_id": editor.user_id,
                              "set_at": now}  # fmt: skip
    if before is None:
        conn.execute(owners.insert().values(tenant_id=tenant_id, subject_type=subject_type, subject_id=subject_id,
                                            **values))  # fmt: skip
        old = None
    else:
        old = _describe(conn, tenant_id, before.person_id, before.team_id)
        conn.execute(update(owners).where(owners.c.tenant_id == tenant_id, owners.c.subject_type == subject_type,
                                          owners.c.subject_id == subject_id).values(**values))  # fmt: skip
    if old != new:
        _owner_event(conn, tenant_id, editor, (subject_type, subject_id), old, new)
    return OwnerRow(subject_type, subject_id, person_id, team_id, editor.user_id, now)


def clear_owner(
    conn: Connection, tenant_id: int, subject_type: str, subject_id: str, *, editor: Editor
) -> bool:
    """Remove an admin's owner (the rules decide again); False when there was none."""
    _check_subject(subject_type, subject_id, OWNER_SUBJECTS)
    before = _owner_row(conn, tenant_id, subject_type, subject_id)
    if before is None:
        return False
    old = _describe(conn, tenant_id, before.person_id, before.team_id)
    conn.execute(delete(owners).where(owners.c.tenant_id == tenant_id, owners.c.subject_type == subject_type,
                                      owners.c.subject_id == subject_id))  # fmt: skip
    _owner_event(conn, tenant_id, editor, (subject_type, subject_id), old, None)
    return True


def list_owners(conn: Connection, tenant_id: int) -> list[OwnerRow]:
    rows = conn.execute(select(owners).where(owners.c.tenant_id == tenant_id).order_by(owners.c.subject_type,
                                                                                         owners.c.subject_id))  # fmt: skip
    return [
        OwnerRow(r.subject_type, r.subject_id, r.person_id, r.team_id, r.set_by_user_id, r.set_at)
        for r in rows
    ]


def list_people_choices(conn: Connection, tenant_id: int) -> list[Choice]:
    rows = conn.execute(select(people.c.id, people.c.display_name, people.c.user_name, people.c.email)
                        .where(people.c.tenant_id == tenant_id, people.c.active))  # fmt: skip
    out = [Choice(r.id, r.display_name or r.user_name, r.email) for r in rows]
    return sorted(out, key=lambda c: (c.name.lower(), c.id))


def list_team_choices(conn: Connection, tenant_id: int) -> list[Choice]:
    rows = conn.execute(
        select(teams.c.id, teams.c.display_name, teams.c.cost_center).where(teams.c.tenant_id == tenant_id)
    )
    return sorted(
        (Choice(r.id, r.display_name, r.cost_center) for r in rows), key=lambda c: (c.name.lower(), c.id)
    )


# --- applications ----------------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError("An application needs a name of 1 to 200 characters.")
    return name


def _check_resources(resources: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for subject_type, subject_id in resources:
        if subject_type not in APPLICATION_SUBJECTS:
            raise UsageError(f"An application is served by API keys and workspaces; not by {subject_type!r}.")
        _check_subject(subject_type, subject_id.strip(), APPLICATION_SUBJECTS)
        out.append((subject_type, subject_id.strip()))
    return sorted(set(out))


def get_application(conn: Connection, tenant_id: int, application_id: int) -> ApplicationRow:
    row = conn.execute(select(applications).where(applications.c.id == application_id,
                                                  applications.c.tenant_id == tenant_id)).first()  # fmt: skip
    if row is None:
        raise NotFoundError(
            f"No application with id {application_id}; list them with GET /api/v1/applications."
        )
    resources = conn.execute(select(application_resources.c.subject_type, application_resources.c.subject_id)
                             .where(application_resources.c.application_id == row.id))  # fmt: skip
    return ApplicationRow(
        row.id, row.name, row.team_id, tuple(sorted((r[0], r[1]) for r in resources)), row.created_at
    )


def list_applications(conn: Connection, tenant_id: int) -> list[ApplicationRow]:
    ids = conn.execute(select(applications.c.id).where(applications.c.tenant_id == tenant_id)).scalars().all()
    return sorted((get_application(conn, tenant_id, i) for i in ids), key=lambda a: (a.name.lower(), a.id))


def _app_event(conn: Connection, tenant_id: int, editor: Editor, action: str, before: ApplicationRow | None,
               after: ApplicationRow | None) -> None:  # fmt: skip
    shown = after or before
    name = shown.name if shown is not None else "?"

    def state(a: ApplicationRow | None) -> dict[str, Any] | None:
        return None if a is None else {"name": a.name, "team_id": a.team_id,
                                       "resources": [f"{t}:{i}" for t, i in a.resources]}  # fmt: skip

    add_event(conn, tenant_id=tenant_id, connection_id=None, kind=APPLICATION_CHANGED, level="info",
              message=f"{editor.email} {action} the application {name}.",
              details={"user_id": editor.user_id, "user": editor.email, "action": action, "old": state(before),
                       "new": state(after)})  # fmt: skip


def _write_resources(
    conn: Connection, tenant_id: int, application_id: int, resources: list[tuple[str, str]]
) -> None:
    """Replace the application's resources. A key or workspace serves one application, so its spend is
    counted once: one that serves another is refused (checked first; the unique key catches a race, and the
    caller's transaction then rolls back whole)."""
    conn.execute(
        delete(application_resources).where(application_resources.c.application_id == application_id)
    )
    if not resources:
        return
    r = application_resources
    taken = conn.execute(
        select(r.c.subject_type, r.c.subject_id).where(
            r.c.tenant_id == tenant_id, tuple_(r.c.subject_type, r.c.subject_id).in_(resources)
        )
    ).first()
    if taken is not None:
        raise ConflictError(
            f"The {taken[0].replace('_', ' ')} {taken[1] or '(default workspace)'} already serves another "
            "application; a key or workspace serves one application, so its spend is counted once. "
            "Remove it there first."
        )
    conn.execute(r.insert(), [
        {"tenant_id": tenant_id, "application_id": application_id, "subject_type": t, "subject_id": i}
        for t, i in resources
    ])  # fmt: skip


def _check_free_name(conn: Connection, tenant_id: int, name: str, application_id: int | None = None) -> None:
    query = select(applications.c.id).where(
        applications.c.tenant_id == tenant_id, applications.c.name == name
    )
    if application_id is not None:
        query = query.where(applications.c.id != application_id)
    if conn.execute(query).first() is not None:
        raise ConflictError(f"An application named {name!r} exists already; pick another name.")


def create_application(
    conn: Connection, tenant_id: int, name: str, *, team_id: int | None = None,
    resources: Iterable[tuple[str, str]] = (), editor: Editor,
) -> ApplicationRow:  # fmt: skip
    """A new application with its team and the keys and workspaces that serve it."""
    name, wanted = _check_name(name), _check_resources(resources)
    if team_id is not None:
        _check_team(conn, tenant_id, team_id)
    _check_free_name(conn, tenant_id, name)
    result = conn.execute(applications.insert().values(tenant_id=tenant_id, name=name, team_id=team_id,
                                                       created_at=dt.datetime.now(dt.UTC)))  # fmt: skip
    key = result.inserted_primary_key
    assert key is not None
    _write_resources(conn, tenant_id, int(key[0]), wanted)
    created = get_application(conn, tenant_id, int(key[0]))
    _app_event(conn, tenant_id, editor, "created", None, created)
    return created


def update_application(
    conn: Connection, tenant_id: int, application_id: int, *, name: str | None = None,
    team_id: int | None = None, clear_team: bool = False, resources: Iterable[tuple[str, str]] | None = None,
    editor: Editor,
) -> ApplicationRow:  # fmt: skip
    """Rename, change the team (or clear it) or replace the resources; what is not given stays."""
    before = get_application(conn, tenant_id, application_id)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _check_name(name)
    if team_id is not None:
        _check_team(conn, tenant_id, team_id)
        values["team_id"] = team_id
    elif clear_team:
        values["team_id"] = None
    if "name" in values:
        _check_free_name(conn, tenant_id, values["name"], application_id)
    if values:
        conn.execute(update(applications).where(applications.c.id == application_id).values(**values))
    if resources is not None:
        _write_resources(conn, tenant_id, application_id, _check_resources(resources))
    after = get_application(conn, tenant_id, application_id)
    if after != before:
        _app_event(conn, tenant_id, editor, "changed", before, after)
    return after


def delete_application(conn: Connection, tenant_id: int, application_id: int, *, editor: Editor) -> None:
    before = get_application(conn, tenant_id, application_id)
    conn.execute(
        delete(application_resources).where(application_resources.c.application_id == application_id)
    )
    conn.execute(delete(applications).where(applications.c.id == application_id))
    _app_event(conn, tenant_id, editor, "deleted", before, None)
