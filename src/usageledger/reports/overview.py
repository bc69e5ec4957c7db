"""The spend overview: where the money goes, in one object the page, the JSON API and the CLI render.

Every figure comes from the usage read model (`query_cost`, `query_usage` over the daily rollups), so
it equals what the usage pages and API say for the same days. The arithmetic on top of it (the
comparison, the forecast) is in `reports.forecast`, pure.

Provisional days: a sync re-fetches the last `lookback_days` days because Anthropic revises them, so
today and the `lookback_days - 1` days before it can still change; they are flagged wherever a day shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection

from usageledger.errors import UsageError
from usageledger.reports.cost_types import (
    CacheEffect,
    CostTypeShare,
    plan_cache_saving,
    plan_cost_type_shares,
    query_cache_reads,
    query_cost_by_type,
)
from usageledger.reports.forecast import Forecast, plan_change, plan_forecast
from usageledger.reports.periods import Period, comparable_previous, first_provisional_day, resolve_period
from usageledger.reports.status import ConnectionStatus, status_report
from usageledger.reports.usage import USD_DECIMALS, CostRow, UsageQuery, query_cost, query_usage

__all__ = [
    "TOP_N",
    "CacheEffect",
    "ConnectionCard",
    "CostTypeShare",
    "DayCost",
    "OrganizationOption",
    "Overview",
    "TopEntry",
    "TopTable",
    "build_overview",
]

TOP_N = 5
_ZERO = Decimal(0)
_SHARE = Decimal("0.0001")  # shares are fractions kept to 0.01 %
_USD = Decimal(1).scaleb(-USD_DECIMALS)
# What a missing dimension means, per Anthropic's usage reports.
_NONE_LABELS = {
    "model": "No model (tool use)",
    "workspace": "Default workspace",
    "api_key": "No API key (Console)",
    "organization": "Unknown organization",
}
_TOP_DIMENSIONS = (("model", "models"), ("workspace", "workspaces"), ("api_key", "API keys"))


@dataclass(frozen=True, slots=True)
class OrganizationOption:
    id: str
    name: str
    connection_id: int


@dataclass(frozen=True, slots=True)
class TopEntry:
    """One row of a top-5 table; `key` None with `other` True is the rest folded together."""

    key: str | None
    label: str
    organization_id: str | None
    organization_name: str | None
    amount: Decimal
    share: Decimal  # fraction of the period's total, 0..1
    connection_id: int | None = None  # whose detail page the row links to
    other: bool = False


@dataclass(frozen=True, slots=True)
class TopTable:
    dimension: str  # model | workspace | api_key | organization
    title: str  # lower case but for names: "models", "API keys"
    rows: list[TopEntry]
    total: Decimal
    show_organization: bool  # the table mixes organizations


@dataclass(frozen=True, slots=True)
class DayCost:
    day: dt.date
    amount: Decimal
    previous_day: dt.date | None  # the comparable day of the previous period
    previous_amount: Decimal | None
    provisional: bool


@dataclass(frozen=True, slots=True)
class ConnectionCard:
    id: int
    name: str
    organization_name: str | None
    state: str
    last_sync_succeeded_at: dt.datetime | None
    data_refreshed_at: dt.datetime | None
    warning: str | None  # why this connection's figures may be out of date


@dataclass(frozen=True)
class Overview:
    today: dt.date
    period: Period
    previous: Period
    organization: str | None  # the filter, or None for every organization together
    organizations: list[OrganizationOption]
    cost: Decimal
    list_cost: Decimal
    previous_cost: Decimal
    change_pct: Decimal | None
    forecast: Forecast
    last_month: Period
    last_month_cost: Decimal
    top: list[TopTable]
    days: list[DayCost]
    provisional_from: dt.date
    cache: CacheEffect
    cost_by_type: list[
        CostTypeShare
    ]  # tokens, web search, code execution, session usage (and not broken out)
    connections: list[ConnectionCard]

    @property
    def discount(self) -> Decimal:
        return self.list_cost - self.cost

    @property
    def discount_pct(self) -> Decimal | None:
        return None if self.list_cost == 0 else self.discount / self.list_cost * 100

    @property
    def organization_name(self) -> str | None:
        return next((o.name for o in self.organizations if o.id == self.organization), None)


def _share(amount: Decimal, total: Decimal) -> Decimal:
    return (amount / total).quantize(_SHARE, rounding=ROUND_HALF_EVEN) if total else _ZERO


def _label(dimension: str, row: CostRow) -> tuple[str | None, str]:
    key = {"model": row.model, "workspace": row.workspace_id, "api_key": row.api_key_id,
           "organization": row.organization_id}[dimension]  # fmt: skip
    name = {"workspace": row.workspace_name, "api_key": row.api_key_name,
            "organization": row.organization_name}.get(dimension)  # fmt: skip
    return key, name or key or _NONE_LABELS[dimension]


def _top_table(
    conn: Connection, base: UsageQuery, dimension: str, title: str, orgs: dict[str, OrganizationOption]
) -> TopTable:
    """The five costliest values of `dimension` (per organization) with their share, the rest as "Other"."""
    group = ("organization",) if dimension == "organization" else ("organization", dimension)
    report = query_cost(
        conn, _replace(base, group_by=group, order_by="amount_usd", descending=True, limit=TOP_N)
    )
    total = report.totals.amount_usd
    rows = []
    for row in report.rows:
        key, label = _label(dimension, row)
        org = orgs.get(row.organization_id or "")
        rows.append(TopEntry(key, label, row.organization_id, row.organization_name or (org.name if org else None),
                             row.amount_usd, _share(row.amount_usd, total),
                             org.connection_id if org else None))  # fmt: skip
    rest = total - sum((r.amount for r in rows), _ZERO)
    if report.total_rows > len(rows) and total:
        share = Decimal(1) - sum((r.share for r in rows), _ZERO)
        rows.append(
            TopEntry(None, f"Other ({report.total_rows - len(rows)})", None, None, rest, share, other=True)
        )
    mixed = len(orgs) > 1 and not base.filters and dimension != "organization"
    return TopTable(dimension, title, rows, total, show_organization=mixed)


def _replace(q: UsageQuery, **changes: Any) -> UsageQuery:
    values = {name: getattr(q, name) for name in UsageQuery.__dataclass_fields__}
    values.update(changes)
    return UsageQuery(**values)


def _cache_and_cost_types(
    conn: Connection, base: UsageQuery, organization: str | None
) -> tuple[CacheEffect, list[CostTypeShare]]:
    """What the cache saved and the cost per type, from the stored cost breakdown (see `cost_types`).

    The database sums both to a few rows: reading a year's (day, organization, model) cells into Python
    was most of a year-to-date overview's time (~0.4 s of 0.6 s on 15 organizations).
    """
    assert base.since is not None and base.until is not None
    tenant, since, until = base.tenant_id, base.since, base.until
    reads = query_cache_reads(conn, tenant_id=tenant, since=since, until=until, organization=organization)
    totals = query_usage(conn, _replace(base, group_by=())).totals
    all_input = totals.input_tokens + totals.cache_read_input_tokens + totals.cache_creation_input_tokens
    cache = plan_cache_saving(reads, cache_read_tokens=totals.cache_read_input_tokens, input_tokens=all_input)
    by_type = query_cost_by_type(conn, tenant_id=tenant, since=since, until=until, organization=organization)
    return cache, plan_cost_type_shares(by_type)


def _card(status: ConnectionStatus, now: dt.datetime, stale_after: dt.timedelta) -> ConnectionCard:
    c = status.connection
    state = "syncing" if status.sync_running else status.state
    warning = None
    if state == "disconnected":
        warning = "Disconnected: its data is kept but no longer synced."
    elif state == "error" or status.last_error:
        warning = f"Failing: {status.last_error or 'the last sync failed'}"
    elif c.last_sync_succeeded_at is None:
        warning = "Not synced yet: figures will appear after the first sync."
    elif now - c.last_sync_succeeded_at > stale_after:
        warning = (
            f"Stale: the last successful sync is older than {stale_after.total_seconds() / 3600:g} hours."
        )
    return ConnectionCard(c.id, c.name, c.organization_name, state, c.last_sync_succeeded_at,
                          c.data_refreshed_at, warning)  # fmt: skip


def _days(
    period: Period, previous: Period, daily: dict[dt.date, Decimal], first_provisional: dt.date
) -> list[DayCost]:
    out = []
    for i in range(period.days):
        day = period.start + dt.timedelta(days=i)
        before = previous.start + dt.timedelta(days=i)
        has_before = previous.contains(before)
        out.append(DayCost(day, daily.get(day, _ZERO), before if has_before else None,
                           daily.get(before, _ZERO) if has_before else None, day >= first_provisional))  # fmt: skip
    return out


def _sum(daily: dict[dt.date, Decimal], period: Period) -> Decimal:
    return sum((v for d, v in daily.items() if period.contains(d)), _ZERO)


def build_overview(
    conn: Connection,
    *,
    tenant_id: int,
    period: Period,
    today: dt.date,
    organization: str | None = None,
    lookback_days: int = 3,
    sync_interval_hours: float = 6.0,
    now: dt.datetime | None = None,
) -> Overview:
    """The overview of `period` for one tenant, of every organization together or of one.

    Raises UsageError for an organization the tenant has not connected.
    """
    now = now or dt.datetime.now(dt.UTC)
    statuses = status_report(conn, tenant_id=tenant_id)
    orgs: dict[str, OrganizationOption] = {}
    for s in statuses:
        c = s.connection
        if c.organization_id and c.organization_id not in orgs:
            orgs[c.organization_id] = OrganizationOption(
                c.organization_id, c.organization_name or c.organization_id, c.id
            )
    if organization is not None and organization not in orgs:
        raise UsageError(
            f"No connected organization has the id {organization!r}; choose one from the list or show all."
        )
    filters = {"organization": [organization]} if organization else {}
    previous = comparable_previous(period)
    last_month = resolve_period("last-month", None, None, today=today)
    this_month = resolve_period("this-month", None, None, today=today)
    reach = [period, previous, last_month, this_month]
    since = min(min(p.start for p in reach), today - dt.timedelta(days=15))
    until = max(p.last_day for p in reach)
    by_day = query_cost(conn, UsageQuery(tenant_id=tenant_id, since=since, until=until, group_by=("date",),
                                         filters=filters))  # fmt: skip
    daily = {row.date: row.amount_usd for row in by_day.rows if row.date is not None}
    list_daily = {row.date: row.list_amount_usd for row in by_day.rows if row.date is not None}
    scoped = [s for s in statuses if organization is None or s.connection.organization_id == organization]
    first_days = [s.connection.first_day for s in scoped if s.connection.first_day is not None]
    first_provisional = first_provisional_day(today, lookback_days)
    base = UsageQuery(tenant_id=tenant_id, since=period.start, until=period.last_day, filters=filters)
    top = [_top_table(conn, base, dim, title, orgs) for dim, title in _TOP_DIMENSIONS]
    if len(orgs) > 1 and organization is None:
        top.append(_top_table(conn, base, "organization", "organizations", orgs))
    cost, previous_cost = _sum(daily, period), _sum(daily, previous)
    stale_after = dt.timedelta(hours=2 * (sync_interval_hours or 24))
    cache, cost_by_type = _cache_and_cost_types(conn, base, organization)
    return Overview(
        today=today,
        period=period,
        previous=previous,
        organization=organization,
        organizations=sorted(orgs.values(), key=lambda o: (o.name.lower(), o.id)),
        cost=cost,
        list_cost=_sum(list_daily, period),
        previous_cost=previous_cost,
        change_pct=plan_change(cost, previous_cost),
        forecast=plan_forecast(daily, today=today, first_day=min(first_days, default=None)),
        last_month=last_month,
        last_month_cost=_sum(daily, last_month),
        top=top,
        days=_days(period, previous, daily, first_provisional),
        provisional_from=first_provisional,
        cache=cache,
        cost_by_type=cost_by_type,
        connections=[_card(s, now, stale_after) for s in scoped],
    )
