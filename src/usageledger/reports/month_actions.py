"""What finance does to a month: enter (or import as CSV) the invoiced amount, close it, reopen it.

Each action is one function taking the caller's transaction and who acts; each leaves an event (who, when,
what) in the tenant's log. Input is checked before anything is written: a bad amount, month or
organization, or any bad line of an imported file, raises UsageError with what to type instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, func, select

from usageledger.errors import ConflictError, UsageError
from usageledger.reports.month_close import OrganizationMonth, month_of, read_reconciliation, usd
from usageledger.reports.periods import month_period
from usageledger.store import add_event
from usageledger.store.closes import lock_for_close, set_invoiced, set_month_closed
from usageledger.store.tables import cost_adjustments

__all__ = [
    "INVOICE_CSV_COLUMNS",
    "InvoiceLine",
    "close_month",
    "enter_invoiced",
    "import_invoices",
    "parse_invoice_csv",
    "parse_month",
    "parse_usd",
    "reopen_month",
]

INVOICE_CSV_COLUMNS = ("organization_id", "month", "invoiced_usd")
_MAX_USD = Decimal(10) ** 12  # a sanity bound: no invoice of a trillion dollars
_MAX_IMPORT_BYTES = 1_000_000


def parse_month(text: str) -> dt.date:
    """`YYYY-MM` → the month's first day (UsageError otherwise, years 1–9998 only)."""
    try:
        return month_period(text).start
    except (ValueError, OverflowError):  # year 0000 or 9999-12 (whose next month has no date)
        raise UsageError(f"{text!r} is outside the calendar usageledger handles (years 1 to 9998).") from None


def parse_usd(text: str, what: str = "The invoiced amount") -> int:
    """Dollars as typed (`1234.56`, `$1,234.56`) → exact micro-cents (1e-8 USD); never through a float."""
    cleaned = text.strip().replace(",", "").removeprefix("$").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise UsageError(f"{what} is a number of US dollars such as 1234.56; not {text!r}.") from None
    if not value.is_finite() or value < 0 or value >= _MAX_USD:
        raise UsageError(f"{what} must be a dollar amount of zero or more; not {text!r}.")
    scaled = value.scaleb(8)
    if scaled != scaled.to_integral_value():
        raise UsageError(f"{what} has more than 8 decimals: {text!r}.")
    return int(scaled)


def _line(conn: Connection, tenant_id: int, month: dt.date, organization: str | None, *, today: dt.date,
          lookback_days: int) -> list[OrganizationMonth]:  # fmt: skip
    lines = read_reconciliation(
        conn, tenant_id, month, today=today, lookback_days=lookback_days, organization=organization
    ).organizations
    if organization is not None and not lines:
        raise UsageError(f"No connected organization has the id {organization!r}.")
    if not lines:
        raise UsageError(
            "No organization is connected yet: connect one first (usageledger connect anthropic)."
        )
    return lines


def _event(conn: Connection, tenant_id: int, line: OrganizationMonth, kind: str, message: str, by: str,
           **details: object) -> None:  # fmt: skip
    add_event(
        conn, tenant_id=tenant_id, connection_id=line.connection_id, kind=kind, level="info",
        message=f"{message} (by {by})",
        details={"month": line.month.strftime("%Y-%m"), "organization_id": line.organization_id, "by": by,
                 **details},
    )  # fmt: skip


def enter_invoiced(
    conn: Connection, tenant_id: int, month: dt.date, organization: str | None, microcents: int, *,
    by: str, today: dt.date, lookback_days: int,
) -> OrganizationMonth:  # fmt: skip
    """Record the invoiced amount of one organization's month (the only one, when `organization` is None)."""
    lines = _line(conn, tenant_id, month, organization, today=today, lookback_days=lookback_days)
    if len(lines) > 1:
        raise UsageError(
            "Several organizations are connected: say which one the invoice is for with --organization "
            f"({', '.join(line.organization_id for line in lines)})."
        )
    line = lines[0]
    set_invoiced(conn, tenant_id, line.connection_id, month, microcents, by)
    _event(conn, tenant_id, line, "invoice_entered",
           f"Invoiced amount for {month:%Y-%m} of {line.organization_name}: ${usd(microcents):,.2f}", by,
           invoiced_microcents=microcents)  # fmt: skip
    line.invoiced_microcents = microcents
    return line


def close_month(
    conn: Connection, tenant_id: int, month: dt.date, organization: str | None, *, by: str, today: dt.date,
    lookback_days: int,
) -> list[OrganizationMonth]:  # fmt: skip
    """Close the month for one organization or all of them: freeze their cost rows as they are now."""
    if month_of(today) <= month:
        raise UsageError(f"{month:%Y-%m} has not ended yet: a month can be closed from its next month on.")
    lock_for_close(conn, tenant_id)
    lines = _line(conn, tenant_id, month, organization, today=today, lookback_days=lookback_days)
    closed = [line for line in lines if line.state == "closed"]
    if closed and (organization is not None or len(closed) == len(lines)):
        raise ConflictError(
            f"{month:%Y-%m} is already closed (by {closed[0].closed_by}, {closed[0].closed_at:%Y-%m-%d %H:%M} UTC)."
        )
    done = []
    for line in lines:
        if line.state == "closed":
            continue
        set_month_closed(conn, tenant_id, line.connection_id, month, closed=True, by=by,
                         reported_microcents=line.stored_microcents)  # fmt: skip
        note = f"; {line.provisional_days} day(s) were still provisional" if line.provisional_days else ""
        _event(conn, tenant_id, line, "month_closed",
               f"Closed {month:%Y-%m} of {line.organization_name} at ${usd(line.reported_microcents):,.2f}{note}",
               by, reported_microcents=line.reported_microcents, provisional_days=line.provisional_days)  # fmt: skip
        line.state = "closed"
        done.append(line)
    return done


def reopen_month(
    conn: Connection, tenant_id: int, month: dt.date, organization: str | None, *, by: str, today: dt.date,
    lookback_days: int,
) -> list[OrganizationMonth]:  # fmt: skip
    """Reopen a closed month, unless revisions of it were already booked to later months (they would
    then count twice: once in the month's rows, once as adjustments)."""
    lock_for_close(conn, tenant_id)
    lines = [
        line
        for line in _line(conn, tenant_id, month, organization, today=today, lookback_days=lookback_days)
        if line.state == "closed"
    ]
    if not lines:
        raise UsageError(f"{month:%Y-%m} is not closed.")
    for line in lines:
        booked = conn.execute(
            select(func.count()).where(
                cost_adjustments.c.connection_id == line.connection_id,
                cost_adjustments.c.day >= month,
                cost_adjustments.c.day < month_period(f"{month:%Y-%m}").end,
            )
        ).scalar_one()
        if booked:
            raise ConflictError(
                f"{month:%Y-%m} of {line.organization_name} cannot be reopened: {booked} revision(s) of it are "
                f"booked as adjustments to {', '.join(line.adjustments_out_to)}, which reopening would count twice."
            )
    for line in lines:
        set_month_closed(conn, tenant_id, line.connection_id, month, closed=False, by=by)
        _event(
            conn, tenant_id, line, "month_reopened", f"Reopened {month:%Y-%m} of {line.organization_name}", by
        )
    return lines


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    line: int
    organization_id: str
    month: dt.date
    microcents: int


def parse_invoice_csv(text: str, known_organizations: set[str]) -> list[InvoiceLine]:
    """Every line of an invoice CSV (`organization_id,month,invoiced_usd`), or UsageError listing each bad
    line by number: a file is taken whole or not at all."""
    if len(text) > _MAX_IMPORT_BYTES:
        raise UsageError("The invoice file is larger than 1 MB; split it.")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise UsageError(f"The invoice file is not readable CSV (line {reader.line_num}: {exc}).") from None
    if not rows or tuple(h.strip().lower() for h in rows[0][1]) != INVOICE_CSV_COLUMNS:
        raise UsageError(f"The invoice file's first line must be the header {','.join(INVOICE_CSV_COLUMNS)}.")
    lines, errors, seen = [], [], set()
    for number, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(INVOICE_CSV_COLUMNS):
            errors.append(
                f"line {number}: expected 3 values ({','.join(INVOICE_CSV_COLUMNS)}), found {len(row)}"
            )
            continue
        org, month_text, amount_text = (cell.strip() for cell in row)
        try:
            if org not in known_organizations:
                raise UsageError(f"no connected organization has the id {org!r}")
            month = parse_month(month_text)
            amount = parse_usd(amount_text, "invoiced_usd")
        except UsageError as exc:
            errors.append(f"line {number}: {exc.message.rstrip('.')}")
            continue
        if (org, month) in seen:
            errors.append(f"line {number}: {org} {month:%Y-%m} is listed twice")
            continue
        seen.add((org, month))
        lines.append(InvoiceLine(number, org, month, amount))
    if errors:
        raise UsageError("Nothing was imported; fix these lines:\n" + "\n".join(errors))
    if not lines:
        raise UsageError("The invoice file has a header but no lines.")
    return lines


def import_invoices(
    conn: Connection, tenant_id: int, lines: list[InvoiceLine], *, by: str, today: dt.date, lookback_days: int
) -> int:
    """Enter every parsed line (in the caller's transaction, so all or nothing); returns how many."""
    for line in lines:
        enter_invoiced(conn, tenant_id, line.month, line.organization_id, line.microcents, by=by, today=today,
                       lookback_days=lookback_days)  # fmt: skip
    return len(lines)
