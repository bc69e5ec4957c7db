"""Finance pages: the months and their states (`/finance/months`), one month's reconciliation
(`/finance/months/YYYY-MM`) with the forms to enter the invoiced amount, close and reopen (admins; members
read), the invoice CSV import (a chosen file or pasted text), and a FOCUS download.

A refused action re-renders the page with the message and what was typed (status 400 or 409), never a 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from usageledger.errors import UsageError, UsageLedgerError
from usageledger.reports.exports import FORMATS
from usageledger.reports.month_actions import (
    INVOICE_CSV_COLUMNS,
    close_month,
    enter_invoiced,
    import_invoices,
    parse_invoice_csv,
    parse_month,
    parse_usd,
    reopen_month,
)
from usageledger.reports.month_close import MONTH_STATES, read_months, read_reconciliation, usd
from usageledger.reports.periods import PERIOD_PRESETS
from usageledger.store import list_connections
from usageledger.store.accounts import UserRow
from usageledger.web.deps import AdminUser, CsrfForm, PageUser, ServicesDep
from usageledger.web.templating import flash, render
from usageledger.web.uploads import read_csv_form

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE = "/finance/months"
_MONTHS_SHOWN = 12


def _dollars(microcents: int | None) -> Decimal | None:
    return None if microcents is None else usd(microcents)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _common() -> dict[str, Any]:
    return {"dollars": _dollars, "states": MONTH_STATES, "presets": PERIOD_PRESETS, "formats": FORMATS,
            "invoice_columns": ",".join(INVOICE_CSV_COLUMNS)}  # fmt: skip


@router.get(PAGE)
def months_page(request: Request, services: ServicesDep, user: PageUser) -> Response:
    today = _today()
    end = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    start = end
    for _ in range(_MONTHS_SHOWN):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    with services.engine.connect() as conn:
        months = read_months(conn, user.tenant_id, start, end, today=today,
                             lookback_days=services.settings.lookback_days)  # fmt: skip
    return render(request, "finance_months.html", title="Months", months=months, **_common())


def _month_page(
    request: Request, services: ServicesDep, user: UserRow, month_text: str, status: int = 200, **extra: Any
) -> HTMLResponse:
    month = parse_month(month_text)
    with services.engine.connect() as conn:
        rec = read_reconciliation(conn, user.tenant_id, month, today=_today(),
                                  lookback_days=services.settings.lookback_days)  # fmt: skip
    context: dict[str, Any] = {"error": None, "typed": {}, **_common(), **extra}
    response = render(request, "finance_month.html", status, title=f"{month:%B %Y}", rec=rec, **context)
    response.headers["cache-control"] = "no-store"
    return response


@router.get(PAGE + "/{month}")
def month_page(request: Request, services: ServicesDep, user: PageUser, month: str) -> Response:
    return _month_page(request, services, user, month)


def _act(
    request: Request, services: ServicesDep, user: UserRow, month: str, form: dict[str, Any], action: str
) -> Response:
    """Run one admin action in one transaction; on refusal, the page again with the message and the input."""
    organization = (form.get("organization_id") or "").strip() or None
    amount_text = (form.get("invoiced_usd") or "").strip()
    lookback, today = services.settings.lookback_days, _today()
    try:
        first = parse_month(month)
        with services.engine.begin() as conn:
            if action == "invoice" or (action == "close" and amount_text):
                enter_invoiced(conn, user.tenant_id, first, organization, parse_usd(amount_text), by=user.email,
                               today=today, lookback_days=lookback)  # fmt: skip
            if action == "close":
                close_month(conn, user.tenant_id, first, organization, by=user.email, today=today,
                            lookback_days=lookback)  # fmt: skip
            elif action == "reopen":
                reopen_month(conn, user.tenant_id, first, organization, by=user.email, today=today,
                             lookback_days=lookback)  # fmt: skip
            elif action == "import":
                known = {
                    c.organization_id for c in list_connections(conn, user.tenant_id) if c.organization_id
                }
                lines = parse_invoice_csv(form.get("invoice_csv") or "", known)
                import_invoices(
                    conn, user.tenant_id, lines, by=user.email, today=today, lookback_days=lookback
                )
    except UsageLedgerError as exc:
        status = exc.http_status if exc.http_status < 500 else 400
        return _month_page(request, services, user, month, status, error=exc.message, typed=form)
    done = {"invoice": "Invoiced amount saved.", "close": f"Closed {month}.", "reopen": f"Reopened {month}.",
            "import": "Invoiced amounts imported."}[action]  # fmt: skip
    flash(request, done, "success")
    return RedirectResponse(f"{PAGE}/{month}", status_code=303)


@router.post(PAGE + "/{month}/invoice")
def invoice(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm, month: str) -> Response:
    return _act(request, services, user, month, form, "invoice")


@router.post(PAGE + "/{month}/close")
def close(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm, month: str) -> Response:
    return _act(request, services, user, month, form, "close")


@router.post(PAGE + "/{month}/reopen")
def reopen(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm, month: str) -> Response:
    return _act(request, services, user, month, form, "reopen")


async def _invoice_form(request: Request) -> dict[str, Any] | UsageError:
    """The import form, the chosen file's text in `invoice_csv` (else what was pasted there)."""
    try:
        return await read_csv_form(request, file_field="invoice_file", text_field="invoice_csv")
    except UsageError as exc:  # not UTF-8: said on the page, like a bad line
        return exc


InvoiceForm = Annotated[dict[str, Any] | UsageError, Depends(_invoice_form)]


@router.post(PAGE + "/{month}/import")
def import_csv(
    request: Request, services: ServicesDep, user: AdminUser, form: InvoiceForm, month: str
) -> Response:
    if isinstance(form, UsageError):
        return _month_page(request, services, user, month, 400, error=form.message)
    return _act(request, services, user, month, form, "import")
