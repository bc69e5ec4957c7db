"""People and teams from a CSV file, for companies without SCIM: parse, check every line, plan, apply at once.

The file has a header of `email,name,team,cost_center,team_cost_center` (any order, any case; `email` is
required, the others may be left out; any other column is an error). One line per person, matched to the
workspace's people by email (lower-cased). The file is the truth for the columns it has (a column it
leaves out changes nothing): an empty `name` or `cost_center` clears it, and a person whose `team` changed
moves from the old CSV team to the new one (teams from SCIM are never left, and naming a SCIM team its
member is already in is no change). People who are not in the file are left alone: an import never deletes
anyone.

`team_cost_center` is the cost center of the line's `team`, which allocation uses for spend the team owns
(and for its members who have no cost center of their own). A team spans many lines, so the lines that
give one must agree (a different value is a bad line), and a blank one says nothing: an import sets a
team's cost center, never clears it (an admin does that on the Identity page). A person's `cost_center`
never sets their team's: members of one team may well be charged to different cost centers.

`plan_import` reads the store and returns what would change, with one error per bad line; `apply_import`
plans again inside the caller's transaction and refuses (ImportRejected, nothing written) when any line is
bad, so an import is never half-applied. Applying the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection

from usageledger.errors import UsageError
from usageledger.store.identity_events import IDENTITY_IMPORT
from usageledger.store.ownership import Editor
from usageledger.store.people import PersonFields, PersonRow, all_people, create_person, replace_person
from usageledger.store.runs import add_event
from usageledger.store.teams import (
    TeamFields,
    add_team_member,
    all_memberships,
    all_teams,
    create_team,
    remove_team_member,
    set_team_cost_center,
)

__all__ = [
    "COLUMNS",
    "MAX_FILE_BYTES",
    "ImportPlan",
    "ImportRejected",
    "LineError",
    "PersonChange",
    "apply_import",
    "decode_csv",
    "plan_import",
]

COLUMNS = ("email", "name", "team", "cost_center", "team_cost_center")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_LINES = 50_000
_LIMITS = {"email": 320, "name": 500, "team": 500, "cost_center": 200, "team_cost_center": 200}
_EMAIL = re.compile(r"^[^@\s,;<>()\[\]\\\"]+@[^@\s,;<>()\[\]\\\"]+\.[^@\s,;<>()\[\]\\\".]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class LineError:
    line: int  # 1 is the header; 0 is the file as a whole
    message: str


@dataclass(frozen=True, slots=True)
class _Line:
    line: int
    email: str
    name: str | None
    team: str | None
    cost_center: str | None
    team_cost_center: str | None
    given: frozenset[str]  # the header's columns: a column the file leaves out changes nothing


@dataclass(frozen=True, slots=True)
class PersonChange:
    line: int
    email: str
    action: str  # create | update | unchanged
    changes: tuple[tuple[str, str | None, str | None], ...] = ()  # (what, before, after)
    team_before: tuple[str, ...] = ()
    team_after: str | None = None


@dataclass
class ImportPlan:
    people: list[PersonChange] = field(default_factory=list)
    teams_to_create: list[str] = field(default_factory=list)
    memberships_added: list[tuple[str, str]] = field(default_factory=list)  # (email, team)
    memberships_removed: list[tuple[str, str]] = field(default_factory=list)
    team_cost_centers: list[tuple[str, str | None, str]] = field(
        default_factory=list
    )  # (team, before, after)
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for p in self.people if p.action == action)

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.count("create")
            or self.count("update")
            or self.teams_to_create
            or self.memberships_added
            or self.memberships_removed
            or self.team_cost_centers
        )

    def summary(self) -> dict[str, int]:
        return {
            "people_created": self.count("create"),
            "people_updated": self.count("update"),
            "people_unchanged": self.count("unchanged"),
            "teams_created": len(self.teams_to_create),
            "memberships_added": len(self.memberships_added),
            "memberships_removed": len(self.memberships_removed),
            "team_cost_centers_set": len(self.team_cost_centers),
        }


class ImportRejected(UsageError):
    """The file has bad lines; nothing was written. `plan.errors` lists them."""

    def __init__(self, plan: ImportPlan) -> None:
        first = plan.errors[0]
        where = f"line {first.line}: " if first.line else ""
        more = f" (and {len(plan.errors) - 1} more)" if len(plan.errors) > 1 else ""
        super().__init__(
            f"Nothing was imported: {where}{first.message}{more}. Fix the file and import it again."
        )
        self.plan = plan


def decode_csv(data: bytes) -> str:
    """The file's text (UTF-8, with or without a byte-order mark); UsageError for anything else."""
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it and import each part."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError("The file is not UTF-8 text; save it as CSV UTF-8 and import it again.") from exc


def _header(row: list[str]) -> tuple[dict[str, int], list[LineError]]:
    names = [cell.strip().lower() for cell in row]
    errors = []
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        errors.append(LineError(1, f"unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}"))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        errors.append(LineError(1, f"column {repeated[0]!r} appears twice"))
    if "email" not in names:
        errors.append(LineError(1, f"the header must name an email column ({','.join(COLUMNS)})"))
    return {n: i for i, n in enumerate(names) if n in COLUMNS}, errors


def _cell(row: list[str], columns: dict[str, int], name: str) -> str | None:
    index = columns.get(name)
    value = row[index].strip() if index is not None and index < len(row) else ""
    return value or None


def _check_line(line: int, row: list[str], columns: dict[str, int]) -> _Line | LineError:
    if len(row) != len(columns):
        return LineError(line, f"{len(row)} values where the header has {len(columns)} columns")
    values = {name: _cell(row, columns, name) for name in COLUMNS}
    for name, value in values.items():
        if value is not None and len(value) > _LIMITS[name]:
            return LineError(line, f"{name} is longer than {_LIMITS[name]} characters")
        if value is not None and _CONTROL.search(value):
            return LineError(line, f"{name} contains a control character")
    email = values["email"]
    if email is None:
        return LineError(line, "the email is missing")
    if not _EMAIL.match(email):
        return LineError(line, f"{email!r} is not an email address")
    if values["team_cost_center"] is not None and values["team"] is None:
        return LineError(line, "team_cost_center is given without a team")
    return _Line(line, email.lower(), values["name"], values["team"], values["cost_center"],
                 values["team_cost_center"], frozenset(columns))  # fmt: skip


def _team_cost_centers(lines: list[_Line]) -> tuple[dict[str, tuple[int, str]], list[LineError]]:
    """Team → (first line, cost center) the file gives; a line that gives its team another one is bad."""
    given: dict[str, tuple[int, str]] = {}
    errors: list[LineError] = []
    for line in lines:
        if line.team is None or line.team_cost_center is None:
            continue
        first = given.setdefault(line.team, (line.line, line.team_cost_center))
        if first[1] != line.team_cost_center:
            errors.append(LineError(line.line, f"team {line.team!r} has team_cost_center {first[1]!r} on "
                                               f"line {first[0]}; one team has one cost center"))  # fmt: skip
    return given, errors


def _parse(text: str) -> tuple[list[_Line], list[LineError]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[_Line] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    try:
        header = next(reader, None)
        if header is None or not any(c.strip() for c in header):
            return [], [
                LineError(1, f"the file is empty; the first line must be the header {','.join(COLUMNS)}")
            ]
        columns, errors = _header(header)
        if errors:
            return [], errors
        for row in reader:
            if reader.line_num > MAX_LINES + 1:
                return [], [LineError(0, f"the file has more than {MAX_LINES} lines; split it")]
            if not any(cell.strip() for cell in row):
                continue  # blank lines are not people
            checked = _check_line(reader.line_num, row, columns)
            if isinstance(checked, LineError):
                errors.append(checked)
            elif checked.email in seen:
                errors.append(
                    LineError(checked.line, f"{checked.email} is already on line {seen[checked.email]}")
                )
            else:
                seen[checked.email] = checked.line
                lines.append(checked)
    except csv.Error as exc:
        errors.append(LineError(reader.line_num, f"not valid CSV ({exc})"))
    errors += _team_cost_centers(lines)[1]
    return lines, sorted(errors, key=lambda e: e.line)


def _people_by_email(conn: Connection, tenant_id: int) -> dict[str, PersonRow]:
    """The tenant's people by lower-cased email, and by userName for people that have no email."""
    people: dict[str, PersonRow] = {}
    everyone = all_people(conn, tenant_id)
    for person in everyone:
        if person.fields.email:
            people.setdefault(person.fields.email.lower(), person)
    for person in everyone:
        people.setdefault(person.fields.user_name.lower(), person)
    return people


def _person_changes(current: PersonFields, line: _Line) -> tuple[tuple[str, str | None, str | None], ...]:
    wanted = {"name": line.name, "cost center": line.cost_center}
    had = {"name": current.display_name, "cost center": current.cost_center}
    column = {"name": "name", "cost center": "cost_center"}
    return tuple(
        (what, had[what], wanted[what])
        for what in wanted
        if column[what] in line.given and had[what] != wanted[what]
    )


def plan_import(conn: Connection, tenant_id: int, text: str) -> ImportPlan:
    """What importing `text` would change in this tenant's directory, and every bad line."""
    lines, errors = _parse(text)
    plan = ImportPlan(errors=errors)
    if errors:
        return plan
    people = _people_by_email(conn, tenant_id)
    teams = {t.fields.display_name: t for t in all_teams(conn, tenant_id)}
    team_names = {t.id: t.fields.display_name for t in teams.values()}
    csv_teams_of: dict[int, set[str]] = {}
    teams_of: dict[int, set[str]] = {}  # every team, so naming a SCIM team one is in is no change
    for team_id, person_id in all_memberships(conn, tenant_id):
        teams_of.setdefault(person_id, set()).add(team_names[team_id])
        if teams[team_names[team_id]].source == "csv":
            csv_teams_of.setdefault(person_id, set()).add(team_names[team_id])
    new_teams: list[str] = []
    for line in lines:
        if line.team and line.team not in teams and line.team not in new_teams:
            new_teams.append(line.team)
        person = people.get(line.email)
        before = tuple(sorted(csv_teams_of.get(person.id, set()))) if person else ()
        wanted = {line.team} if line.team else set()
        if "team" not in line.given:  # the file says nothing of teams: memberships stay as they are
            before, wanted = (), set()
        present = teams_of.get(person.id, set()) if person else set()
        plan.memberships_added += [(line.email, t) for t in sorted(wanted - present)]
        plan.memberships_removed += [(line.email, t) for t in before if t not in wanted]
        if person is None:
            plan.people.append(PersonChange(line.line, line.email, "create", team_after=line.team))
            continue
        changes = _person_changes(person.fields, line)
        action = "update" if changes else "unchanged"
        plan.people.append(PersonChange(line.line, line.email, action, changes, before, line.team))
    plan.teams_to_create = new_teams
    for name, (_, cost_center) in _team_cost_centers(lines)[0].items():
        had = teams[name].cost_center if name in teams else None
        if had != cost_center:
            plan.team_cost_centers.append((name, had, cost_center))
    return plan


def apply_import(
    conn: Connection, tenant_id: int, text: str, *, actor: str, actor_user_id: int | None = None
) -> ImportPlan:
    """Apply the file in the caller's transaction, or raise ImportRejected and write nothing.

    Records an `identity_import` event (who, and how many of each change) when anything changed."""
    plan = plan_import(conn, tenant_id, text)
    if not plan.ok:
        raise ImportRejected(plan)
    lines = {line.email: line for line in _parse(text)[0]}
    teams = {t.fields.display_name: t.id for t in all_teams(conn, tenant_id)}
    for name in plan.teams_to_create:
        teams[name] = create_team(conn, tenant_id, TeamFields(name), source="csv").id
    people = _people_by_email(conn, tenant_id)
    for change in plan.people:
        line = lines[change.email]
        person: PersonRow | None = people.get(change.email)
        if change.action == "create":
            fields = PersonFields(
                user_name=line.email, email=line.email, display_name=line.name, cost_center=line.cost_center
            )
            people[change.email] = create_person(conn, tenant_id, fields, source="csv")
        elif change.action == "update" and person is not None:
            fields = _updated(person.fields, line)
            people[change.email] = replace_person(conn, tenant_id, person.id, fields)
    for email, team in plan.memberships_removed:
        remove_team_member(conn, tenant_id, teams[team], people[email].id)
    for email, team in plan.memberships_added:
        add_team_member(conn, tenant_id, teams[team], people[email].id)
    editor = Editor(actor_user_id, actor)
    for team, _, cost_center in plan.team_cost_centers:  # each one a `team_changed` event naming the actor
        set_team_cost_center(conn, tenant_id, teams[team], cost_center, editor=editor)
    if plan.changes_anything:
        summary = plan.summary()
        said = ", ".join(
            f"{n} {what.replace('_', ' ')}" for what, n in summary.items() if n and "unchanged" not in what
        )
        add_event(
            conn,
            tenant_id=tenant_id,
            connection_id=None,
            kind=IDENTITY_IMPORT,
            level="info",
            message=f"CSV import by {actor}: {said}.",
            details={**summary, "by": actor, "by_user_id": actor_user_id},
        )
    return plan


def _updated(current: PersonFields, line: _Line) -> PersonFields:
    name = line.name if "name" in line.given else current.display_name
    cost_center = line.cost_center if "cost_center" in line.given else current.cost_center
    return replace(current, display_name=name, cost_center=cost_center)
