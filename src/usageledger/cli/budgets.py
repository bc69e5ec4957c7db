"""`usageledger budgets` and `usageledger alerts`: budgets against this month, and the alerts they raised.

`budgets create|update|delete` change a budget and evaluate the alerts at once (so a budget set below
what is already spent alerts now, not at the next sync); each change is a `budget_changed` event.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..store.budgets import BUDGET_SUBJECTS
from .app import app
from .context import AppContext, app_context
from .render import console, err_console, format_usd, print_table

if TYPE_CHECKING:
    from ..reports.budgets import BudgetStatus

__all__: list[str] = []

budgets_app = typer.Typer(
    help="Monthly budgets with alert thresholds, against actual spend and the forecast."
)
alerts_app = typer.Typer(help="Alerts raised by budgets (one per crossing).")
app.add_typer(budgets_app, name="budgets")
app.add_typer(alerts_app, name="alerts")

_ACTOR = "operator (CLI)"
_SUBJECTS = "|".join(BUDGET_SUBJECTS)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _statuses(actx: AppContext, tenant_id: int) -> list[BudgetStatus]:
    from ..reports.budgets import read_budget_statuses

    with actx.engine.connect() as conn:
        return read_budget_statuses(conn, tenant_id, _today())


def _forecast_text(s: BudgetStatus) -> str:
    f = s.forecast
    if f.low is None or f.high is None:
        return "not enough data yet"
    text = f"{format_usd(f.low)}–{format_usd(f.high)}"
    exceed = s.exceed
    if exceed is not None and exceed.by_day is not None and not exceed.actual:
        text += f", over by {exceed.by_day:%d %b}"
    return text


def _table(statuses: list[BudgetStatus]) -> Table:
    month = statuses[0].month if statuses else _today().replace(day=1)
    table = Table(title=f"Budgets, {month:%B %Y} (UTC)", title_justify="left")
    for name, justify in (("ID", "right"), ("Budget for", "left"), ("Amount", "right"), ("Spent", "right"),
                          ("Forecast (month end)", "right"), ("Alerts at", "right"), ("State", "left")):  # fmt: skip
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for s in statuses:
        table.add_row(str(s.budget.id), s.label, format_usd(s.amount), f"{format_usd(s.actual)} ({s.actual_pct} %)",
                      _forecast_text(s), "/".join(map(str, s.budget.thresholds)) + " %", s.state.replace("_", " "))  # fmt: skip
    return table


def _print(statuses: list[BudgetStatus], as_json: bool) -> None:
    from ..reports.budgets_json import budget_json

    if as_json:
        print(json.dumps([budget_json(s) for s in statuses], indent=2))
    elif statuses:
        print_table(_table(statuses))
    else:
        console.print(
            "No budgets yet; add one with `usageledger budgets create --on organization --id ORG --amount 5000`."
        )


def _changed(actx: AppContext, tenant_id: int, budget_id: int, as_json: bool) -> None:
    """Evaluate at once, then show the budget as it stands."""
    from ..alerting import configured_sink, evaluate_and_deliver

    raised = evaluate_and_deliver(
        actx.engine, tenant_id, _today(), configured_sink(actx.settings, actx.engine)
    )
    _print([s for s in _statuses(actx, tenant_id) if s.budget.id == budget_id], as_json)
    out = err_console if as_json else console  # --json keeps standard output one JSON document
    for alert in raised:
        out.print(f"[yellow]Alert:[/yellow] {alert.message}", highlight=False)


@budgets_app.command("list")
def list_budgets(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the budgets as JSON.")] = False,
) -> None:
    """Every budget against this month: spent so far, the month-end forecast, its state."""
    actx = app_context(ctx)
    _print(_statuses(actx, actx.tenant_id()), as_json)


@budgets_app.command("create")
def create(
    ctx: typer.Context,
    on: Annotated[str, typer.Option("--on", help=f"What the budget is for: {_SUBJECTS}.")],
    subject_id: Annotated[
        str,
        typer.Option(
            "--id",
            help="Its id: organization/workspace/API key id, model name, or team/person/application id; a cost center's name.",
        ),
    ],
    amount: Annotated[str, typer.Option("--amount", help="US dollars a month, e.g. 5000 or 5000.50.")],
    thresholds: Annotated[
        str, typer.Option("--thresholds", help="Percents that alert, e.g. 50,80,100.")
    ] = "50,80,100",
    as_json: Annotated[bool, typer.Option("--json", help="Print the budget as JSON.")] = False,
) -> None:
    """Add a monthly budget; alerts are evaluated at once."""
    from ..store.budgets import create_budget

    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.begin() as conn:
        row = create_budget(conn, tenant_id, subject_type=on, subject_id=subject_id, amount=amount,
                            thresholds=thresholds, actor=_ACTOR)  # fmt: skip
    _changed(actx, tenant_id, row.id, as_json)


@budgets_app.command("update")
def update(
    ctx: typer.Context,
    budget_id: Annotated[int, typer.Argument(help="The budget's id (`budgets list`).")],
    amount: Annotated[str | None, typer.Option("--amount", help="New US dollars a month.")] = None,
    thresholds: Annotated[
        str | None, typer.Option("--thresholds", help="New percents, e.g. 80,90,100.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the budget as JSON.")] = False,
) -> None:
    """Change a budget's amount and/or thresholds; alerts are evaluated at once."""
    from ..store.budgets import update_budget

    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.begin() as conn:
        update_budget(conn, tenant_id, budget_id, amount=amount, thresholds=thresholds, actor=_ACTOR)
    _changed(actx, tenant_id, budget_id, as_json)


@budgets_app.command("delete")
def delete(
    ctx: typer.Context, budget_id: Annotated[int, typer.Argument(help="The budget's id (`budgets list`).")]
) -> None:
    """Delete a budget; its open alerts are resolved, its history kept."""
    from ..alerting import configured_sink, evaluate_and_deliver
    from ..store.budgets import delete_budget

    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.begin() as conn:
        row = delete_budget(conn, tenant_id, budget_id, actor=_ACTOR)
    evaluate_and_deliver(actx.engine, tenant_id, _today(), configured_sink(actx.settings, actx.engine))
    console.print(f"Deleted budget #{row.id} ({BUDGET_SUBJECTS[row.subject_type].lower()} {row.subject_id}).")


@alerts_app.command("list")
def list_alerts_command(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="Only open or resolved alerts.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="Only alerts of this kind: budget, spend_limit, anomaly.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the alerts as JSON.")] = False,
) -> None:
    """Alerts, newest first: what crossed, when it was first raised, whether it still holds."""
    from ..errors import UsageError
    from ..reports.budgets_json import alert_json
    from ..store.alerts import ALERT_STATES, list_alerts

    if state is not None and state not in ALERT_STATES:
        raise UsageError(f"--state is one of {', '.join(ALERT_STATES)}; not {state!r}.")
    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.connect() as conn:
        found = list_alerts(conn, tenant_id, state=state, kind=kind)
    if as_json:
        print(json.dumps([alert_json(a) for a in found], indent=2))
        return
    if not found:
        console.print("No alerts.")
        return
    table = Table(title="Alerts (newest first)", title_justify="left")
    for name in ("ID", "Raised", "State", "Alert"):
        table.add_column(name, overflow="fold")
    for a in found:
        table.add_row(str(a.id), f"{a.first_raised_at:%Y-%m-%d %H:%M}", a.state, a.message)
    print_table(table)


def seed_demo_budget(actx: AppContext, organization_id: str) -> None:
    """The demo's budget: 90 % of the organization's pace of the last 30 days, so its forecast warns."""
    import calendar
    from decimal import Decimal

    from ..alerting import configured_sink, evaluate_and_deliver
    from ..reports.usage import UsageQuery, query_cost
    from ..store.budgets import create_budget

    today, tenant_id = _today(), actx.tenant_id()
    query = UsageQuery(
        tenant_id=tenant_id, since=today - dt.timedelta(days=30), until=today - dt.timedelta(days=1)
    )
    with actx.engine.connect() as conn:
        spent = sum((r.amount_usd for r in query_cost(conn, query).rows), Decimal(0))
    month_days = calendar.monthrange(today.year, today.month)[1]
    amount = (spent / 30 * month_days * Decimal("0.9") / 100).to_integral_value() * 100
    if amount <= 0:
        return
    with actx.engine.begin() as conn:
        create_budget(conn, tenant_id, subject_type="organization", subject_id=organization_id, amount=amount,
                      actor="demo")  # fmt: skip
    raised = evaluate_and_deliver(actx.engine, tenant_id, today, configured_sink(actx.settings, actx.engine))
    console.print(
        f"Demo budget: {amount:,.0f} USD a month on the organization ({len(raised)} alert(s); see Budgets)."
    )
