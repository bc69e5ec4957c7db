"""Allocation: every dollar of the period on a team, cost center, person, application or product, or on an
explicit Unallocated row that says why. One read model for the pages, the JSON API and the CLI.

The groups' micro-cents add up to the organization's reported cost (the daily grain) exactly, unless the
actor grain itself disagrees with the daily grain for some day (a `mismatch` event says which); then
`balanced` is False and `imbalance_note` says so. Rows are shown in cents, rounded by the largest-remainder
method, so the shown rows add up to the shown total to the cent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Connection

from usageledger.errors import UsageError
from usageledger.store.runs import list_events

from .allocation_data import (
    GrainGap,
    GroupSpend,
    Labels,
    SpendScope,
    load_directory,
    load_grain_gap,
    load_groups,
    load_labels,
    load_total,
)
from .allocation_dimensions import ALLOCATION_DIMENSIONS
from .ownership_rules import NO_APPLICATION, Attribution, Directory, plan_attribution
from .periods import Period

__all__ = [
    "ALLOCATION_DIMENSIONS",
    "UNALLOCATED_KEY",
    "Allocation",
    "AllocationRow",
    "AttributedSpend",
    "allocate",
    "attribute_spend",
    "plan_cents",
]

UNALLOCATED_KEY = "unallocated"
_MICROCENTS_PER_CENT = 1_000_000
_SHARE = Decimal("0.0001")
_NO_PRODUCT = "No product (code execution)"


@dataclass(frozen=True, slots=True)
class AllocationRow:
    """One line of an allocation. Unallocated lines have `reason` and the key `unallocated:<reason>`."""

    key: str
    label: str
    amount_microcents: int
    list_amount_microcents: int
    amount_usd: Decimal  # in cents, rounded so the rows add up to the total shown
    list_amount_usd: Decimal  # exact
    share: Decimal  # of the allocated total, 0..1
    reason: str | None = None

    @property
    def unallocated(self) -> bool:
        return self.reason is not None


@dataclass(frozen=True, slots=True)
class AttributedSpend:
    """One group's spend and where the rules put it."""

    spend: GroupSpend
    attribution: Attribution


@dataclass(frozen=True)
class Allocation:
    by: str
    period: Period
    organization: str | None
    rows: list[AllocationRow]
    total_microcents: int  # the organization's reported cost for the period (daily grain)
    list_total_microcents: int
    allocated_microcents: int  # the rows' sum
    imbalance_note: str | None  # why the rows do not add up to the reported total, if they do not

    @property
    def balanced(self) -> bool:
        return self.total_microcents == self.allocated_microcents

    @property
    def total_usd(self) -> Decimal:
        """The reported total in cents: what the rows' `amount_usd` add up to when balanced."""
        return _cents(self.total_microcents)

    @property
    def list_total_usd(self) -> Decimal:
        return Decimal(self.list_total_microcents).scaleb(-8)

    @property
    def allocated_usd(self) -> Decimal:
        return _cents(self.allocated_microcents)

    @property
    def unallocated_microcents(self) -> int:
        return sum(r.amount_microcents for r in self.rows if r.unallocated)


def _cents(microcents: int) -> Decimal:
    """Micro-cents to dollars rounded half-even to the cent."""
    return (Decimal(microcents).scaleb(-8)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def plan_cents(amounts: list[int]) -> list[int]:
    """Micro-cent amounts to whole cents that add up to the rounded sum (largest-remainder method).

    Each amount is floored to a cent; the cents the floors lost are given back one each to the amounts
    that lost the most (ties: the earlier amount), so the result sums to the total rounded half-even.
    """
    floors = [a // _MICROCENTS_PER_CENT for a in amounts]
    target = int(_cents(sum(amounts)) * 100)
    missing = target - sum(floors)
    order = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] % _MICROCENTS_PER_CENT), i))
    for i in order[:missing]:
        floors[i] += 1
    return floors


def plan_spread(amounts: list[int], extra: int) -> list[int]:
    """`extra` micro-cents shared in proportion to the (positive) amounts, largest remainder first.

    Used for the rounding gap between the grains: a few micro-cents, so whom it lands on does not matter,
    but every one of them must land somewhere for the allocation to add up.
    """
    if not extra or not amounts:
        return list(amounts)
    weights = [max(a, 0) for a in amounts]
    whole = sum(weights)
    if whole == 0:
        weights, whole = [1] * len(amounts), len(amounts)
    sign, size = (1 if extra > 0 else -1), abs(extra)
    shares = [size * w // whole for w in weights]
    order = sorted(range(len(amounts)), key=lambda i: (-(size * weights[i] % whole), i))
    for i in order[: size - sum(shares)]:
        shares[i] += 1
    return [a + sign * s for a, s in zip(amounts, shares, strict=True)]


def attribute_spend(
    conn: Connection, scope: SpendScope, directory: Directory | None = None
) -> tuple[list[AttributedSpend], GrainGap]:
    """The scope's spend groups, each with its attribution (the rules run once per actor and workspace).

    The grains' rounding gap is spread over the groups, so they add up to the reported total exactly
    unless the grains disagree beyond rounding (the returned gap says by how much and on which days).
    """
    directory = directory or load_directory(conn, scope.tenant_id)
    groups, actor_days = load_groups(conn, scope)
    gap = load_grain_gap(conn, scope, actor_days)
    spread = plan_spread([g.amount for g in groups], gap.rounding)
    cache: dict[object, Attribution] = {}
    out = []
    for group, amount in zip(groups, spread, strict=True):
        spend = replace(group, amount=amount)
        found = cache.get(spend.group)
        if found is None:
            found = cache[spend.group] = plan_attribution(directory, spend.group)
        out.append(AttributedSpend(spend, found))
    return out, gap


def _key_of(by: str) -> Callable[[AttributedSpend], tuple[str, str, str | None]]:
    """(key, label, reason) of a group for one dimension; a reason means Unallocated."""

    def team(s: AttributedSpend) -> tuple[str, str, str | None]:
        a = s.attribution
        return (str(a.team.id), a.team.name, None) if a.team else ("", "", a.team_reason)

    def cost_center(s: AttributedSpend) -> tuple[str, str, str | None]:
        a = s.attribution
        return (a.cost_center, a.cost_center, None) if a.cost_center else ("", "", a.cost_center_reason)

    def person(s: AttributedSpend) -> tuple[str, str, str | None]:
        a = s.attribution
        return (str(a.person.id), a.person.name, None) if a.person else ("", "", a.person_reason)

    def application(s: AttributedSpend) -> tuple[str, str, str | None]:
        app = s.attribution.application
        return (str(app.id), app.name, None) if app else ("", "", NO_APPLICATION)

    def product(s: AttributedSpend) -> tuple[str, str, str | None]:
        return (s.spend.product or "", s.spend.product or _NO_PRODUCT, None)

    choices = {"team": team, "cost_center": cost_center, "person": person, "application": application,
               "product": product}  # fmt: skip
    if by not in choices:
        raise UsageError(f"Cannot allocate by {by!r}; choose from {', '.join(ALLOCATION_DIMENSIONS)}.")
    return choices[by]


def plan_rows(by: str, attributed: Iterable[AttributedSpend]) -> list[AllocationRow]:
    """Sum the groups per key of `by`; Unallocated rows per reason, after the allocated ones."""
    key_of = _key_of(by)
    sums: dict[tuple[str, str | None], list[int]] = {}
    labels: dict[tuple[str, str | None], str] = {}
    for s in attributed:
        key, label, reason = key_of(s)
        slot = (key, reason)
        acc = sums.setdefault(slot, [0, 0])
        acc[0] += s.spend.amount
        acc[1] += s.spend.list_amount
        labels[slot] = label if reason is None else f"Unallocated: {reason}"
    slots = sorted(sums, key=lambda k: (k[1] is not None, -sums[k][0], labels[k].lower()))
    cents = plan_cents([sums[k][0] for k in slots])
    total = sum(v[0] for v in sums.values())
    rows = []
    for slot, shown in zip(slots, cents, strict=True):
        amount, list_amount = sums[slot]
        key, reason = slot
        share = (Decimal(amount) / total).quantize(_SHARE, rounding=ROUND_HALF_EVEN) if total else Decimal(0)
        rows.append(AllocationRow(
            key if reason is None else f"{UNALLOCATED_KEY}:{reason}", labels[slot], amount, list_amount,
            Decimal(shown).scaleb(-2), Decimal(list_amount).scaleb(-8), share, reason,
        ))  # fmt: skip
    return rows


def _imbalance_note(
    conn: Connection, tenant_id: int, total: int, allocated: int, gap: GrainGap
) -> str | None:
    if total == allocated:
        return None
    days = ", ".join(d.isoformat() for d in gap.days[:5]) + (" …" if len(gap.days) > 5 else "")
    note = (f"The allocated rows add up to {_cents(allocated)} USD where the organization's reported cost is "
            f"{_cents(total)} USD ({_cents(total - allocated):+} USD): the usage by actor does not add up to "
            f"the daily usage" + (f" on {days}." if days else "."))  # fmt: skip
    mismatches = list_events(conn, tenant_id=tenant_id, kind="mismatch", limit=1)
    if mismatches:
        note += f" See the mismatch event #{mismatches[0].id} in Events, and re-sync the days it names."
    else:
        note += " Re-sync the period (usageledger sync --since/--until) to fetch both grains again."
    return note


def allocate(
    conn: Connection, tenant_id: int, by: str, period: Period, organization: str | None = None
) -> Allocation:
    """The period's spend allocated by `by`, with Unallocated rows and the reported total to compare with.

    Raises UsageError for an unknown `by` or an organization the tenant has not connected.
    """
    _key_of(by)  # an unknown dimension fails before any query
    scope = SpendScope.load(conn, tenant_id, period.start, period.last_day, organization)
    attributed, gap = attribute_spend(conn, scope)
    rows = plan_rows(by, attributed)
    total, list_total = load_total(conn, scope)
    allocated = sum(r.amount_microcents for r in rows)
    return Allocation(by, period, organization, rows, total, list_total, allocated,
                      _imbalance_note(conn, tenant_id, total, allocated, gap))  # fmt: skip


def load_scope(
    conn: Connection, tenant_id: int, period: Period, organization: str | None = None
) -> tuple[SpendScope, Labels]:
    """The scope and names the detail pages (people, Unallocated) read beside `attribute_spend`."""
    return SpendScope.load(conn, tenant_id, period.start, period.last_day, organization), load_labels(
        conn, tenant_id
    )


__all__ += ["load_scope", "plan_rows", "plan_spread"]
