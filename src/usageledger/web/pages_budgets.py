"""The budgets page (`/budgets`: budget vs actual vs forecast, thresholds, Anthropic's spend limits beside)
and the alerts page (`/alerts`: history and state). Members read; admins add, change and delete budgets.

A bad amount, subject or threshold is a sentence above the form with what was typed kept (status 400, or
409 for a subject that has a budget already), never the error page. A change evaluates the alerts at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from usageledger.alerting import configured_sink, evaluate_and_deliver
from usageledger.errors import UsageLedgerError
from usageledger.reports.budgets import read_budget_statuses, read_budgets, read_subject_choices
from usageledger.store.accounts import UserRow
from usageledger.store.alerts import ALERT_STATES, count_open_alerts, list_alerts
from usageledger.store.budgets import BUDGET_SUBJECTS, create_budget, delete_budget, update_budget
from usageledger.store.destinations import last_delivery_per_destination
from usageledger.web.deps import AdminUser, CsrfForm, PageUser, ServicesDep
from usageledger.web.params import PathId
from usageledger.web.templating import flash, render

__all__ = ["ALERTS_PATH", "BUDGETS_PATH", "budget_card", "router"]

BUDGETS_PATH = "/budgets"
ALERTS_PATH = "/alerts"

router = APIRouter(include_in_schema=False)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _page(
    request: Request, services: ServicesDep, user: UserRow, status: int = 200, **extra: Any
) -> HTMLResponse:
    with services.engine.connect() as conn:
        view = read_budgets(conn, user.tenant_id, _today())
        choices = read_subject_choices(conn, user.tenant_id) if user.role == "admin" else []
    context: dict[str, Any] = {"title": "Budgets", "view": view, "subjects": BUDGET_SUBJECTS, "error": None,
                               "typed": {}, "edit_error": None, "choices": choices}  # fmt: skip
    context.update(extra)
    return render(request, "budgets.html", status, **context)


def _after_change(request: Request, services: ServicesDep, user: UserRow, message: str) -> Response:
    raised = evaluate_and_deliver(
        services.engine, user.tenant_id, _today(), configured_sink(services.settings, services.engine)
    )
    if raised:
        message += f" {len(raised)} new alert(s): see Alerts."
    flash(request, message)
    return RedirectResponse(BUDGETS_PATH, status_code=303)


def budget_card(conn: Connection, tenant_id: int, today: dt.date) -> dict[str, Any]:
    """What the overview's budget card shows: every budget against this month, and the open alerts."""
    return {
        "budgets": read_budget_statuses(conn, tenant_id, today),
        "open_alerts": count_open_alerts(conn, tenant_id),
    }


@router.get(BUDGETS_PATH)
def budgets_page(request: Request, services: ServicesDep, user: PageUser) -> Response:
    return _page(request, services, user)


@router.post(BUDGETS_PATH)
def add_budget(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm) -> Response:
    typed = {k: str(form.get(k, ""))[:200] for k in ("subject_type", "subject_id", "amount", "thresholds")}
    try:
        with services.engine.begin() as conn:
            row = create_budget(conn, user.tenant_id, subject_type=typed["subject_type"], subject_id=typed["subject_id"],
                                amount=typed["amount"], thresholds=typed["thresholds"], actor=user.email)  # fmt: skip
    except UsageLedgerError as exc:
        return _page(request, services, user, exc.http_status, error=exc.message, typed=typed)
    return _after_change(request, services, user, f"Budget of {row.amount_usd:,.2f} USD a month added.")


@router.post(f"{BUDGETS_PATH}/{{budget_id}}")
def change_budget(
    request: Request, budget_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    amount, thresholds = str(form.get("amount", ""))[:30], str(form.get("thresholds", ""))[:100]
    try:
        with services.engine.begin() as conn:
            update_budget(
                conn, user.tenant_id, budget_id, amount=amount, thresholds=thresholds, actor=user.email
            )
    except UsageLedgerError as exc:
        return _page(request, services, user, exc.http_status, edit_error=(budget_id, exc.message))
    return _after_change(request, services, user, f"Budget #{budget_id} changed.")


@router.post(f"{BUDGETS_PATH}/{{budget_id}}/delete")
def remove_budget(
    request: Request, budget_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    with services.engine.begin() as conn:
        row = delete_budget(conn, user.tenant_id, budget_id, actor=user.email)
    return _after_change(request, services, user, f"Budget #{row.id} deleted; its open alerts are resolved.")


@router.get(ALERTS_PATH)
def alerts_page(request: Request, services: ServicesDep, user: PageUser, state: str = "") -> Response:
    chosen = state if state in ALERT_STATES else None
    with services.engine.connect() as conn:
        found = list_alerts(conn, user.tenant_id, state=chosen)
        deliveries = last_delivery_per_destination(conn, user.tenant_id, [a.id for a in found])
    error = f"Show open or resolved alerts; “{state[:40]}” is neither." if state and chosen is None else None
    return render(request, "alerts.html", 400 if error else 200, title="Alerts", alerts=found, state=chosen or "",
                  deliveries=deliveries, error=error)  # fmt: skip
