"""Cost by type and what the cache saved, read from the cost stored per cost type and token type.

The cost endpoints break cost out by component (`cost_type`: tokens, web search, code execution, session
usage) and, for tokens, by token type; the sync stores that breakdown and sums it per organization ×
model × cost type × token type a day (the `model_cost_type` rollup). Rows stored before the breakdown
existed have '' for both: a combined total, shown as "not broken out" until a re-sync replaces them.

What the cache saved, per model: cache-read tokens × the model's effective uncached-input cost per token
(its stored `uncached_input_tokens` cost ÷ its uncached input tokens) − its stored cache-read cost. Days of
a model with no breakdown (or no uncached input to price a token by) fall back to a list-price estimate,
and the card says which was used.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, case, func, select

from usageledger.models import DAILY
from usageledger.reports.list_prices import LIST_PRICES_AS_OF, LIST_PRICES_SOURCE, list_price
from usageledger.reports.rows import USD_DECIMALS, usd_from_microcents
from usageledger.store.rollups import table_for
from usageledger.store.tables import connections

__all__ = [
    "COST_TYPE_LABELS",
    "CacheEffect",
    "CacheReads",
    "CostTypeShare",
    "plan_cache_effect",
    "plan_cache_reads",
    "plan_cache_saving",
    "plan_cost_type_shares",
    "query_cache_reads",
    "query_cost_breakdown",
    "query_cost_by_type",
]

_ZERO = Decimal(0)
_SHARE = Decimal("0.0001")
_USD = Decimal(1).scaleb(-USD_DECIMALS)
_CACHE_READ = "cache_read_input_tokens"
_UNCACHED = "uncached_input_tokens"
_NOT_BROKEN_OUT = ""
# Every cost type the API names, in the order the card lists them; '' is a combined total.
COST_TYPE_LABELS: dict[str, str] = {
    "tokens": "Tokens",
    "web_search": "Web search",
    "code_execution": "Code execution",
    "session_usage": "Session usage",
    _NOT_BROKEN_OUT: "Not broken out (synced before cost types were stored)",
}
_BREAKDOWN = DAILY.cost_breakdown  # (cost type, token type), as the cost rows are keyed
# The rollup the breakdown is read from: organization, model and the breakdown, per day.
_COLUMNS = ("organization_id", "model", *_BREAKDOWN)


@dataclass(frozen=True, slots=True)
class CostTypeShare:
    cost_type: str | None  # None: rows that were not broken out
    label: str
    amount: Decimal
    share: Decimal  # of the period's cost, 0..1


@dataclass(frozen=True, slots=True)
class CacheEffect:
    """Cache reads in the period and what they saved, from stored costs where they are broken out."""

    cache_read_tokens: int
    input_tokens: int  # every input token: uncached + cache read + cache write
    share: Decimal | None  # of input served from cache, 0..1
    saved_usd: Decimal
    unpriced_models: list[str]  # cache reads priced neither by stored costs nor a list price: left out
    method: str  # stored_costs | list_prices | mixed | none
    basis: str


def _scope(
    t: Table, tenant_id: int | None, since: dt.date, until: dt.date, organization: str | None
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [t.c.day >= since, t.c.day <= until]
    if tenant_id is not None:
        clauses.append(
            t.c.connection_id.in_(select(connections.c.id).where(connections.c.tenant_id == tenant_id))
        )
    if organization is not None:
        clauses.append(t.c.organization_id == organization)
    return clauses


def query_cost_breakdown(
    conn: Connection,
    *,
    tenant_id: int | None,
    since: dt.date,
    until: dt.date,
    organization: str | None = None,
) -> dict[tuple[dt.date, str, str], dict[tuple[str, ...], int]]:
    """(day, organization, model) → (cost type, token type) → summed micro-cents ('' where none)."""
    t = table_for("cost", _COLUMNS)
    keys = [t.c.day, t.c.organization_id, t.c.model, *[t.c[name] for name in _BREAKDOWN]]
    rows = conn.execute(
        select(*keys, func.sum(t.c.amount_microcents))
        .where(*_scope(t, tenant_id, since, until, organization))
        .group_by(*keys)
    )
    out: dict[tuple[dt.date, str, str], dict[tuple[str, ...], int]] = defaultdict(dict)
    for row in rows:
        day, org, model, amount = row[0], row[1], row[2], row[-1]
        out[(_date(day), org, model)][tuple(row[3:-1])] = int(amount or 0)
    return out


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def plan_cost_by_type(cells: dict[Any, dict[tuple[str, ...], int]]) -> list[CostTypeShare]:
    """The period's cost per cost type: every named type (zero included), then what was not broken out."""
    at = _BREAKDOWN.index("cost_type")
    sums: dict[str, int] = {}
    for cost in cells.values():
        for breakdown, amount in cost.items():
            sums[breakdown[at]] = sums.get(breakdown[at], 0) + amount
    return plan_cost_type_shares(sums)


def plan_cost_type_shares(sums: dict[str, int]) -> list[CostTypeShare]:
    """`plan_cost_by_type` from the micro-cents per cost type ('' for not broken out) already summed."""
    sums = {**dict.fromkeys(COST_TYPE_LABELS, 0), **sums}
    total = usd_from_microcents(sum(sums.values()))
    out = []
    for cost_type, microcents in sums.items():
        if cost_type == _NOT_BROKEN_OUT and not microcents:
            continue
        dollars = usd_from_microcents(microcents)
        share = (dollars / total).quantize(_SHARE, rounding=ROUND_HALF_EVEN) if total else _ZERO
        label = COST_TYPE_LABELS.get(cost_type, cost_type.replace("_", " ").capitalize())
        out.append(CostTypeShare(cost_type or None, label, dollars, share))
    return out


def query_cost_by_type(
    conn: Connection,
    *,
    tenant_id: int | None,
    since: dt.date,
    until: dt.date,
    organization: str | None = None,
) -> dict[str, int]:
    """Cost type ('' where not broken out) → summed micro-cents, summed by the database."""
    t = table_for("cost", _COLUMNS)
    rows = conn.execute(
        select(t.c.cost_type, func.sum(t.c.amount_microcents))
        .where(*_scope(t, tenant_id, since, until, organization))
        .group_by(t.c.cost_type)
    )
    return {cost_type: int(amount or 0) for cost_type, amount in rows}


def query_usage_by_model_day(
    conn: Connection,
    *,
    tenant_id: int | None,
    since: dt.date,
    until: dt.date,
    organization: str | None = None,
) -> dict[tuple[dt.date, str, str], tuple[int, int]]:
    """(day, organization, model) → (uncached input tokens, cache-read tokens)."""
    t = table_for("usage", ("organization_id", "model"))
    keys = [t.c.day, t.c.organization_id, t.c.model]
    rows = conn.execute(
        select(*keys, func.sum(t.c[_UNCACHED]), func.sum(t.c[_CACHE_READ]))
        .where(*_scope(t, tenant_id, since, until, organization))
        .group_by(*keys)
    )
    return {(_date(r[0]), r[1], r[2]): (int(r[3] or 0), int(r[4] or 0)) for r in rows}


@dataclass(frozen=True, slots=True)
class CacheReads:
    """A period's cache reads per model, split by how they can be priced.

    `priced`: model → (uncached input tokens, their stored cost, cache-read tokens, their stored cost),
    summed over the (day, organization, model) cells whose cost is broken out by token type; `unbroken`:
    model → cache-read tokens of the cells that are not (or have no cost stored).
    """

    priced: dict[str, tuple[int, int, int, int]]
    unbroken: dict[str, int]


def plan_cache_reads(
    usage: dict[tuple[dt.date, str, str], tuple[int, int]],
    cost: dict[tuple[dt.date, str, str], dict[tuple[str, ...], int]],
) -> CacheReads:
    """Each cell with cache reads, to the model's priced or unbroken reads (pure; `query_cache_reads` in SQL)."""
    tt = _BREAKDOWN.index("token_type")
    # Per model: tokens and micro-cents of the cells that are broken out; cache reads of those that are not.
    priced: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # uncached, its cost, read, its cost
    unbroken: dict[str, int] = defaultdict(int)
    for key, (uncached, read) in usage.items():
        model = key[2]
        if not read or not model:
            continue
        by_type: dict[str, int] = defaultdict(int)
        for b, amount in cost.get(key, {}).items():
            if any(b):
                by_type[b[tt]] += amount
        if _UNCACHED in by_type or _CACHE_READ in by_type:
            p = priced[model]
            p[0] += uncached
            p[1] += by_type.get(_UNCACHED, 0)
            p[2] += read
            p[3] += by_type.get(_CACHE_READ, 0)
        else:
            unbroken[model] += read
    return CacheReads({m: (p[0], p[1], p[2], p[3]) for m, p in priced.items()}, dict(unbroken))


def query_cache_reads(
    conn: Connection,
    *,
    tenant_id: int | None,
    since: dt.date,
    until: dt.date,
    organization: str | None = None,
) -> CacheReads:
    """`plan_cache_reads` of the stored usage and cost, done by the database: it joins the (day, organization,
    model) cells and returns a few rows per model, where reading the cells took ~0.4 s for a year of 15
    organizations (70k cells built into dicts in Python)."""
    u_t, c_t = table_for("usage", ("organization_id", "model")), table_for("cost", _COLUMNS)
    u_keys = [u_t.c.day, u_t.c.organization_id, u_t.c.model]
    read = func.sum(u_t.c[_CACHE_READ])
    cells = (
        select(*u_keys, func.sum(u_t.c[_UNCACHED]).label("uncached"), read.label("read"))
        .where(*_scope(u_t, tenant_id, since, until, organization), u_t.c.model != "")
        .group_by(*u_keys)
        .having(read != 0)
        .subquery("cells")
    )
    c_keys = [c_t.c.day, c_t.c.organization_id, c_t.c.model]
    token_type, amount = c_t.c.token_type, c_t.c.amount_microcents
    costs = (
        select(
            *c_keys,
            func.sum(case((token_type == _UNCACHED, amount), else_=0)).label("uncached_cost"),
            func.sum(case((token_type == _CACHE_READ, amount), else_=0)).label("read_cost"),
        )
        .where(*_scope(c_t, tenant_id, since, until, organization), token_type.in_((_UNCACHED, _CACHE_READ)))
        .group_by(*c_keys)
        .subquery("costs")
    )
    broken = costs.c.day.is_not(None).label("broken")
    joined = cells.outerjoin(
        costs,
        and_(
            cells.c.day == costs.c.day,
            cells.c.organization_id == costs.c.organization_id,
            cells.c.model == costs.c.model,
        ),
    )
    rows = conn.execute(
        select(
            cells.c.model,
            broken,
            func.sum(cells.c.uncached),
            func.sum(costs.c.uncached_cost),
            func.sum(cells.c.read),
            func.sum(costs.c.read_cost),
        )
        .select_from(joined)
        .group_by(cells.c.model, broken)
    )
    priced: dict[str, tuple[int, int, int, int]] = {}
    unbroken: dict[str, int] = {}
    for model, is_broken, uncached, uncached_cost, reads, read_cost in rows:
        if is_broken:
            priced[model] = (
                int(uncached or 0),
                int(uncached_cost or 0),
                int(reads or 0),
                int(read_cost or 0),
            )
        else:
            unbroken[model] = int(reads or 0)
    return CacheReads(priced, unbroken)


def plan_cache_effect(
    usage: dict[tuple[dt.date, str, str], tuple[int, int]],
    cost: dict[tuple[dt.date, str, str], dict[tuple[str, ...], int]],
    *,
    cache_read_tokens: int,
    input_tokens: int,
) -> CacheEffect:
    """What the cache saved (pure): from stored token-type costs where a day has them, else list prices."""
    return plan_cache_saving(
        plan_cache_reads(usage, cost), cache_read_tokens=cache_read_tokens, input_tokens=input_tokens
    )


def plan_cache_saving(reads: CacheReads, *, cache_read_tokens: int, input_tokens: int) -> CacheEffect:
    """What the cache saved (pure), from the reads per model as `plan_cache_reads` sorts them."""
    unbroken: dict[str, int] = defaultdict(int, reads.unbroken)
    saved, unpriced = _ZERO, set()
    from_costs = from_list = False
    # Models in name order: the same sum of Decimals whichever way the reads were gathered.
    for model, (uncached, uncached_cost, read, read_cost) in sorted(reads.priced.items()):
        if uncached and uncached_cost:
            per_token = usd_from_microcents(uncached_cost) / uncached
            saved += read * per_token - usd_from_microcents(read_cost)
            from_costs = True
        else:  # no uncached input to price a token by: the list price it is
            unbroken[model] += read
    for model, read in sorted(unbroken.items()):
        price = list_price(model)
        if price is None:
            unpriced.add(model)
        else:
            saved += read * price.cache_saving_per_token
            from_list = True
    method = {(True, False): "stored_costs", (False, True): "list_prices", (True, True): "mixed"}.get(
        (from_costs, from_list), "none"
    )
    return CacheEffect(
        cache_read_tokens=cache_read_tokens,
        input_tokens=input_tokens,
        share=Decimal(cache_read_tokens) / input_tokens if input_tokens else None,
        saved_usd=saved.quantize(_USD, rounding=ROUND_HALF_EVEN),
        unpriced_models=sorted(unpriced),
        method=method,
        basis=_basis(method),
    )


_FROM_COSTS = (
    "From the stored cost per token type: per model, cache-read tokens × its uncached-input cost per token "
    "(stored uncached-input cost ÷ uncached input tokens) − its stored cache-read cost."
)
_FROM_LIST = (
    f"at standard list prices as of {LIST_PRICES_AS_OF} ({LIST_PRICES_SOURCE}): cache-read tokens × (input − "
    "cache-read list price) per model; batch, long-context and negotiated prices are not taken into account."
)


def _basis(method: str) -> str:
    if method == "stored_costs":
        return _FROM_COSTS
    if method == "mixed":
        return (
            f"{_FROM_COSTS} Days without a cost breakdown (synced before it was stored) are an estimate "
            + _FROM_LIST
        )
    return "Estimate " + _FROM_LIST


__all__ += ["plan_cost_by_type", "query_usage_by_model_day"]
