"""`usageledger today`: today so far by hour (UTC), from the hourly rows the last sync stored."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .context import app_context

__all__: list[str] = []


@app.command()
def today(
    ctx: typer.Context,
    organization: Annotated[str | None, typer.Option(help="Only this organization id.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Cost and tokens per UTC hour since midnight, beside yesterday's same hours, as of the last sync."""
    import datetime as dt

    from ..errors import UsageError
    from ..reports.today_by_hour import today_by_hour, today_by_hour_json
    from .render import console, render_records

    if fmt not in ("table", "json", "csv"):
        raise UsageError(f"--format must be table, json or csv, not {fmt!r}.")
    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.connect() as conn:
        hours = today_by_hour(conn, tenant_id, dt.datetime.now(dt.UTC), organization)
    if organization is not None and not hours.has_data:
        # Not an error: the organization may have had no usage yet, or no sync fetched hours yet.
        console.print(f"[dim]No hourly data for organization {organization!r}.[/dim]", highlight=False)
    body = today_by_hour_json(hours)
    records = body["hours"]
    if fmt != "table":
        render_records(records, fmt)
        return
    synced = f", as of the sync at {hours.synced_at:%H:%M} UTC" if hours.synced_at else ""
    render_records(records, fmt, title=f"Today ({body['date']}, UTC) by hour{synced}")
    if not hours.has_data:
        console.print("No hourly data yet: the next sync fetches today by hour.", highlight=False)
        return
    console.print(f"Today so far: ${hours.total:,.2f}", highlight=False)
