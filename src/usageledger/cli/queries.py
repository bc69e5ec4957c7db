"""Read commands: status, usage, cost, events. They render the shared read models of `reports`."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import reports, store
from ..errors import UsageError
from ..models import GROUP_FIELDS
from .app import app
from .context import AppContext, app_context
from .dates import parse_day
from .render import render_records

__all__: list[str] = []

FORMATS = ("table", "json", "csv")

ConnectionOpt = Annotated[int | None, typer.Option("--connection", help="Only this connection id.")]
SinceOpt = Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD, inclusive, UTC).")]
UntilOpt = Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD, inclusive, UTC).")]
GroupByOpt = Annotated[str, typer.Option("--group-by", help=f"Comma list from: {', '.join(GROUP_FIELDS)}.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv.")]


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


def _query(
    actx: AppContext, connection: int | None, since: str | None, until: str | None, group_by: str
) -> reports.UsageQuery:
    tenant_id = actx.tenant_id()
    if connection is not None:
        with actx.engine.connect() as conn:
            store.get_connection(conn, connection, tenant_id)  # NotFoundError (exit 6) when absent
    return reports.UsageQuery(
        tenant_id=tenant_id,
        connection_id=connection,
        since=parse_day(since, "--since"),
        until=parse_day(until, "--until"),
        group_by=_group_by(group_by),
    )


def _render_report(
    ctx: typer.Context,
    kind: str,
    connection: int | None,
    since: str | None,
    until: str | None,
    group_by: str,
    fmt: str,
) -> None:
    actx = app_context(ctx)
    fmt = _format(fmt)
    query = _query(actx, connection, since, until, group_by)
    run = reports.query_usage if kind == "usage" else reports.query_cost
    with actx.engine.connect() as conn:
        report = run(conn, query)
    # Tables show names beside ids; JSON and CSV keep exactly the documented keys.
    names = fmt == "table"
    render_records([row.as_json(names) for row in report.rows], fmt, title=kind.capitalize())


@app.command()
def usage(
    ctx: typer.Context,
    connection: ConnectionOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    group_by: GroupByOpt = "date,model",
    fmt: FormatOpt = "table",
) -> None:
    """Token usage per group: uncached input, output, cache reads and writes (5m, 1h), requests."""
    _render_report(ctx, "usage", connection, since, until, group_by, fmt)


@app.command()
def cost(
    ctx: typer.Context,
    connection: ConnectionOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    group_by: GroupByOpt = "date,model",
    fmt: FormatOpt = "table",
) -> None:
    """Reported cost per group, in US dollars (amount after discounts, and list amount)."""
    _render_report(ctx, "cost", connection, since, until, group_by, fmt)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every connection: state, organization, source, last syncs, rows and days stored, key hint."""
    actx = app_context(ctx)
    with actx.engine.connect() as conn:
        rows = reports.status_report(conn, actx.tenant_id())
    records = [row.as_json() for row in rows]
    if not records and not as_json:
        typer.echo("No connections yet. Connect one with `usageledger connect anthropic`.")
        return
    render_records(records, "json" if as_json else "table", title="Connections")


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
        }
        for e in rows
    ]
    render_records(records, "json" if as_json else "table", title="Events")
