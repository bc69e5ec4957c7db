"""`usageledger allocate`: the period's spend by team, cost center, person, application or product.

Every dollar is on a row: Unallocated rows say why (no owner, deleted user, …). The rows' cents add up to
the total line; if the usage by actor disagrees with the daily usage the total line says so.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..reports.allocation_dimensions import ALLOCATION_DIMENSIONS
from ..reports.periods import PERIOD_PRESETS, resolve_period
from .app import app
from .context import app_context
from .render import console, err_console, format_usd, print_table

if TYPE_CHECKING:
    from ..reports.allocation import Allocation

__all__: list[str] = []

_BY = "|".join(ALLOCATION_DIMENSIONS)


def _table(a: Allocation) -> Table:
    org = f", organization {a.organization}" if a.organization else ""
    table = Table(title=f"Spend by {ALLOCATION_DIMENSIONS[a.by].lower()}, {a.period.label.lower()} "
                        f"({a.period.start} to {a.period.last_day}{org})", title_justify="left")  # fmt: skip
    table.add_column(ALLOCATION_DIMENSIONS[a.by], overflow="fold", ratio=3)
    table.add_column("Cost", justify="right", no_wrap=True)
    table.add_column("Share", justify="right", no_wrap=True)
    for r in a.rows:
        label = f"[yellow]{r.label}[/yellow]" if r.unallocated else r.label
        table.add_row(label, format_usd(r.amount_usd), f"{r.share * 100:.1f}%")
    table.add_section()
    table.add_row("[bold]Total (reported cost)[/bold]", f"[bold]{format_usd(a.total_usd)}[/bold]", "100.0%")
    return table


@app.command("allocate")
def allocate_command(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help=f"What to allocate by: {_BY}.")] = "team",
    period: Annotated[
        str, typer.Option(help=f"A named period ({'|'.join(PERIOD_PRESETS)}) or a month YYYY-MM (UTC days).")
    ] = "this-month",
    organization: Annotated[str | None, typer.Option(help="Only this organization id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the allocation as JSON.")] = False,
) -> None:
    """Every dollar of the period on a team, cost center, person, application or product, or Unallocated."""
    # Imported here: every command's module is imported at start, and only this one needs the read model.
    from ..reports.allocation import allocate
    from ..reports.allocation_json import allocation_json

    chosen = resolve_period(period, None, None, today=dt.datetime.now(dt.UTC).date())
    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.connect() as conn:
        found = allocate(conn, tenant_id, by, chosen, organization)
    if as_json:
        print(json.dumps(allocation_json(found), indent=2))
        return
    print_table(_table(found))
    if not found.balanced and found.imbalance_note:
        err_console.print(f"[yellow]Note:[/yellow] {found.imbalance_note}", highlight=False)
    elif found.unallocated_microcents:
        console.print("Unallocated rows say why; assign owners on the Allocation › Unallocated page.")
