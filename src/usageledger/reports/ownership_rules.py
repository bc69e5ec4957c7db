"""Who owns a group of spend: the ownership rules as one pure function, unit-tested row by row.

A group is the spend of one (actor kind, actor id, workspace) of the actor grain, or of one (API key,
workspace) of the daily grain for a connection without actors. `plan_attribution` gives it an
application, an owner (a person or a team), a team and a cost center, or says why not: every dollar lands
somewhere, and Unallocated is an answer with a reason, never an absence.

The rules, first that applies:

1. Application: the API key if it serves one, else the workspace if it does.
2. Owner: an admin's override on the API key / service account; a user actor's person by email (a
   deleted user or an email the directory lacks is Unallocated); an API key's creator by email (a key
   created by a service account takes that account's override); else an override on the workspace.
3. Team: the application's team, else the owner team, else the owning person's first team by name.
4. Cost center: the owning person's, else their team's; a team owner's; an unowned application's team's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DELETED_USER",
    "FEDERATED_IDENTITY",
    "NO_API_KEY",
    "NO_APPLICATION",
    "NO_COST_CENTER",
    "NO_IDENTITY",
    "NO_OWNER",
    "NOT_A_PERSON",
    "NOT_IN_DIRECTORY",
    "NO_TEAM",
    "UNALLOCATED_REASONS",
    "ApplicationInfo",
    "Attribution",
    "Directory",
    "Owner",
    "PersonInfo",
    "SpendGroup",
    "TeamInfo",
    "plan_attribution",
]

# Why spend is Unallocated, in the words the pages, the API and the CLI show.
NO_OWNER = "no owner"
NOT_IN_DIRECTORY = "owner not in the directory"
DELETED_USER = "deleted user"
FEDERATED_IDENTITY = "federated identity"
NO_IDENTITY = "no attributable identity"  # usage the API reports with `actor: null`
NO_API_KEY = "no API key"  # daily-grain spend without a key (Console usage on a classic connection)
NO_TEAM = "owner has no team"
NO_COST_CENTER = "no cost center"
NOT_A_PERSON = "owned by a team, not a person"
NO_APPLICATION = "no application"
UNALLOCATED_REASONS: tuple[str, ...] = (
    NO_OWNER, NOT_IN_DIRECTORY, DELETED_USER, FEDERATED_IDENTITY, NO_IDENTITY, NO_API_KEY, NO_TEAM,
    NO_COST_CENTER, NOT_A_PERSON, NO_APPLICATION,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TeamInfo:
    id: int
    name: str
    cost_center: str | None = None


@dataclass(frozen=True, slots=True)
class PersonInfo:
    id: int
    name: str
    email: str | None = None
    cost_center: str | None = None
    teams: tuple[TeamInfo, ...] = ()  # sorted by name: the first is the one spend is allocated to


@dataclass(frozen=True, slots=True)
class ApplicationInfo:
    id: int
    name: str
    team_id: int | None = None


@dataclass(frozen=True, slots=True)
class Owner:
    """An admin's override: exactly one of person_id and team_id."""

    person_id: int | None = None
    team_id: int | None = None


@dataclass(frozen=True, slots=True)
class ActorIdentity:
    email: str | None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class KeyInfo:
    created_by_type: str | None  # user | service_account | None
    created_by_id: str | None


@dataclass
class Directory:
    """Everything the rules read, loaded once per allocation (ids are unique across organizations)."""

    actors: Mapping[tuple[str, str], ActorIdentity] = field(default_factory=dict)  # (kind, id)
    user_emails: Mapping[str, str] = field(default_factory=dict)  # Anthropic user id -> email
    api_keys: Mapping[str, KeyInfo] = field(default_factory=dict)
    people_by_email: Mapping[str, PersonInfo] = field(default_factory=dict)  # lower-cased email
    people: Mapping[int, PersonInfo] = field(default_factory=dict)
    teams: Mapping[int, TeamInfo] = field(default_factory=dict)
    owners: Mapping[tuple[str, str], Owner] = field(default_factory=dict)  # (subject type, id)
    applications: Mapping[tuple[str, str], ApplicationInfo] = field(default_factory=dict)  # resource


@dataclass(frozen=True, slots=True)
class SpendGroup:
    """One group of spend: the actor (None for null actors) and the workspace ('' the default one)."""

    actor_type: str | None
    actor_id: str | None
    workspace_id: str | None


@dataclass(frozen=True, slots=True)
class Attribution:
    """Where a group's spend lands. A None dimension is Unallocated with the matching reason."""

    application: ApplicationInfo | None
    person: PersonInfo | None
    owner_team: TeamInfo | None  # the owner when a team owns it
    team: TeamInfo | None
    cost_center: str | None
    owner_reason: str | None  # why there is no owner (None when owned)
    team_reason: str | None
    cost_center_reason: str | None
    # What an admin assigns an owner to, to fix (or change) this group: (subject type, subject id).
    subject: tuple[str, str] | None

    @property
    def person_reason(self) -> str | None:
        if self.person is not None:
            return None
        return NOT_A_PERSON if self.owner_team is not None else self.owner_reason


def _norm(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def _override(d: Directory, subject_type: str, subject_id: str | None) -> Owner | None:
    return d.owners.get((subject_type, subject_id)) if subject_id else None


def _person_by_email(d: Directory, email: str | None) -> tuple[PersonInfo | None, str | None]:
    email = _norm(email)
    if email is None:
        return None, NOT_IN_DIRECTORY
    person = d.people_by_email.get(email)
    return (person, None) if person is not None else (None, NOT_IN_DIRECTORY)


def _key_creator(d: Directory, key_id: str) -> tuple[Owner | PersonInfo | None, str | None]:
    """Rule 2c: an API key without an override belongs to whoever created it."""
    key = d.api_keys.get(key_id)
    if key is None or not key.created_by_id:
        return None, NO_OWNER
    if key.created_by_type == "service_account":
        owner = _override(d, "service_account", key.created_by_id)
        return (owner, None) if owner is not None else (None, NO_OWNER)
    email = d.user_emails.get(key.created_by_id)
    if email is None:  # the creator has left the organization since
        return None, NOT_IN_DIRECTORY
    return _person_by_email(d, email)


def _subject(group: SpendGroup) -> tuple[str, str] | None:
    if group.actor_type == "api_actor" and group.actor_id:
        return ("api_key", group.actor_id)
    if group.actor_type == "service_account_actor" and group.actor_id:
        return ("service_account", group.actor_id)
    return ("workspace", group.workspace_id or "")


def _owner(d: Directory, group: SpendGroup) -> tuple[Owner | PersonInfo | None, str | None]:
    """Rule 2 before the workspace fallback: the owner (an override or a person) or the reason for none."""
    kind, actor_id = group.actor_type, group.actor_id
    if kind == "api_actor":
        if not actor_id:
            return None, NO_API_KEY
        override = _override(d, "api_key", actor_id)
        return (override, None) if override is not None else _key_creator(d, actor_id)
    if kind == "service_account_actor":
        owner = _override(d, "service_account", actor_id)
        return (owner, None) if owner is not None else (None, NO_OWNER)
    if kind == "user_actor" and actor_id:
        identity = d.actors.get((kind, actor_id))
        if identity is not None and identity.deleted:
            return None, DELETED_USER
        email = identity.email if identity is not None and identity.email else d.user_emails.get(actor_id)
        return _person_by_email(d, email)
    if kind == "federated_actor":
        return None, FEDERATED_IDENTITY
    return None, NO_IDENTITY


def _resolve(d: Directory, found: Owner | PersonInfo | None) -> tuple[PersonInfo | None, TeamInfo | None]:
    if isinstance(found, PersonInfo):
        return found, None
    if isinstance(found, Owner):
        if found.person_id is not None:
            return d.people.get(found.person_id), None
        if found.team_id is not None:
            return None, d.teams.get(found.team_id)
    return None, None


def plan_attribution(d: Directory, group: SpendGroup) -> Attribution:
    """Where one group's spend lands: application, owner, team and cost center, each with a reason if none."""
    key_id = group.actor_id if group.actor_type == "api_actor" and group.actor_id else None
    workspace = group.workspace_id or ""
    application = (d.applications.get(("api_key", key_id)) if key_id else None) or d.applications.get(
        ("workspace", workspace)
    )
    found, reason = _owner(d, group)
    person, owner_team = _resolve(d, found)
    if person is None and owner_team is None and found is not None:
        reason = NO_OWNER  # an override whose person or team is gone (the tenant's tables were edited)
    if person is None and owner_team is None:
        workspace_owner = _resolve(d, _override(d, "workspace", workspace))
        if workspace_owner != (None, None):
            person, owner_team = workspace_owner
            reason = None
    owner_reason = None if person is not None or owner_team is not None else (reason or NO_OWNER)

    app_team = d.teams.get(application.team_id) if application and application.team_id is not None else None
    person_team = person.teams[0] if person is not None and person.teams else None
    team = app_team or owner_team or person_team
    team_reason = None if team is not None else (owner_reason or NO_TEAM)

    if person is not None:
        cost_center = person.cost_center or (person_team.cost_center if person_team else None)
    elif owner_team is not None:
        cost_center = owner_team.cost_center
    else:
        cost_center = app_team.cost_center if app_team else None
    cc_reason = None if cost_center else (owner_reason if person is None and owner_team is None and app_team
                                          is None else NO_COST_CENTER)  # fmt: skip
    return Attribution(
        application=application,
        person=person,
        owner_team=owner_team,
        team=team,
        cost_center=cost_center or None,
        owner_reason=owner_reason,
        team_reason=team_reason,
        cost_center_reason=cc_reason,
        subject=_subject(group),
    )


__all__ += ["ActorIdentity", "KeyInfo"]
