"""The JSON API of budgets and alerts: `GET/POST /api/v1/budgets`, `PATCH/DELETE /api/v1/budgets/{id}`,
`GET /api/v1/alerts`. Members read; only admins change budgets. A change is an event and evaluates the
alerts at once, so a budget set below what is already spent alerts now."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from usageledger.alerting import configured_sink, evaluate_and_deliver
from usageledger.reports.budgets import read_budget_statuses, read_budgets
from usageledger.reports.budgets_json import alert_json, budget_json, spend_limit_json
from usageledger.store.alerts import list_alerts
from usageledger.store.budgets import BUDGET_SUBJECTS, create_budget, delete_budget, update_budget
from usageledger.web.deps import ApiAdmin, ApiUser, ServicesDep
from usageledger.web.params import PathId
from usageledger.web.schemas import ErrorOut

__all__ = ["router"]

_ERRORS = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "Bad subject, amount or thresholds",
        401: "Not signed in / bad token",
        403: "Forbidden (members change no budget, or CSRF)",
        404: "No such budget in your workspace",
        409: "The subject has a budget already",
        422: "Validation error",
    }.items()
}
router = APIRouter(prefix="/api/v1", tags=["budgets"], responses=_ERRORS)  # type: ignore[arg-type]

_Pct = Annotated[int, Field(ge=1, le=1000)]
_Amount = Annotated[str, Field(min_length=1, max_length=30, description='US dollars a month, e.g. "5000.00"')]
_Thresholds = Annotated[list[_Pct], Field(min_length=1, max_length=10, description="Percents that alert")]


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject_type: Annotated[str, Field(description=f"One of {', '.join(BUDGET_SUBJECTS)}", max_length=40)]
    subject_id: Annotated[str, Field(min_length=1, max_length=200)]
    amount_usd: _Amount
    thresholds: _Thresholds | None = None


class BudgetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_usd: _Amount | None = None
    thresholds: _Thresholds | None = None


class BudgetsOut(BaseModel):
    month: str
    budgets: list[dict[str, Any]]
    spend_limits: list[dict[str, Any]]


class AlertsOut(BaseModel):
    alerts: list[dict[str, Any]]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _thresholds(values: list[int] | None) -> str | None:
    return None if values is None else ",".join(map(str, values))


def _one(services: ServicesDep, tenant_id: int, budget_id: int) -> dict[str, Any]:
    evaluate_and_deliver(
        services.engine, tenant_id, _today(), configured_sink(services.settings, services.engine)
    )
    with services.engine.connect() as conn:
        found = [s for s in read_budget_statuses(conn, tenant_id, _today()) if s.budget.id == budget_id]
    return budget_json(found[0])


@router.get(
    "/budgets", response_model=BudgetsOut, summary="Budgets against this month, and Anthropic's spend limits"
)
def budgets(user: ApiUser, services: ServicesDep) -> BudgetsOut:
    """Each budget: amount, thresholds, spent so far, the month-end forecast range and the day it is forecast
    to be exceeded, state; beside them Anthropic's own spend limits (amounts in the currency's major unit)."""
    with services.engine.connect() as conn:
        view = read_budgets(conn, user.tenant_id, _today())
    return BudgetsOut(
        month=view.today.strftime("%Y-%m"),
        budgets=[budget_json(s) for s in view.statuses],
        spend_limits=[spend_limit_json(s) for s in view.spend_limits],
    )


@router.post("/budgets", status_code=201, summary="Add a budget (admins)")
def add_budget(body: BudgetIn, user: ApiAdmin, services: ServicesDep) -> dict[str, Any]:
    with services.engine.begin() as conn:
        row = create_budget(conn, user.tenant_id, subject_type=body.subject_type, subject_id=body.subject_id,
                            amount=body.amount_usd, thresholds=_thresholds(body.thresholds), actor=user.email)  # fmt: skip
    return _one(services, user.tenant_id, row.id)


@router.patch("/budgets/{budget_id}", summary="Change a budget's amount or thresholds (admins)")
def change_budget(
    budget_id: PathId, body: BudgetPatch, user: ApiAdmin, services: ServicesDep
) -> dict[str, Any]:
    with services.engine.begin() as conn:
        update_budget(conn, user.tenant_id, budget_id, amount=body.amount_usd,
                      thresholds=_thresholds(body.thresholds), actor=user.email)  # fmt: skip
    return _one(services, user.tenant_id, budget_id)


@router.delete("/budgets/{budget_id}", status_code=204, summary="Delete a budget (admins)")
def remove_budget(budget_id: PathId, user: ApiAdmin, services: ServicesDep) -> Response:
    with services.engine.begin() as conn:
        delete_budget(conn, user.tenant_id, budget_id, actor=user.email)
    evaluate_and_deliver(
        services.engine, user.tenant_id, _today(), configured_sink(services.settings, services.engine)
    )
    return Response(status_code=204)


@router.get("/alerts", response_model=AlertsOut, summary="Alerts, newest first")
def alerts(
    user: ApiUser,
    services: ServicesDep,
    state: Annotated[str | None, Query(pattern="^(open|resolved)$", description="open or resolved")] = None,
    kind: Annotated[
        str | None, Query(max_length=40, description="budget, spend_limit (Anthropic's limits) or anomaly")
    ] = None,
) -> AlertsOut:
    with services.engine.connect() as conn:
        found = list_alerts(conn, user.tenant_id, state=state, kind=kind)
    return AlertsOut(alerts=[alert_json(a) for a in found])
