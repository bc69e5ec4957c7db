"""Read commands: status, usage, cost, events. They render the shared read models of `reports`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection

from .. import store
from ..errors import UsageError
from ..models import GROUP_FIELDS
from ..reports.adjustments import adjustments_booked
from ..reports.periods import PERIOD_PRESETS, first_provisional_day
from ..reports.rows import share_text
from ..reports.status import status_report
from ..reports.usage import CostReport, UsageQuery, UsageReport, query_cost, query_usage
from .app import app
from .columns import PCT_OF_TOTAL, add_share_of_total, choose_columns, parse_columns
from .context import app_context
from .dates import day_range
from .render import console, fits, print_table, records_table, render_records
from .status_view import status_notes, status_table

__all__: list[str] = []

FORMATS = ("table", "json", "csv")
_PRESETS = "|".join(PERIOD_PRESETS)

ConnectionOpt = Annotated[int | None, typer.Option("--connection", help="Only this connection id.")]
PeriodOpt = Annotated[
    str | None,
    typer.Option(
        help=f"A named period ({_PRESETS}) or a month as YYYY-MM, in UTC days. "
        "Not with --since/--until (use one or the other).",
    ),
]
SinceOpt = Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD, inclusive, UTC).")]
UntilOpt = Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD, inclusive, UTC).")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv.")]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        help="Comma list of the columns to show, from the report's keys (an unknown one lists them). "
        "Default: the group fields and as many metrics as fit the terminal (json/csv: every key).",
    ),
]


def _group_by(text: str) -> tuple[str, ...]:
    fields = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in fields if f not in GROUP_FIELDS]
    if unknown or not fields:
        raise UsageError(f"--group-by takes a comma list from {', '.join(GROUP_FIELDS)}; got {text!r}.")
    return fields


def _format(text: str) -> str:
    if text not in FORMATS:
        raise UsageError(f"--format is one of {', '.join(FORMATS)}, not {text!r}.")
    return text


def _organizations_in_scope(conn: Connection, tenant_id: int, connection: int | None) -> int:
    rows = store.list_connections(conn, tenant_id)
    return len({c.organization_id for c in rows if connection is None or c.id == connection})


def _with_organization(fields: tuple[str, ...]) -> tuple[str, ...]:
    """Organization right after the date or month (so rows of one day stay together), else first."""
    at = next((i + 1 for i, f in enumerate(fields) if f in ("date", "month")), 0)
    return (*fields[:at], "organization", *fields[at:])


def _render_report(
    ctx: typer.Context,
    kind: str,
    connection: int | None,
    period: str | None,
    since: str | None,
    until: str | None,
    group_by: str,
    fmt: str,
    columns: str | None,
) -> None:
    actx = app_context(ctx)
    fmt = _format(fmt)
    first, last = day_range(period, since, until)
    fields = _group_by(group_by)
    tenant_id = actx.tenant_id()
    run: Any = query_usage if kind == "usage" else query_cost
    with actx.engine.connect() as conn:
        if connection is not None:
            store.get_connection(conn, connection, tenant_id)  # NotFoundError (exit 6) when absent
        # A table that mixes organizations says which row is whose; JSON and CSV keep the keys asked for.
        mixed = _organizations_in_scope(conn, tenant_id, connection) > 1
        if fmt == "table" and mixed and "organization" not in fields:
            fields = _with_organization(fields)
        query = UsageQuery(
            tenant_id=tenant_id,
            connection_id=connection,
            since=first,
            until=last,
            group_by=fields,
            with_cost=kind == "usage",  # cost beside the tokens of the same group
        )
        report = run(conn, query)
        # The rows are the stored cost; adjustments booked to the range (revisions of closed months) are not
        # in them. A table says so beneath it, as the overview does; JSON and CSV keep to the rows.
        adjustments = (
            adjustments_booked(
                conn,
                tenant_id,
                first,
                last + dt.timedelta(days=1) if last else None,
                connection_id=connection,
            )
            if kind == "cost" and fmt == "table"
            else None
        )
    # Tables show names beside ids; JSON and CSV keep exactly the documented keys.
    if fmt != "table":
        records = [row.as_json() for row in report.rows]
        available = _available_columns(report, fields, names=False)
        chosen = parse_columns(columns, available) if columns is not None else None
        if chosen and PCT_OF_TOTAL in chosen:
            add_share_of_total(records, report.totals.as_json().get("amount_usd"))
        render_records(records, fmt, columns=chosen)
        return
    provisional = first_provisional_day(dt.datetime.now(dt.UTC).date(), actx.settings.lookback_days)
    print_report(kind, report, fields, columns=columns, days=(first, last), provisional_from=provisional)
    if adjustments is not None:
        sign = "-" if adjustments < 0 else ""
        console.print(
            f"Not in these figures: {sign}${abs(adjustments):,.2f} of adjustments booked to this range "
            "(Anthropic's revisions of days in months already closed); `usageledger reconcile MONTH` lists "
            "them with the month's reported cost.",
            soft_wrap=False,
            highlight=False,
        )


def _available_columns(report: Any, fields: tuple[str, ...], *, names: bool) -> list[str]:
    """The report's keys (known even when no row matched), and the share of total where money is."""
    keys = list(type(report.totals)(group_by=fields).as_json(names))
    keys += [k for k in report.totals.as_json(names) if k not in keys]  # cost beside usage, when asked
    return [*keys, PCT_OF_TOTAL] if "amount_usd" in keys and PCT_OF_TOTAL not in keys else keys


def print_report(
    kind: str,
    report: UsageReport | CostReport,
    fields: tuple[str, ...],
    *,
    columns: str | None = None,
    days: tuple[dt.date | None, dt.date | None] = (None, None),
    provisional_from: dt.date | None = None,
) -> None:
    """A usage or cost report as a table with a totals row: `columns`, or as many as fit the terminal.

    When the range reaches `provisional_from`, a line under the table says those days may still change."""
    keys = _available_columns(report, fields, names=True)
    chosen = parse_columns(columns, keys) if columns is not None else None
    if not report.rows:
        console.print("No rows for this range.", highlight=False)
        return
    records = [row.as_json(names=True) for row in report.rows]
    totals = report.totals.as_json()
    add_share_of_total(records, totals.get("amount_usd"))
    if "amount_usd" in totals and totals.get(PCT_OF_TOTAL) is None:
        totals[PCT_OF_TOTAL] = share_text(Decimal(100))
    first, last = days
    title = kind.capitalize() + (f", {first or '…'} to {last or '…'}" if first or last else ", all days")

    cells: dict[str, list[Text]] = {}  # each cell formatted once, whichever tables are tried

    def build(shown: list[str]) -> Table:
        label = next((c for c in shown if c not in totals), None)
        total = {**totals, **({label: "Total"} if label else {})}
        caption = f"{report.total_rows:,} rows"
        return records_table(records, shown, title=title, caption=caption, total=total, cells=cells)

    shown = chosen or choose_columns(keys, build, fits)
    print_table(build(shown))
    hidden = [k for k in keys if k not in shown and k in totals]
    if hidden:  # wrapped at the terminal's width, unlike the soft-wrapped messages
        console.print(f"More columns with --columns: {', '.join(hidden)}.", soft_wrap=False, highlight=False)
    if provisional_from is not None and (last is None or last >= provisional_from):
        console.print(
            f"Days from {provisional_from} on are provisional: each sync fetches them again, because "
            "Anthropic may still revise them.",
            soft_wrap=False,
            highlight=False,
        )


@app.command()
def usage(
    ctx: typer.Context,
    connection: ConnectionOpt = None,
    period: PeriodOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    group_by: Annotated[
        str, typer.Option("--group-by", help=f"Comma list from: {', '.join(GROUP_FIELDS)}.")
    ] = "month,model",
    fmt: FormatOpt = "table",
    columns: ColumnsOpt = None,
) -> None:
    """Token usage per group (default: by month and model, every day stored), with totals.

    Metrics: uncached input, output, cache reads and writes (5m, 1h), requests. Tables show names
    beside ids and add an organization column when the data spans more than one organization.
    """
    _render_report(ctx, "usage", connection, period, since, until, group_by, fmt, columns)


@app.command()
def cost(
    ctx: typer.Context,
    connection: ConnectionOpt = None,
    period: PeriodOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    group_by: Annotated[
        str, typer.Option("--group-by", help=f"Comma list from: {', '.join(GROUP_FIELDS)}.")
    ] = "month",
    fmt: FormatOpt = "table",
    columns: ColumnsOpt = None,
) -> None:
    """Reported cost in US dollars (after discounts, and list); with no options, a summary by month.

    Tables format money ($1,234.56) and add each row's share of the total; JSON and CSV keep the
    exact decimal strings.
    """
    _render_report(ctx, "cost", connection, period, since, until, group_by, fmt, columns)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (every field).")] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="A table of every field (wider than 80 columns).")
    ] = False,
) -> None:
    """Every connection: state, organization, last good sync, rows and days stored; --wide for all fields."""
    actx = app_context(ctx)
    with actx.engine.connect() as conn:
        rows = status_report(conn, actx.tenant_id())
    records = [row.as_json() for row in rows]
    if as_json:
        render_records(records, "json")
        return
    if not records:
        typer.echo("No connections yet. Connect one with `usageledger connect anthropic`.")
        return
    print_table(status_table(records, wide=wide))
    for note in status_notes(records):
        console.print(note, markup=False, highlight=False, soft_wrap=False)


@app.command()
def events(
    ctx: typer.Context,
    connection: ConnectionOpt = None,
    kind: Annotated[str | None, typer.Option(help="Only events of this kind (e.g. rate_limit).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The integration event log, newest first: credential, scope, rate-limit errors, syncs, late data."""
    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.connect() as conn:
        if connection is not None:
            store.get_connection(conn, connection, tenant_id)
        rows = store.list_events(conn, tenant_id=tenant_id, connection_id=connection, kind=kind, limit=limit)
    records = [
        {
            "id": e.id,
            "time": e.created_at.isoformat(),
            "connection_id": e.connection_id,
            "kind": e.kind,
            "level": e.level,
            "message": e.message,
            "request_id": e.request_id,
            # What a sync measured (calls, pages, requests in flight), what late data revised: for scripts;
            # the table keeps to one line an event.
            **({"details": e.details} if as_json else {}),
        }
        for e in rows
    ]
    render_records(records, "json" if as_json else "table", title="Events")
