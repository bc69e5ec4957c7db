"""The detail views of an allocation: each person's spend with their keys and products, what is Unallocated
grouped by the subject an admin can give an owner to, and each application's spend.

All are read from the same attributed groups as `allocate`, so a person's spend here equals their row
there, and what the Unallocated page lists is exactly what the allocation's Unallocated rows hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection

from .allocation import AttributedSpend, attribute_spend, load_scope
from .allocation_data import Labels
from .ownership_rules import PersonInfo
from .periods import Period

__all__ = ["AllocationDetail", "FixItem", "PersonSpend", "read_allocation_detail"]

_NO_PRODUCT = "No product (code execution)"


def _usd(microcents: int) -> Decimal:
    return Decimal(microcents).scaleb(-8)


@dataclass
class PersonSpend:
    person: PersonInfo
    amount_microcents: int = 0
    keys: dict[str, int] = field(default_factory=dict)  # label -> micro-cents
    products: dict[str, int] = field(default_factory=dict)

    @property
    def amount_usd(self) -> Decimal:
        return _usd(self.amount_microcents)

    @property
    def team_note(self) -> str | None:
        """Why spend lands on one team when the person is in several."""
        teams = self.person.teams
        if len(teams) < 2:
            return None
        return f"in {len(teams)} teams; spend goes to the first by name, {teams[0].name}"

    def top(self, kind: str) -> list[tuple[str, Decimal]]:
        values = self.keys if kind == "keys" else self.products
        return [(label, _usd(v)) for label, v in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass
class FixItem:
    """One subject whose spend has no owner: what to assign an owner to, its spend and why it has none."""

    subject_type: str
    subject_id: str
    label: str
    amount_microcents: int = 0
    reasons: set[str] = field(default_factory=set)
    actors: set[str] = field(default_factory=set)  # who used it, for the admin deciding

    @property
    def amount_usd(self) -> Decimal:
        return _usd(self.amount_microcents)


@dataclass(frozen=True)
class AllocationDetail:
    period: Period
    organization: str | None
    people: list[PersonSpend]
    fixes: list[FixItem]
    applications: dict[int, int]  # application id -> micro-cents
    labels: Labels

    def application_usd(self, application_id: int) -> Decimal:
        return _usd(self.applications.get(application_id, 0))

    @property
    def unallocated_usd(self) -> Decimal:
        return _usd(sum(f.amount_microcents for f in self.fixes))


def _people(attributed: Iterable[AttributedSpend], labels: Labels) -> list[PersonSpend]:
    out: dict[int, PersonSpend] = {}
    for s in attributed:
        person = s.attribution.person
        if person is None:
            continue
        entry = out.setdefault(person.id, PersonSpend(person))
        amount = s.spend.amount
        entry.amount_microcents += amount
        g = s.spend.group
        if g.actor_type == "api_actor" and g.actor_id:
            key = labels.subject("api_key", g.actor_id)
            entry.keys[key] = entry.keys.get(key, 0) + amount
        product = s.spend.product or _NO_PRODUCT
        entry.products[product] = entry.products.get(product, 0) + amount
    return sorted(out.values(), key=lambda p: (-p.amount_microcents, p.person.name.lower()))


def _fixes(attributed: Iterable[AttributedSpend], labels: Labels) -> list[FixItem]:
    out: dict[tuple[str, str], FixItem] = {}
    for s in attributed:
        a = s.attribution
        if a.owner_reason is None or a.subject is None:
            continue
        item = out.get(a.subject)
        if item is None:
            item = out[a.subject] = FixItem(a.subject[0], a.subject[1], labels.subject(*a.subject))
        item.amount_microcents += s.spend.amount
        item.reasons.add(a.owner_reason)
        item.actors.add(labels.actor(s.spend.group.actor_type, s.spend.group.actor_id))
    return sorted(out.values(), key=lambda f: (-f.amount_microcents, f.label.lower()))


def read_allocation_detail(
    conn: Connection, tenant_id: int, period: Period, organization: str | None = None
) -> AllocationDetail:
    """People, Unallocated subjects and application spend of the period (UsageError: unknown organization)."""
    scope, labels = load_scope(conn, tenant_id, period, organization)
    attributed, _gap = attribute_spend(conn, scope)
    apps: dict[int, int] = {}
    for s in attributed:
        if s.attribution.application is not None:
            app_id = s.attribution.application.id
            apps[app_id] = apps.get(app_id, 0) + s.spend.amount
    return AllocationDetail(period, organization, _people(attributed, labels), _fixes(attributed, labels), apps,
                            labels)  # fmt: skip
