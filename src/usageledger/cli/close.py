"""`usageledger months`, `close` and `reconcile`: finance's month close against the invoice.

Thin: parse, call one function of reports.month_actions / reports.month_close, render. The CLI acts as an
admin of the first usageledger workspace; the events name it `cli:<os user>`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import UsageError
from ..reports.month_actions import (
    close_month,
    enter_invoiced,
    import_invoices,
    parse_invoice_csv,
    parse_month,
    parse_usd,
    reopen_month,
)
from ..reports.month_close import (
    MONTH_STATES,
    MonthReconciliation,
    read_months,
    read_reconciliation,
    reconciliation_json,
    usd,
)
from ..store import list_connections
from .app import app
from .context import app_context
from .render import console, err_console, print_table

__all__: list[str] = []


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


def _money(microcents: int | None) -> str:
    return "—" if microcents is None else f"${usd(microcents):,.2f}"


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _reconcile_table(rec: MonthReconciliation) -> Table:
    table = Table(title=f"{rec.month:%Y-%m}: {rec.state} — {MONTH_STATES[rec.state]}", title_justify="left")
    for name, justify in (("Organization", "left"), ("State", "left"), ("Reported", "right"),
                          ("Invoiced", "right"), ("Difference", "right")):  # fmt: skip
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for o in rec.organizations:
        adjusted = (
            f" (incl. {_money(o.adjustments_in_microcents)} adj.)" if o.adjustments_in_microcents else ""
        )
        table.add_row(
            f"{o.organization_name} ({o.organization_id})", o.state, _money(o.reported_microcents) + adjusted,
            _money(o.invoiced_microcents), _money(o.difference_microcents),
        )  # fmt: skip
    return table


def _print_reasons(rec: MonthReconciliation) -> None:
    for o in rec.organizations:
        for reason in o.reasons:
            console.print(f"- {o.organization_name}: {reason.text}", highlight=False, markup=False)


@app.command("months")
def months_command(
    ctx: typer.Context,
    last: Annotated[int, typer.Option(min=1, max=60, help="How many months, newest first.")] = 12,
    as_json: Annotated[bool, typer.Option("--json", help="Print the months as JSON.")] = False,
) -> None:
    """Each month's state (open, provisional, settled, closed), reported cost and invoiced amount."""
    actx = app_context(ctx)
    today = _today()
    end = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    start = end
    for _ in range(last):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    tenant_id = actx.tenant_id()
    with actx.engine.connect() as conn:
        found = read_months(
            conn, tenant_id, start, end, today=today, lookback_days=actx.settings.lookback_days
        )
    if as_json:
        print(json.dumps([reconciliation_json(m) for m in found], indent=2))
        return
    table = Table(title="Months", title_justify="left")
    for name in ("Month", "State", "Reported", "Invoiced", "Difference"):
        table.add_column(name, justify="left" if name in {"Month", "State"} else "right")
    for m in found:
        table.add_row(
            f"{m.month:%Y-%m}", m.state, _money(m.reported_microcents), _money(m.invoiced_microcents),
            _money(m.difference_microcents),
        )  # fmt: skip
    print_table(table)


@app.command("close")
def close_command(
    ctx: typer.Context,
    month: Annotated[str, typer.Argument(help="The month to close, YYYY-MM.")],
    organization: Annotated[str | None, typer.Option(help="Only this organization id.")] = None,
    invoiced: Annotated[
        str | None, typer.Option(help="The invoiced amount in USD (one organization), e.g. 1234.56.")
    ] = None,
    invoice_csv: Annotated[
        Path | None,
        typer.Option(help="Import invoiced amounts from a CSV: organization_id,month,invoiced_usd."),
    ] = None,
    reopen: Annotated[bool, typer.Option("--reopen", help="Reopen a closed month instead.")] = False,
) -> None:
    """Close a month against the invoice: its cost is frozen; later revisions become adjustments."""
    if invoiced is not None and invoice_csv is not None:
        raise UsageError("Give --invoiced or --invoice-csv, not both.")
    first = parse_month(month)
    amount = parse_usd(invoiced) if invoiced is not None else None
    text = None
    if invoice_csv is not None:
        try:
            text = invoice_csv.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"Cannot read {invoice_csv}: {exc.__class__.__name__}.") from None
    actx = app_context(ctx)
    tenant_id, today, who = actx.tenant_id(), _today(), _who()
    lookback = actx.settings.lookback_days
    with actx.engine.begin() as conn:  # one transaction: the invoice and the close together, or neither
        if text is not None:
            known = {c.organization_id for c in list_connections(conn, tenant_id) if c.organization_id}
            lines = parse_invoice_csv(text, known)
            count = import_invoices(conn, tenant_id, lines, by=who, today=today, lookback_days=lookback)
            err_console.print(f"Imported {count} invoiced amount(s).", highlight=False)
        if amount is not None:
            enter_invoiced(
                conn, tenant_id, first, organization, amount, by=who, today=today, lookback_days=lookback
            )
        if reopen:
            done = reopen_month(
                conn, tenant_id, first, organization, by=who, today=today, lookback_days=lookback
            )
            err_console.print(f"Reopened {month} for {len(done)} organization(s).", highlight=False)
        else:
            done = close_month(
                conn, tenant_id, first, organization, by=who, today=today, lookback_days=lookback
            )
            err_console.print(f"Closed {month} for {len(done)} organization(s).", highlight=False)
    with actx.engine.connect() as conn:
        rec = read_reconciliation(
            conn, tenant_id, first, today=today, lookback_days=lookback, organization=organization
        )
    print_table(_reconcile_table(rec))
    _print_reasons(rec)


@app.command("reconcile")
def reconcile_command(
    ctx: typer.Context,
    month: Annotated[str, typer.Argument(help="The month, YYYY-MM.")],
    organization: Annotated[str | None, typer.Option(help="Only this organization id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reconciliation as JSON.")] = False,
) -> None:
    """Reported cost beside the invoiced amount, the difference and the reasons we can see, and the state."""
    first = parse_month(month)
    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.connect() as conn:
        rec = read_reconciliation(
            conn, tenant_id, first, today=_today(), lookback_days=actx.settings.lookback_days,
            organization=organization,
        )  # fmt: skip
    if organization is not None and not rec.organizations:
        raise UsageError(f"No connected organization has the id {organization!r}.")
    if as_json:
        print(json.dumps(reconciliation_json(rec), indent=2))
        return
    print_table(_reconcile_table(rec))
    _print_reasons(rec)
