"""Read views the routes render: each composes store and report calls for one page or API answer.

Routes call one of these; none of them holds SQL (that lives in the store and the reports).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import Connection

from usageledger.jobs import NextSync, plan_next_sync
from usageledger.models import DAILY
from usageledger.reports.choices import Choice, list_choices, stored_values
from usageledger.reports.periods import first_provisional_day
from usageledger.reports.series import (
    ChartData,
    plan_bucket,
    query_series,
    series_dimensions,
)
from usageledger.reports.spend import ConnectionSpend, connection_spend
from usageledger.reports.status import status_report
from usageledger.reports.usage import query_cost, query_usage
from usageledger.store import get_connection, list_events, list_schedule_states, list_sync_runs, lock_is_held
from usageledger.web.charts import render_series_chart
from usageledger.web.params import PageUsageParams, UsageParams
from usageledger.web.providers import PROVIDERS, Provider

__all__ = [
    "CHART_METRICS",
    "DEFAULT_CHART_METRIC",
    "EVENT_KINDS",
    "DetailView",
    "IntegrationCard",
    "TableColumn",
    "build_detail",
    "connection_status",
    "csv_header",
    "integration_cards",
    "tenant_events",
    "usage_columns",
]

# The chart's metric switch: reports metric -> label. Cost first: it is the default.
CHART_METRICS: dict[str, str] = {
    "amount_usd": "Cost (USD)",
    "input_tokens": "Input tokens (uncached)",
    "output_tokens": "Output tokens",
    "cache_read_input_tokens": "Cache read tokens",
    "cache_creation_input_tokens": "Cache write tokens",
    "requests": "Requests",
}
DEFAULT_CHART_METRIC = "amount_usd"
EVENT_KINDS: tuple[str, ...] = (
    "credential",
    "scope",
    "rate_limit",
    "upstream_error",
    "sync_started",
    "sync_finished",
    "sync_failed",
    "late_data",
    "fallback",
    "key_verified",
    "mismatch",
    "hourly_skipped",
    "connected",
    "sync_retry",
    "sync_halted",
    "disconnected",
    "adjustment",
    "month_closed",
    "month_reopened",
    "invoice_entered",
    "destination_added",
    "destination_changed",
    "destination_deleted",
    "delivery_failed",
    "budget_changed",
    "alert",
    "spend_limits_skipped",
)
_PROBLEM_KINDS = ("credential", "scope", "rate_limit", "upstream_error", "sync_failed", "mismatch")
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class TableColumn:
    """One column of the usage table: its JSON key, the name shown beside an id, how to sort and filter by it."""

    key: str
    label: str
    sort: str
    numeric: bool = False
    name_key: str | None = None
    filter: str | None = None
    format: str = "count"  # for numeric columns: count | money | share (the template filter to show it)


_GROUP_COLUMNS: dict[str, TableColumn] = {
    "date": TableColumn("date", "Date", "date"),
    "month": TableColumn("month", "Month", "month"),
    **{
        f.name: TableColumn(
            f.column, f.label, f.name, name_key=f"{f.name}_name" if f.named else None, filter=f.name
        )
        for f in DAILY.fields
    },
}
_COST_COLUMNS = (
    TableColumn("amount_usd", "Cost", "amount_usd", numeric=True, format="money"),
    TableColumn("cost_share", "% of total", "amount_usd", numeric=True, format="share"),
)
_METRIC_COLUMNS: tuple[TableColumn, ...] = tuple(
    TableColumn(key, label, key, numeric=True)
    for key, label in (
        ("input_tokens", "Input"),
        ("output_tokens", "Output"),
        ("cache_read_input_tokens", "Cache read"),
        ("cache_creation_input_tokens", "Cache write"),
        ("cache_creation_5m_input_tokens", "Cache write 5m"),
        ("cache_creation_1h_input_tokens", "Cache write 1h"),
        ("requests", "Requests"),
    )
) + (TableColumn("list_amount_usd", "List cost", "list_amount_usd", numeric=True, format="money"),)


def usage_columns(group_by: tuple[str, ...]) -> list[TableColumn]:
    """The usage table's columns: the group fields, its cost and share (seen first), the tokens, the list cost."""
    return [_GROUP_COLUMNS[g] for g in group_by] + list(_COST_COLUMNS) + list(_METRIC_COLUMNS)


def csv_header(group_by: tuple[str, ...]) -> list[str]:
    """The CSV's columns: the table's, with each name right after its id (as on the page)."""
    keys: list[str] = []
    for column in usage_columns(group_by):
        keys.append(column.key)
        if column.name_key:
            keys.append(column.name_key)
    return keys


def _row_dict(row: Any) -> dict[str, Any]:
    return dict(row.as_json(names=True))


def _row_values(row: Any) -> dict[str, Any]:
    """A row for the page: typed values (Decimal money), which the template formats."""
    return dict(row.as_values(names=True))


@dataclass(frozen=True)
class IntegrationCard:
    provider: Provider
    connections: list[Any]


def integration_cards(conn: Connection, tenant_id: int) -> list[IntegrationCard]:
    statuses = status_report(conn, tenant_id=tenant_id)
    return [IntegrationCard(p, [s for s in statuses if s.connection.provider == p.key]) for p in PROVIDERS]


def connection_status(conn: Connection, tenant_id: int, connection_id: int | None = None) -> list[Any]:
    """The status read model (the CLI's `status`), for one tenant and optionally one connection (404 if not theirs)."""
    if connection_id is not None:
        get_connection(conn, connection_id, tenant_id)
    statuses = status_report(conn, tenant_id=tenant_id)
    if connection_id is not None:
        statuses = [s for s in statuses if s.connection.id == connection_id]
    return statuses


def tenant_events(
    conn: Connection, tenant_id: int, connection_id: int | None, kind: str | None, limit: int = 200
) -> list[Any]:
    if connection_id is not None:
        get_connection(conn, connection_id, tenant_id)
    return list_events(conn, tenant_id=tenant_id, connection_id=connection_id, kind=kind or None, limit=limit)


def sync_runs(conn: Connection, tenant_id: int, connection_id: int, limit: int) -> list[Any]:
    get_connection(conn, connection_id, tenant_id)
    return list_sync_runs(conn, connection_id, limit)


@dataclass
class Trouble:
    """The troubleshooting panel: open when something looks wrong."""

    open: bool
    no_rows_in_range: bool
    problem_events: list[Any] = field(default_factory=list)


@dataclass
class DetailView:
    connection: Any
    state: str  # the stored state, but `error` when a sync's process stopped mid-way
    sync_alive: bool  # someone holds the sync lease and is alive
    latest_run: Any | None
    events: list[Any]  # the latest few, newest first (the full log is its own page)
    spend: ConnectionSpend
    rows: list[dict[str, Any]]
    columns: list[TableColumn]
    totals: dict[str, Any]
    total_rows: int
    cost_total: Any
    chart: Markup
    chart_data: ChartData
    metric: str
    form: PageUsageParams  # the form as typed, and what was wrong with it
    params: UsageParams  # the query that ran
    choices: dict[str, list[Choice]]
    first_provisional: dt.date
    page: int
    pages: int
    trouble: Trouble
    next_sync: NextSync | None = None  # the schedule's next sync, or why there is none

    @property
    def problems(self) -> dict[str, str]:
        return self.form.problems


def _chart_title(metric: str, data: ChartData) -> str:
    per = "month" if data.bucket == "month" else "day"
    split = ", ".join(d.replace("_", " ") for d in data.dimensions)
    return f"{CHART_METRICS[metric]} per {per}" + (f", by {split}" if split else "")


def _checked_sort(form: PageUsageParams) -> tuple[UsageParams, PageUsageParams]:
    """A sort the table cannot do is dropped and explained beside the field, like any other bad filter."""
    params = form.params
    if params.sort is None or params.sort in {c.sort for c in usage_columns(params.group_by)}:
        return params, form
    problems = {**form.problems, "sort": f"The table cannot be sorted by {params.sort!r}; pick a column."}
    params = params.replaced(sort=None, desc=False)
    return params, PageUsageParams(params, form.period, form.since_text, form.until_text, problems)


def build_detail(
    conn: Connection,
    *,
    tenant_id: int,
    connection_id: int,
    form: PageUsageParams,
    metric: str,
    page: int,
    today: dt.date,
    lookback_days: int,
    sync_interval: dt.timedelta = dt.timedelta(0),
) -> DetailView:
    connection = get_connection(conn, connection_id, tenant_id)
    params, form = _checked_sort(form)
    sync_alive = lock_is_held(connection.lock_owner, connection.lock_expires_at, dt.datetime.now(dt.UTC))
    state = "error" if connection.state == "syncing" and not sync_alive else connection.state
    runs = list_sync_runs(conn, connection_id, 1)
    events = list_events(conn, tenant_id=tenant_id, connection_id=connection_id, limit=10)
    scoped = params.replaced(connection_id=connection_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    usage = query_usage(conn, scoped.to_query(tenant_id))
    first_provisional = first_provisional_day(today, lookback_days)
    range_query = scoped.to_query(tenant_id)
    first, last = params.since or connection.first_day or today, params.until or connection.last_day or today
    chart_data = query_series(
        conn,
        range_query,
        metric=metric,
        dimensions=series_dimensions(params.group_by),
        bucket=plan_bucket(params.group_by, first, last),
        first_provisional=first_provisional,
    )
    dimensions = chart_data.dimensions
    # Colours are planned over every value the workspace has stored, so a model keeps its colour everywhere.
    known = [*stored_values(conn, dimensions[0], tenant_id=tenant_id), ""] if len(dimensions) == 1 else []
    chart = render_series_chart(chart_data, title=_chart_title(metric, chart_data), known_keys=known)
    problems = [e for e in events if e.kind in _PROBLEM_KINDS]
    no_rows = usage.total_rows == 0 and connection.last_sync_succeeded_at is not None
    trouble = Trouble(
        open=bool(state == "error" or connection.last_error or no_rows or problems),
        no_rows_in_range=no_rows,
        problem_events=problems,
    )
    return DetailView(
        connection=connection,
        state=state,
        sync_alive=sync_alive,
        latest_run=runs[0] if runs else None,
        events=events[:5],
        spend=connection_spend(conn, tenant_id=tenant_id, connection_id=connection_id, today=today),
        rows=[_row_values(r) for r in usage.rows],
        columns=usage_columns(params.group_by),
        totals=usage.totals.as_values(),
        total_rows=usage.total_rows,
        cost_total=usage.totals.amount_usd,
        chart=chart,
        chart_data=chart_data,
        metric=metric,
        form=form,
        params=params,
        choices=list_choices(conn, tenant_id=tenant_id, connection_id=connection_id),
        first_provisional=first_provisional,
        page=page,
        pages=max(1, -(-usage.total_rows // PAGE_SIZE)),
        trouble=trouble,
        next_sync=plan_next_sync(
            list_schedule_states(conn, connection_id)[0], sync_interval, dt.datetime.now(dt.UTC)
        ),
    )


def usage_rows_json(
    conn: Connection, tenant_id: int, params: UsageParams
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    report = query_usage(conn, params.to_query(tenant_id))
    return [_row_dict(r) for r in report.rows], report.totals.as_json(), report.total_rows


def cost_rows_json(
    conn: Connection, tenant_id: int, params: UsageParams
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    report = query_cost(conn, params.to_query(tenant_id))
    return [_row_dict(r) for r in report.rows], report.totals.as_json(), report.total_rows
