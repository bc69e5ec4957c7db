"""`usageledger export focus`: the period's stored cost as a FinOps FOCUS 1.2 file (CSV or Parquet)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from ..reports.periods import PERIOD_PRESETS, resolve_period
from .app import app
from .context import app_context
from .dates import parse_day
from .render import err_console

__all__: list[str] = []

FORMATS = ("csv", "parquet")

export_app = typer.Typer(help="Export the stored cost in formats other tools read.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("focus")
def export_focus(
    ctx: typer.Context,
    period: Annotated[
        str, typer.Option(help=f"A named period ({'|'.join(PERIOD_PRESETS)}) or a month YYYY-MM (UTC days).")
    ] = "last-month",
    since: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD, inclusive); overrides --period.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD, inclusive); overrides --period.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    output: Annotated[
        Path | None, typer.Option(help="Write to this file (CSV: stdout when omitted).")
    ] = None,
    organization: Annotated[str | None, typer.Option(help="Only this organization id.")] = None,
) -> None:
    """One FOCUS row per day × stored cost row (model × cost type × token type); the FinOps validator reads it."""
    # Imported here: the export's modules (and pyarrow) stay unloaded for every other command.
    from ..reports.exports import FocusScope, iter_focus_rows, write_focus_csv, write_focus_parquet

    if fmt not in FORMATS:
        raise UsageError(f"--format takes {' or '.join(FORMATS)}; not {fmt!r}.")
    if fmt == "parquet" and output is None:
        raise UsageError("Parquet is binary: give --output FILE.")
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    chosen = resolve_period(period, first, last, today=dt.datetime.now(dt.UTC).date())
    actx = app_context(ctx)
    scope = FocusScope(actx.tenant_id(), chosen, organization)

    def progress(rows: int) -> None:
        err_console.print(f"{rows:,} rows…", highlight=False)

    with actx.engine.connect() as conn:
        rows = iter_focus_rows(conn, scope)
        if fmt == "parquet":
            assert output is not None
            count = write_focus_parquet(rows, str(output), progress=progress)
        elif output is None:
            count = write_focus_csv(rows, sys.stdout, progress=progress)
        else:
            with output.open("w", newline="", encoding="utf-8") as out:
                count = write_focus_csv(rows, out, progress=progress)
    where = f" to {output}" if output is not None else ""
    err_console.print(
        f"Exported {count:,} FOCUS rows for {chosen.start} to {chosen.last_day}{where}.", highlight=False
    )
