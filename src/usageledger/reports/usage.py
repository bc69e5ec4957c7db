"""Usage and cost queries, the read model behind every rendering.

Grouping, filtering, sorting, paging and totals all happen in SQL, on the smallest table holding every
field a query needs (the daily rollups by model, workspace or API key, else the rows themselves). A query
not grouped by date reads whole months from the rollup's monthly twin and only the days of a month it
cuts through from the daily one (`_parts`): a year is twelve rows a group, not 365. Stored ''
dimensions come back as None. Money is summed as exact integer micro-cents and returned as Decimal
dollars (see `rows`). `iter_usage` streams every group of a query in chunks, for exports of any size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    Subquery,
    Table,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)

from usageledger.errors import UsageError
from usageledger.models import DAILY, GROUP_FIELDS
from usageledger.store.connections import get_connection
from usageledger.store.rollups import monthly_for, next_month, table_for
from usageledger.store.tables import anthropic_api_keys, anthropic_workspaces, connections
from usageledger.store.tables import usage_rows as usage_table

from .rows import (
    GROUP_KEYS,
    USAGE_METRICS_JSON,
    USD_DECIMALS,
    CostReport,
    CostRow,
    UsageReport,
    UsageRow,
    share_of,
    usd_from_microcents,
)

__all__ = [
    "COST_METRICS",
    "FILTER_FIELDS",
    "USAGE_METRICS_JSON",
    "USD_DECIMALS",
    "CostReport",
    "CostRow",
    "UsageQuery",
    "UsageReport",
    "UsageRow",
    "iter_usage",
    "query_cost",
    "query_usage",
]

FILTER_FIELDS: tuple[str, ...] = tuple(f.name for f in DAILY.fields)
_FILTER_ALIASES = {**{f: f for f in FILTER_FIELDS}, **{GROUP_KEYS[f]: f for f in FILTER_FIELDS}}

COST_METRICS: tuple[str, ...] = ("amount_usd", "list_amount_usd")


def _usage_metric_exprs(t: Table) -> dict[str, ColumnElement[Any]]:
    c = t.c
    return {
        "input_tokens": func.sum(c.uncached_input_tokens),
        "output_tokens": func.sum(c.output_tokens),
        "cache_read_input_tokens": func.sum(c.cache_read_input_tokens),
        "cache_creation_input_tokens": func.sum(
            c.cache_creation_5m_input_tokens + c.cache_creation_1h_input_tokens
        ),
        "cache_creation_5m_input_tokens": func.sum(c.cache_creation_5m_input_tokens),
        "cache_creation_1h_input_tokens": func.sum(c.cache_creation_1h_input_tokens),
        "requests": func.sum(c.requests),
        "web_search_requests": func.sum(c.web_search_requests),
    }


def _cost_metric_exprs(t: Table) -> dict[str, ColumnElement[Any]]:
    return {
        "amount_usd": func.sum(t.c.amount_microcents),
        "list_amount_usd": func.sum(t.c.list_amount_microcents),
        "requests": func.sum(t.c.requests),
    }


# Named once: building the expressions per row cost ~2 ms a row (most of a large export's time).
_USAGE_SUM_NAMES: tuple[str, ...] = tuple(_usage_metric_exprs(usage_table))


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """What to read: scope, inclusive day range, grouping, filters, order and page."""

    tenant_id: int | None = None
    connection_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    group_by: tuple[str, ...] = ("date",)
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    order_by: str | None = None  # a group field or a metric; default: the group fields in order
    descending: bool = False
    limit: int | None = None
    offset: int = 0
    with_cost: bool = False  # usage rows also carry amount_usd, list_amount_usd and cost_share
    newest_first: bool = False  # grouped by date or month: newest period first, then `order_by`

    def __post_init__(self) -> None:
        unknown = [g for g in self.group_by if g not in GROUP_FIELDS]
        if unknown:
            raise UsageError(f"Cannot group by {', '.join(unknown)}; choose from {', '.join(GROUP_FIELDS)}.")
        if len(set(self.group_by)) != len(self.group_by):
            raise UsageError("Each group-by field may appear once.")
        bad = [k for k in self.filters if k not in _FILTER_ALIASES]
        if bad:
            raise UsageError(f"Cannot filter by {', '.join(bad)}; choose from {', '.join(FILTER_FIELDS)}.")
        if self.since and self.until and self.since > self.until:
            raise UsageError(f"--since {self.since} is after --until {self.until}.")
        if self.limit is not None and self.limit < 0 or self.offset < 0:
            raise UsageError("limit and offset must not be negative.")


# --- SQL ---------------------------------------------------------------------------------------------


def _bucket(t: Table) -> ColumnElement[Any]:
    """The table's time bucket: `day`, or a monthly rollup's `month` (its first day)."""
    return t.c.month if "month" in t.c else t.c.day


def _group_expr(conn: Connection, t: Table, name: str) -> ColumnElement[Any]:
    if name == "date":
        return t.c.day
    if name == "month":
        if conn.dialect.name == "postgresql":
            return func.to_char(_bucket(t), "YYYY-MM")
        return func.strftime("%Y-%m", _bucket(t))
    return t.c[GROUP_KEYS[name]]


def _check_scope(conn: Connection, q: UsageQuery) -> None:
    """A query of one connection must be of the tenant's (NotFoundError across tenants)."""
    if q.connection_id is not None:
        get_connection(conn, q.connection_id, q.tenant_id)


def _scope(t: Table, q: UsageQuery) -> list[ColumnElement[bool]]:
    """Which connections and dimension values `q` reads (not which days)."""
    clauses: list[ColumnElement[bool]] = []
    if q.connection_id is not None:
        clauses.append(t.c.connection_id == q.connection_id)
    elif q.tenant_id is not None:
        clauses.append(
            t.c.connection_id.in_(select(connections.c.id).where(connections.c.tenant_id == q.tenant_id))
        )
    for key, values in q.filters.items():
        column = t.c[GROUP_KEYS[_FILTER_ALIASES[key]]]
        clauses.append(column.in_([v or "" for v in values]))
    return clauses


def _days(t: Table, first: dt.date | None, last: dt.date | None) -> list[ColumnElement[bool]]:
    """Days (or months, on a monthly rollup: their first days) from `first` to `last`, both inclusive."""
    bucket = _bucket(t)
    return [
        *([bucket >= first] if first is not None else []),
        *([bucket <= last] if last is not None else []),
    ]


@dataclass(frozen=True, slots=True)
class _Part:
    """One table's share of a query: its rows in `scope` between `first` and `last` (None: open)."""

    table: Table
    first: dt.date | None
    last: dt.date | None


def _stored_between(conn: Connection, t: Table, q: UsageQuery, start: dt.date, end: dt.date) -> bool:
    """Whether `t` holds any row of `q`'s scope on days [start, end): one probe of its primary key."""
    probe = select(literal(1)).where(*_scope(t, q), t.c.day >= start, t.c.day < end).limit(1)
    return conn.execute(probe).first() is not None


def _parts(conn: Connection, kind: str, q: UsageQuery) -> list[_Part]:
    """The tables that answer `q` between them, each row counted once.

    By date, or at a grain only the rows hold: the one daily table. Otherwise the months the range covers
    come from the monthly rollup, and a month the range cuts through does too when the days cut off hold no
    row of the query's scope (this month up to today, say); else that month's days in range come from the
    daily rollup. Either way the sums are those of the days asked for, exactly.
    """
    columns = _columns_of(q)
    daily = table_for(kind, columns)
    monthly = monthly_for(kind, columns)
    if monthly is None or "date" in q.group_by:
        return [_Part(daily, q.since, q.until)]
    since, until = q.since, q.until
    if since is not None and until is not None and since.replace(day=1) == until.replace(day=1):
        month = since.replace(day=1)
        if _stored_between(conn, daily, q, month, since) or _stored_between(
            conn, daily, q, until + dt.timedelta(days=1), next_month(month)
        ):
            return [_Part(daily, since, until)]
        return [_Part(monthly, month, month)]
    parts: list[_Part] = []
    first_month = None if since is None else since.replace(day=1)
    if since is not None and since.day != 1 and _stored_between(conn, daily, q, since.replace(day=1), since):
        parts.append(_Part(daily, since, next_month(since) - dt.timedelta(days=1)))
        first_month = next_month(since)
    last_month = None if until is None else until.replace(day=1)
    after = None if until is None else until + dt.timedelta(days=1)
    if (
        until is not None
        and after is not None
        and after.day != 1
        and _stored_between(conn, daily, q, after, next_month(until))
    ):
        parts.append(_Part(daily, until.replace(day=1), until))
        last_month = (until.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # the month before
    if first_month is None or last_month is None or first_month <= last_month:
        parts.append(_Part(monthly, first_month, last_month))
    return parts


def _grouped_part(
    conn: Connection, part: _Part, q: UsageQuery, metrics: Mapping[str, ColumnElement[Any]]
) -> Select[Any]:
    """One table's rows of `q`, grouped: the group fields as g_<name>, then the metrics."""
    t = part.table
    groups = [(name, _group_expr(conn, t, name)) for name in q.group_by]
    inner: Select[Any] = select(
        *[expr.label(f"g_{name}") for name, expr in groups], *[expr.label(m) for m, expr in metrics.items()]
    ).where(*_scope(t, q), *_days(t, part.first, part.last))
    if groups:
        return inner.group_by(*[expr for _, expr in groups])
    return inner.having(func.count() > 0)


def _summed(q: UsageQuery, sides: Sequence[Select[Any]], names: Sequence[str]) -> Select[Any]:
    """Grouped selects of the same columns added up per group (one of them is returned as it is)."""
    if len(sides) == 1:
        return sides[0]
    both = union_all(*sides).subquery("parts")
    keys = [both.c[f"g_{name}"] for name in q.group_by]
    summed = select(*keys, *[func.sum(both.c[m]).label(m) for m in names])
    return summed.group_by(*keys) if keys else summed.having(func.count() > 0)


def _grouped(
    conn: Connection,
    kind: str,
    q: UsageQuery,
    metrics_of: Callable[[Table], Mapping[str, ColumnElement[Any]]],
) -> tuple[list[Select[Any]], list[str]]:
    """`q`'s rows of one kind grouped, one select per part (see `_parts`), and the metric names."""
    selects, names = [], []
    for part in _parts(conn, kind, q):
        metrics = metrics_of(part.table)
        selects.append(_grouped_part(conn, part, q, metrics))
        names = list(metrics)
    return selects, names


def _usage_with_cost(conn: Connection, q: UsageQuery) -> tuple[Select[Any], list[str]]:
    """Usage and cost sums side by side per group, over the same filters and grain.

    The two are stored apart (and a group may have cost but no tokens: web search, code execution), so
    each table is grouped on its own and the two results are added up per group: UNION ALL, then SUM.
    """
    zero: ColumnElement[Any] = literal_column("0")
    nothing: ColumnElement[Any] = null()

    def usage_side(t: Table) -> dict[str, ColumnElement[Any]]:
        return {**_usage_metric_exprs(t), "amount_usd": zero, "list_amount_usd": zero}

    def cost_side(t: Table) -> dict[str, ColumnElement[Any]]:
        cost = _cost_metric_exprs(t)
        return {
            **{m: nothing if m == "requests" else zero for m in _USAGE_SUM_NAMES},
            "amount_usd": cost["amount_usd"],
            "list_amount_usd": cost["list_amount_usd"],
        }

    usage_selects, names = _grouped(conn, "usage", q, usage_side)
    cost_selects, _ = _grouped(conn, "cost", q, cost_side)
    return _summed(q, [*usage_selects, *cost_selects], names), names


def _ordered(
    q: UsageQuery, grouped: Select[Any], metrics: Sequence[str]
) -> tuple[Subquery, list[ColumnElement[Any]]]:
    """The grouped rows as a subquery, and a total order over them.

    Newest period first if asked, then the order asked for, then every other group field: groups are
    unique, so pages never overlap.
    """
    sub = grouped.subquery("g")
    used: list[str] = []
    order: list[ColumnElement[Any]] = []
    if q.newest_first:
        period = next((p for p in ("date", "month") if p in q.group_by), None)
        if period is not None:
            order.append(sub.c[f"g_{period}"].desc())
            used.append(period)
    order_key = q.order_by or (q.group_by[0] if q.group_by else None)
    if order_key is not None and order_key not in used:
        if order_key in q.group_by:
            column = sub.c[f"g_{order_key}"]
        elif order_key in metrics:
            column = sub.c[order_key]
        else:
            choices = ", ".join((*q.group_by, *metrics))
            raise UsageError(f"Cannot order by {order_key}; choose from {choices}.")
        order.append(column.desc() if q.descending else column.asc())
        used.append(order_key)
    order += [sub.c[f"g_{name}"].asc() for name in q.group_by if name not in used]
    return sub, order


def _run(
    conn: Connection, q: UsageQuery, grouped: Select[Any], metrics: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """Execute the grouped query: one page of groups, totals over every group, and the group count."""
    sub, order = _ordered(q, grouped, metrics)
    page = select(
        sub,
        func.count().over().label("_total_rows"),
        *[func.sum(sub.c[m]).over().label(f"_total_{m}") for m in metrics],
    ).order_by(*order)
    if q.limit is not None:
        page = page.limit(q.limit)
    if q.offset:
        page = page.offset(q.offset)
    rows = [dict(row._mapping) for row in conn.execute(page)]
    if rows:
        first = rows[0]
        totals = {m: first[f"_total_{m}"] for m in metrics}
        return rows, totals, int(first["_total_rows"])
    summary = conn.execute(
        select(func.count().label("_total_rows"), *[func.sum(sub.c[m]).label(m) for m in metrics])
    ).one()
    return [], {m: summary._mapping[m] for m in metrics}, int(summary._mapping["_total_rows"])


def _names(conn: Connection, q: UsageQuery, rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Names beside the ids on this page: workspaces, API keys, organizations."""
    out: dict[str, dict[str, str]] = {"organization": {}, "workspace": {}, "api_key": {}}
    for group, table, name_col in (
        ("workspace", anthropic_workspaces, anthropic_workspaces.c.name),
        ("api_key", anthropic_api_keys, anthropic_api_keys.c.name),
    ):
        if group not in q.group_by:
            continue
        ids = {row[f"g_{group}"] for row in rows} - {""}
        if ids:
            query = select(table.c.id, name_col).where(table.c.id.in_(ids))
            if q.connection_id is not None:
                query = query.where(table.c.connection_id == q.connection_id)
            out[group] = {row.id: row.name for row in conn.execute(query)}
    if "organization" in q.group_by:
        query = select(connections.c.organization_id, connections.c.organization_name).where(
            connections.c.organization_id.is_not(None)
        )
        if q.tenant_id is not None:
            query = query.where(connections.c.tenant_id == q.tenant_id)
        out["organization"] = {r.organization_id: r.organization_name for r in conn.execute(query)}
    return out


def _grouped_values(q: UsageQuery, row: dict[str, Any], names: dict[str, dict[str, str]]) -> dict[str, Any]:
    values: dict[str, Any] = {"group_by": q.group_by}
    for name in q.group_by:
        value = row[f"g_{name}"]
        if isinstance(value, str) and name == "date":  # defensive: a driver that returns text
            value = dt.date.fromisoformat(value)
        values[GROUP_KEYS[name]] = None if value == "" else value
        if name in names and value:
            values[f"{name}_name"] = names[name].get(value)
    return values


def _usage_values(sums: Mapping[str, Any], cost_total: Any = None) -> dict[str, Any]:
    """Token sums as ints; with cost (`amount_usd` present), Decimal dollars and the share of `cost_total`."""
    out: dict[str, Any] = {m: int(sums[m] or 0) for m in _USAGE_SUM_NAMES if m != "requests"}
    out["requests"] = None if sums["requests"] is None else int(sums["requests"])
    if "amount_usd" in sums:
        amount = usd_from_microcents(sums["amount_usd"])
        out["amount_usd"] = amount
        out["list_amount_usd"] = usd_from_microcents(sums["list_amount_usd"])
        out["cost_share"] = share_of(amount, usd_from_microcents(cost_total))
    return out


def _cost_values(sums: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "amount_usd": usd_from_microcents(sums["amount_usd"]),
        "list_amount_usd": usd_from_microcents(sums["list_amount_usd"]),
        "requests": None if sums["requests"] is None else int(sums["requests"]),
    }


def _columns_of(q: UsageQuery, *extra: str) -> list[str]:
    """The stored columns a query reads: its group fields, filters and order (date and month are `day`)."""
    fields = [*q.group_by, *(_FILTER_ALIASES[k] for k in q.filters)]
    if q.order_by in GROUP_FIELDS:
        fields.append(q.order_by)
    return [GROUP_KEYS.get(f, "day") for f in fields if f not in ("date", "month")] + list(extra)


def _usage_source(conn: Connection, q: UsageQuery) -> tuple[Select[Any], list[str]]:
    """The grouped usage select of `q` (with cost beside it if asked) and its metric names."""
    _check_scope(conn, q)
    if q.with_cost:
        return _usage_with_cost(conn, q)
    selects, names = _grouped(conn, "usage", q, _usage_metric_exprs)
    return _summed(q, selects, names), names


def query_usage(conn: Connection, q: UsageQuery) -> UsageReport:
    """Usage grouped, filtered, sorted and paged as `q` says, with totals over the whole filtered set.

    With `q.with_cost`, each row and the totals carry the cost of the same group and its share of the total.
    """
    rows, totals, total_rows = _run(conn, q, *_usage_source(conn, q))
    names = _names(conn, q, rows)
    cost_total = totals.get("amount_usd")
    return UsageReport(
        rows=[UsageRow(**_grouped_values(q, row, names), **_usage_values(row, cost_total)) for row in rows],
        totals=UsageRow(**_usage_values(totals, cost_total)),
        total_rows=total_rows,
    )


def query_cost(conn: Connection, q: UsageQuery) -> CostReport:
    """Cost grouped like `query_usage`; amounts are Decimal dollars."""
    _check_scope(conn, q)
    selects, metrics = _grouped(conn, "cost", q, _cost_metric_exprs)
    rows, totals, total_rows = _run(conn, q, _summed(q, selects, metrics), metrics)
    names = _names(conn, q, rows)
    return CostReport(
        rows=[CostRow(**_grouped_values(q, row, names), **_cost_values(row)) for row in rows],
        totals=CostRow(**_cost_values(totals)),
        total_rows=total_rows,
    )


def iter_usage(conn: Connection, q: UsageQuery, chunk_rows: int = 1000) -> Iterator[list[UsageRow]]:
    """Every group of `q` (limit and offset ignored), in its order, `chunk_rows` at a time.

    The query runs with a streaming cursor (server-side on PostgreSQL) and is fetched a chunk at a
    time, so memory holds one chunk whatever the range. The query is checked before this returns
    (a bad sort key raises here); rows are read as the chunks are taken.
    """
    grouped, metrics = _usage_source(conn, q)
    sub, order = _ordered(q, grouped, metrics)
    # The period's cost total rides along (a window sum, computed by the database) for each row's share.
    total = [func.sum(sub.c.amount_usd).over().label("_cost_total")] if q.with_cost else []
    result = conn.execute(
        select(sub, *total).order_by(*order),
        execution_options={"stream_results": True, "yield_per": chunk_rows},
    )
    return _usage_chunks(conn, q, result.mappings().partitions())


def _usage_chunks(
    conn: Connection, q: UsageQuery, partitions: Iterator[Sequence[RowMapping]]
) -> Iterator[list[UsageRow]]:
    for part in partitions:
        rows = [dict(row) for row in part]
        names = _names(conn, q, rows)
        yield [
            UsageRow(**_grouped_values(q, row, names), **_usage_values(row, row.get("_cost_total")))
            for row in rows
        ]
