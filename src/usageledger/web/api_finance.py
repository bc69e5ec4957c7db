"""The JSON API of month close: `GET /api/v1/months`, `GET /api/v1/months/{month}` (the reconciliation),
`PUT …/invoice`, `POST …/close`, `POST …/reopen` and `POST /api/v1/invoices` (CSV). Members read; only admins
enter invoices and close or reopen months, and each of those is an event naming who did it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field

from usageledger.reports.month_actions import (
    close_month,
    enter_invoiced,
    import_invoices,
    parse_invoice_csv,
    parse_month,
    parse_usd,
    reopen_month,
)
from usageledger.reports.month_close import read_months, read_reconciliation, reconciliation_json
from usageledger.store import list_connections
from usageledger.web.deps import ApiAdmin, ApiUser, Services, ServicesDep
from usageledger.web.schemas import ErrorOut

__all__ = ["router"]

_ERRORS = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "Bad month, amount, organization or invoice file (each bad line named)",
        401: "Not signed in / bad token",
        403: "Forbidden (members only read here, or CSRF)",
        409: "Already closed, or revisions of it were booked (no reopen)",
        422: "Validation error",
    }.items()
}
router = APIRouter(prefix="/api/v1", tags=["month close"], responses=_ERRORS)  # type: ignore[arg-type]

Month = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
Reconciliation = dict[str, Any]


class InvoiceIn(BaseModel):
    invoiced_usd: str = Field(max_length=40, description="Dollars as a decimal string, e.g. '1234.56'.")
    organization_id: str | None = Field(
        None, max_length=200, description="Needed when several are connected."
    )


class CloseIn(BaseModel):
    organization_id: str | None = Field(None, max_length=200, description="Only this one; all when omitted.")
    invoiced_usd: str | None = Field(None, max_length=40, description="Enter the invoiced amount first.")


class InvoicesIn(BaseModel):
    csv: str = Field(max_length=1_000_000, description="The file's text: organization_id,month,invoiced_usd.")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _reconciliation(
    services: Services, tenant_id: int, month: dt.date, organization: str | None
) -> Reconciliation:
    with services.engine.connect() as conn:
        rec = read_reconciliation(
            conn, tenant_id, month, today=_today(), lookback_days=services.settings.lookback_days,
            organization=organization,
        )  # fmt: skip
    return reconciliation_json(rec)


@router.get("/months", summary="Each month's state, reported cost and invoiced amount, newest first")
def months(
    user: ApiUser, services: ServicesDep, last: Annotated[int, Query(ge=1, le=60)] = 12
) -> list[Reconciliation]:
    today = _today()
    end = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    start = end
    for _ in range(last):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    with services.engine.connect() as conn:
        found = read_months(
            conn, user.tenant_id, start, end, today=today, lookback_days=services.settings.lookback_days
        )
    return [reconciliation_json(m) for m in found]


@router.get(
    "/months/{month}", summary="Reconcile a month: reported vs invoiced, the difference and its reasons"
)
def reconcile(
    user: ApiUser,
    services: ServicesDep,
    month: Month,
    organization: Annotated[str, Query(max_length=200)] = "",
) -> Reconciliation:
    return _reconciliation(services, user.tenant_id, parse_month(month), organization or None)


@router.put(
    "/months/{month}/invoice", summary="Enter the invoiced amount of an organization's month (admins)"
)
def put_invoice(user: ApiAdmin, services: ServicesDep, month: Month, body: InvoiceIn) -> Reconciliation:
    first, amount = parse_month(month), parse_usd(body.invoiced_usd)
    with services.engine.begin() as conn:
        enter_invoiced(conn, user.tenant_id, first, body.organization_id, amount, by=user.email, today=_today(),
                       lookback_days=services.settings.lookback_days)  # fmt: skip
    return _reconciliation(services, user.tenant_id, first, body.organization_id)


@router.post("/months/{month}/close", summary="Close a month: its cost is frozen from now on (admins)")
def close(
    user: ApiAdmin, services: ServicesDep, month: Month, body: Annotated[CloseIn | None, Body()] = None
) -> Reconciliation:
    body = body or CloseIn(organization_id=None, invoiced_usd=None)
    first = parse_month(month)
    amount = parse_usd(body.invoiced_usd) if body.invoiced_usd else None
    lookback = services.settings.lookback_days
    with services.engine.begin() as conn:  # the invoice and the close together, or neither
        if amount is not None:
            enter_invoiced(conn, user.tenant_id, first, body.organization_id, amount, by=user.email,
                           today=_today(), lookback_days=lookback)  # fmt: skip
        close_month(conn, user.tenant_id, first, body.organization_id, by=user.email, today=_today(),
                    lookback_days=lookback)  # fmt: skip
    return _reconciliation(services, user.tenant_id, first, body.organization_id)


@router.post(
    "/months/{month}/reopen", summary="Reopen a closed month, if no revision of it was booked (admins)"
)
def reopen(
    user: ApiAdmin,
    services: ServicesDep,
    month: Month,
    organization: Annotated[str, Query(max_length=200)] = "",
) -> Reconciliation:
    first = parse_month(month)
    with services.engine.begin() as conn:
        reopen_month(conn, user.tenant_id, first, organization or None, by=user.email, today=_today(),
                     lookback_days=services.settings.lookback_days)  # fmt: skip
    return _reconciliation(services, user.tenant_id, first, organization or None)


@router.post(
    "/invoices", summary="Import invoiced amounts as CSV: organization_id,month,invoiced_usd (admins)"
)
def import_invoice_csv(
    user: ApiAdmin,
    services: ServicesDep,
    body: InvoicesIn,
) -> dict[str, int]:
    """All lines or none: a bad line is a 400 naming every bad line, and nothing is written."""
    with services.engine.begin() as conn:
        known = {c.organization_id for c in list_connections(conn, user.tenant_id) if c.organization_id}
        lines = parse_invoice_csv(body.csv, known)
        count = import_invoices(conn, user.tenant_id, lines, by=user.email, today=_today(),
                                lookback_days=services.settings.lookback_days)  # fmt: skip
    return {"imported": count}
