"""What an allocation reads: spend summed in SQL to a few thousand groups, and the directory the rules need.

Spend is summed to (actor kind, actor id, workspace, product) on the actor grain first, so the rules run
over groups, never over rows; it is read from the grain's rollup at exactly those dimensions a day
(`cost_by_actor`, written with the rows), about a tenth of the rows. A connection that reads the classic reports has no actor grain: its spend
comes from the daily grain by (API key, workspace), each key taken as an `api_actor` ('' = no API key).
The organization's reported total is always the daily grain's, the figure every other page shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, Select, func, select

from usageledger.errors import UsageError
from usageledger.store.tables import (
    actor_cost_rollup,
    anthropic_actors,
    anthropic_api_keys,
    anthropic_users,
    anthropic_workspaces,
    application_resources,
    applications,
    connections,
    cost_rollups,
    cost_rows,
    owners,
    people,
    team_members,
    teams,
)

from .ownership_rules import (
    ActorIdentity,
    ApplicationInfo,
    Directory,
    KeyInfo,
    Owner,
    PersonInfo,
    SpendGroup,
    TeamInfo,
)

__all__ = [
    "GrainGap",
    "GroupSpend",
    "Labels",
    "SpendScope",
    "load_directory",
    "load_grain_gap",
    "load_groups",
    "load_labels",
    "load_total",
]

_TOTAL_TABLE = cost_rollups["model"]  # the daily grain summed per model: the smallest table with every cost
# The actor grain summed per actor, workspace and product a day: the smallest table with what the rules read.
_SPEND_TABLE = actor_cost_rollup


@dataclass(frozen=True, slots=True)
class SpendScope:
    """The tenant's connections an allocation reads, and the period and organization it covers."""

    tenant_id: int
    since: dt.date
    until: dt.date  # inclusive
    organization: str | None
    with_actors: tuple[int, ...]  # connections whose spend comes from the actor grain
    classic: tuple[int, ...]  # connections without one: their spend comes from the daily grain

    @classmethod
    def load(
        cls, conn: Connection, tenant_id: int, since: dt.date, until: dt.date, organization: str | None
    ) -> SpendScope:
        """Raises UsageError for an organization the tenant has not connected."""
        rows = conn.execute(
            select(connections.c.id, connections.c.source, connections.c.organization_id).where(
                connections.c.tenant_id == tenant_id
            )
        ).all()
        if organization is not None and organization not in {r.organization_id for r in rows}:
            raise UsageError(
                f"No connected organization has the id {organization!r}; choose one from the list or show all."
            )
        return cls(
            tenant_id, since, until, organization,
            tuple(r.id for r in rows if r.source != "classic"), tuple(r.id for r in rows if r.source == "classic"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class GroupSpend:
    group: SpendGroup
    product: str | None
    amount: int  # micro-cents
    list_amount: int


def _none(value: str | None) -> str | None:
    return value or None


def load_groups(
    conn: Connection, scope: SpendScope
) -> tuple[list[GroupSpend], dict[dt.date, tuple[int, int]]]:
    """The period's spend summed per (actor, workspace, product), both grains' connections together, and
    the actor grain's cost and rollup row count per day.

    Two small answers, not one row per (day, group): SQL sums a year of the rollup in C either way, and
    Python then handles a few thousand groups and a row a day instead of every day × group (~2 µs each).
    """
    out: list[GroupSpend] = []
    per_day: dict[dt.date, tuple[int, int]] = {}
    if scope.with_actors:
        t = _SPEND_TABLE
        where: list[ColumnElement[bool]] = [
            t.c.connection_id.in_(scope.with_actors),
            t.c.day.between(scope.since, scope.until),
        ]
        if scope.organization is not None:
            where.append(t.c.organization_id == scope.organization)
        dims = (t.c.actor_type, t.c.actor_id, t.c.workspace_id, t.c.product)
        amounts = (func.sum(t.c.amount_microcents), func.sum(t.c.list_amount_microcents))
        groups = select(*dims, *amounts).where(*where).group_by(*dims).order_by(*dims)
        for kind, actor_id, workspace, product, amount, list_amount in conn.execute(groups):
            group = SpendGroup(_none(kind), _none(actor_id), workspace or "")
            out.append(GroupSpend(group, _none(product), int(amount or 0), int(list_amount or 0)))
        days = select(t.c.day, amounts[0], func.count()).where(*where).group_by(t.c.day)
        per_day = {day: (int(amount or 0), int(rows)) for day, amount, rows in conn.execute(days)}
    if scope.classic:
        d = cost_rows
        daily_query = (
            select(
                d.c.api_key_id,
                d.c.workspace_id,
                func.sum(d.c.amount_microcents),
                func.sum(d.c.list_amount_microcents),
            )  # fmt: skip
            .where(d.c.connection_id.in_(scope.classic), d.c.day.between(scope.since, scope.until))
            .group_by(d.c.api_key_id, d.c.workspace_id)
        )
        if scope.organization is not None:
            daily_query = daily_query.where(d.c.organization_id == scope.organization)
        for key_id, workspace, amount, list_amount in conn.execute(daily_query):
            group = SpendGroup("api_actor", _none(key_id), workspace or "")
            out.append(GroupSpend(group, None, int(amount or 0), int(list_amount or 0)))
    return out, per_day


def load_total(conn: Connection, scope: SpendScope) -> tuple[int, int]:
    """The organization's reported cost and list cost of the period, in micro-cents, from the daily grain."""
    t = _TOTAL_TABLE
    query = select(func.sum(t.c.amount_microcents), func.sum(t.c.list_amount_microcents)).where(
        t.c.connection_id.in_((*scope.with_actors, *scope.classic)), t.c.day.between(scope.since, scope.until)
    )
    if scope.organization is not None:
        query = query.where(t.c.organization_id == scope.organization)
    amount, list_amount = conn.execute(query).one()
    return int(amount or 0), int(list_amount or 0)


@dataclass(frozen=True, slots=True)
class GrainGap:
    """How the actor grain's cost differs from the daily grain's over the scope, in micro-cents.

    Each stored row is rounded to a micro-cent, so a day's sums of the two grains may differ by a few
    micro-cents: up to a cent a day is `rounding` (the sync's own check allows as much), spread over the
    groups so every micro-cent lands. A day that differs by more, or has no actor rows, is a real
    disagreement (the sync recorded a `mismatch` event): `unexplained`.
    """

    rounding: int = 0
    unexplained: int = 0
    days: tuple[dt.date, ...] = ()  # the days that disagree beyond rounding


_CENT = 1_000_000  # micro-cents


def load_grain_gap(
    conn: Connection, scope: SpendScope, actor_days: dict[dt.date, tuple[int, int]]
) -> GrainGap:
    """Per day, the daily grain's cost minus the actor grain's (`actor_days`, from `load_groups`)."""
    if not scope.with_actors:
        return GrainGap()
    t = _TOTAL_TABLE
    query = (
        select(t.c.day, func.sum(t.c.amount_microcents))
        .where(t.c.connection_id.in_(scope.with_actors), t.c.day.between(scope.since, scope.until))
        .group_by(t.c.day)
    )
    if scope.organization is not None:
        query = query.where(t.c.organization_id == scope.organization)
    daily = {day: int(amount or 0) for day, amount in conn.execute(query)}
    rounding = unexplained = 0
    days = []
    for day in sorted(actor_days.keys() | daily.keys()):
        (a, a_rows), d = actor_days.get(day, (0, 0)), daily.get(day, 0)
        gap = d - a
        if a_rows and abs(gap) <= _CENT:
            rounding += gap
        elif gap:
            unexplained += gap
            days.append(day)
    return GrainGap(rounding, unexplained, tuple(days))


def _tenant_connections(tenant_id: int) -> Select[tuple[int]]:
    return select(connections.c.id).where(connections.c.tenant_id == tenant_id)


def _people(conn: Connection, tenant_id: int) -> tuple[dict[int, PersonInfo], dict[int, TeamInfo]]:
    team_rows = conn.execute(select(teams).where(teams.c.tenant_id == tenant_id)).all()
    by_id = {r.id: TeamInfo(r.id, r.display_name, r.cost_center or None) for r in team_rows}
    memberships: dict[int, list[TeamInfo]] = {}
    for team_id, person_id in conn.execute(
        select(team_members.c.team_id, team_members.c.person_id).where(team_members.c.team_id.in_(by_id))
    ):
        memberships.setdefault(person_id, []).append(by_id[team_id])
    out = {}
    for r in conn.execute(select(people).where(people.c.tenant_id == tenant_id, people.c.active)):
        person_teams = tuple(sorted(memberships.get(r.id, ()), key=lambda t: (t.name.lower(), t.id)))
        name = (
            r.display_name or " ".join(filter(None, (r.given_name, r.family_name))) or r.email or r.user_name
        )
        out[r.id] = PersonInfo(r.id, name, r.email, r.cost_center or None, person_teams)
    return out, by_id


def load_directory(conn: Connection, tenant_id: int) -> Directory:
    """The tenant's Anthropic directory, people, teams, owners and applications, as the rules read them."""
    mine = _tenant_connections(tenant_id)
    actors = {
        (r.actor_type, r.actor_id): ActorIdentity(r.email, bool(r.deleted))
        for r in conn.execute(select(anthropic_actors).where(anthropic_actors.c.connection_id.in_(mine)))
    }
    user_emails = {
        r.id: r.email
        for r in conn.execute(
            select(anthropic_users.c.id, anthropic_users.c.email).where(
                anthropic_users.c.connection_id.in_(mine)
            )
        )
    }
    keys = {
        r.id: KeyInfo(r.created_by_type, r.created_by_id)
        for r in conn.execute(
            select(anthropic_api_keys.c.id, anthropic_api_keys.c.created_by_type, anthropic_api_keys.c.created_by_id)
            .where(anthropic_api_keys.c.connection_id.in_(mine))
        )
    }  # fmt: skip
    people_by_id, teams_by_id = _people(conn, tenant_id)
    by_email = {p.email.lower(): p for p in people_by_id.values() if p.email}
    overrides = {
        (r.subject_type, r.subject_id): Owner(r.person_id, r.team_id)
        for r in conn.execute(select(owners).where(owners.c.tenant_id == tenant_id))
    }
    apps = {
        r.id: ApplicationInfo(r.id, r.name, r.team_id)
        for r in conn.execute(select(applications).where(applications.c.tenant_id == tenant_id))
    }
    resources = {
        (r.subject_type, r.subject_id): apps[r.application_id]
        for r in conn.execute(
            select(application_resources).where(application_resources.c.tenant_id == tenant_id)
        )
        if r.application_id in apps
    }
    return Directory(actors, user_emails, keys, by_email, people_by_id, teams_by_id, overrides, resources)


@dataclass
class Labels:
    """Names beside Anthropic ids, for showing subjects (keys, workspaces, actors)."""

    keys: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id -> (name, partial hint)
    workspaces: dict[str, str] = field(default_factory=dict)
    actors: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) -> email or name

    def subject(self, subject_type: str, subject_id: str) -> str:
        if subject_type == "api_key":
            name, hint = self.keys.get(subject_id, (subject_id, None))
            return f"API key {name}" + (f" ({hint})" if hint else "")
        if subject_type == "workspace":
            return (
                f"Workspace {self.workspaces.get(subject_id, subject_id)}"
                if subject_id
                else "Default workspace"
            )
        return f"Service account {subject_id}"

    def actor(self, kind: str | None, actor_id: str | None) -> str:
        if kind is None or actor_id is None:
            return "No attributable identity"
        if kind == "api_actor":
            return self.subject("api_key", actor_id)
        if kind == "service_account_actor":
            return self.subject("service_account", actor_id)
        who = self.actors.get((kind, actor_id)) or actor_id
        return f"User {who}" if kind == "user_actor" else f"Federated identity {who}"


def load_labels(conn: Connection, tenant_id: int) -> Labels:
    mine = _tenant_connections(tenant_id)
    k, w, a = anthropic_api_keys, anthropic_workspaces, anthropic_actors
    return Labels(
        {r.id: (r.name, r.partial_key_hint) for r in conn.execute(select(k.c.id, k.c.name, k.c.partial_key_hint)
                                                                  .where(k.c.connection_id.in_(mine)))},
        {r.id: r.name for r in conn.execute(select(w.c.id, w.c.name).where(w.c.connection_id.in_(mine)))},
        {(r.actor_type, r.actor_id): r.email or r.name or r.actor_id
         for r in conn.execute(select(a.c.actor_type, a.c.actor_id, a.c.email, a.c.name)
                               .where(a.c.connection_id.in_(mine)))},
    )  # fmt: skip
