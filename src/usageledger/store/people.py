"""People from the identity provider (SCIM or a CSV import).

Everything is scoped by tenant: a row of another tenant is "not found", never "forbidden", so a SCIM token
cannot even learn that another workspace's id exists. userName is unique per tenant without regard to case
(SCIM declares it caseExact=false), emails are stored lower-cased. Each write that changes a person bumps
its `version`, the SCIM ETag. Teams live in `store.teams`, SCIM tokens in `store.scim_tokens`.

Every function takes a SQLAlchemy `Connection`; the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.store.tables import people, team_members

__all__ = [
    "PersonFields",
    "PersonRow",
    "all_people",
    "check_version",
    "create_person",
    "delete_person",
    "get_person",
    "list_people",
    "replace_person",
]

MAX_PAGE = 1000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else None


# --- people -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonFields:
    """What a person is, as SCIM or a CSV line says it (everything but ids, source and timestamps)."""

    user_name: str
    email: str | None = None
    external_id: str | None = None
    display_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    department: str | None = None
    cost_center: str | None = None
    manager_id: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    tenant_id: int
    fields: PersonFields
    source: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


_PERSON_FIELDS = tuple(f.name for f in dataclasses.fields(PersonFields))


def _person(row: Any) -> PersonRow:
    m = row._mapping
    fields = PersonFields(**{name: m[name] for name in _PERSON_FIELDS})
    return PersonRow(
        m["id"], m["tenant_id"], fields, m["source"], m["version"], m["created_at"], m["updated_at"]
    )


def _checked(fields: PersonFields) -> dict[str, Any]:
    user_name = fields.user_name.strip() if fields.user_name else ""
    if not user_name:
        raise UsageError("A person needs a userName (for a CSV import: an email).")
    limits = {c.name: getattr(c.type, "length", None) or 10**6 for c in people.columns}
    values = dataclasses.asdict(fields) | {"user_name": user_name, "email": _lower(fields.email)}
    for name, value in values.items():
        if isinstance(value, str) and len(value) > limits[name]:
            raise UsageError(f"{name} is longer than {limits[name]} characters.")
    return values


def _user_name_taken(conn: Connection, tenant_id: int, user_name: str, but: int | None = None) -> bool:
    query = select(people.c.id).where(
        people.c.tenant_id == tenant_id, func.lower(people.c.user_name) == user_name.lower()
    )
    if but is not None:
        query = query.where(people.c.id != but)
    return conn.execute(query.limit(1)).first() is not None


def _taken(user_name: str) -> ConflictError:
    return ConflictError(f"A person with userName {user_name!r} already exists in this workspace.")


def create_person(conn: Connection, tenant_id: int, fields: PersonFields, *, source: str) -> PersonRow:
    """Add a person; ConflictError when the userName (any case) is taken in this tenant."""
    values = _checked(fields)
    if _user_name_taken(conn, tenant_id, values["user_name"]):
        raise _taken(values["user_name"])
    now = _now()
    try:
        with conn.begin_nested():  # a racing insert fails alone, not the caller's transaction
            result = conn.execute(
                insert(people).values(
                    tenant_id=tenant_id, source=source, version=1, created_at=now, updated_at=now, **values
                )
            )
    except IntegrityError as exc:
        raise _taken(values["user_name"]) from exc
    return get_person(conn, tenant_id, int(result.inserted_primary_key[0]))  # type: ignore[index]


def get_person(conn: Connection, tenant_id: int, person_id: int) -> PersonRow:
    row = conn.execute(
        select(people).where(people.c.tenant_id == tenant_id, people.c.id == person_id)
    ).first()
    if row is None:
        raise NotFoundError(f"No person with id {person_id}.")
    return _person(row)


def list_people(
    conn: Connection,
    tenant_id: int,
    *,
    user_name: str | None = None,
    external_id: str | None = None,
    email: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[int, list[PersonRow]]:
    """(how many match, one page of them by id); userName and email match without regard to case."""
    where = [people.c.tenant_id == tenant_id]
    if user_name is not None:
        where.append(func.lower(people.c.user_name) == user_name.lower())
    if external_id is not None:
        where.append(people.c.external_id == external_id)
    if email is not None:
        where.append(people.c.email == email.strip().lower())
    total = conn.execute(select(func.count()).select_from(people).where(*where)).scalar_one()
    rows = conn.execute(
        select(people)
        .where(*where)
        .order_by(people.c.id)
        .offset(max(offset, 0))
        .limit(min(max(limit, 0), MAX_PAGE))
    ).all()
    return int(total), [_person(r) for r in rows]


def all_people(conn: Connection, tenant_id: int) -> list[PersonRow]:
    """Every person of the tenant, by id (for an import's plan, which compares a whole file at once)."""
    rows = conn.execute(select(people).where(people.c.tenant_id == tenant_id).order_by(people.c.id)).all()
    return [_person(r) for r in rows]


def check_version(current: int, expected: int | None, what: str) -> None:
    if expected is not None and current != expected:
        raise ConflictError(f"This {what} changed since version {expected} (now {current}); read it again.")


def replace_person(
    conn: Connection,
    tenant_id: int,
    person_id: int,
    fields: PersonFields,
    *,
    source: str | None = None,
    expected_version: int | None = None,
) -> PersonRow:
    """Write a person's whole state; the version moves only when something changed."""
    current = get_person(conn, tenant_id, person_id)
    check_version(current.version, expected_version, "person")
    values = _checked(fields)
    if values["user_name"].lower() != current.fields.user_name.lower() and _user_name_taken(
        conn, tenant_id, values["user_name"], but=person_id
    ):
        raise _taken(values["user_name"])
    if PersonFields(**values) == current.fields and (source is None or source == current.source):
        return current
    conn.execute(
        update(people)
        .where(people.c.id == person_id)
        .values(
            version=current.version + 1,
            updated_at=_now(),
            source=source or current.source,
            **values,
        )
    )
    return get_person(conn, tenant_id, person_id)


def delete_person(conn: Connection, tenant_id: int, person_id: int) -> None:
    """Remove a person of this tenant and their memberships (not left to the cascade: SQLite may lack it)."""
    get_person(conn, tenant_id, person_id)
    conn.execute(delete(team_members).where(team_members.c.person_id == person_id))
    conn.execute(delete(people).where(people.c.tenant_id == tenant_id, people.c.id == person_id))
