"""Budget vs actual vs forecast: one read model for the budgets page, the overview's card, the JSON API,
the CLI and the alert evaluation.

Each budget's subject has a daily cost series (the daily grain filtered by organization, workspace, API key
or model; or the allocation's attribution per day for a team, cost center, person or application). The
month-end forecast is the overview's (`forecast.plan_forecast`), a range. "Forecast to cross by the 21st" is
the day the month's spend reaches the amount at the slow end of the daily pace (the 25th percentile): even at
that pace it is crossed by then; at the fast end (75th) it may be crossed as early as `earliest`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import Connection, select

from usageledger.store.budgets import BUDGET_SUBJECTS, BudgetRow, list_budgets
from usageledger.store.ownership import list_applications
from usageledger.store.spend_limits import StoredSpendLimit, list_spend_limits
from usageledger.store.tables import (
    anthropic_api_keys,
    anthropic_workspaces,
    connections,
    cost_rollups,
    people,
    teams,
)

from .allocation import AttributedSpend, attribute_spend, plan_rows
from .allocation_data import SpendScope, load_directory
from .forecast import BASIS_DAYS, Forecast, plan_forecast
from .status import status_report
from .usage import UsageQuery, query_cost

__all__ = [
    "BudgetStatus",
    "BudgetsView",
    "Crossing",
    "LimitStatus",
    "plan_budget_status",
    "plan_crossing",
    "plan_crossing_day",
    "read_budget_statuses",
    "read_budgets",
    "read_limit_statuses",
    "read_subject_choices",
]

_ZERO = Decimal(0)
# The budget subjects read from the daily grain, and the query filter each is.
_GRAIN_FILTERS = {
    "organization": "organization",
    "workspace": "workspace",
    "api_key": "api_key",
    "model": "model",
}


@dataclass(frozen=True, slots=True)
class Crossing:
    """One threshold of a budget: whether spend has crossed it, and whether and when the forecast does."""

    pct: int
    amount: Decimal  # the threshold in USD
    actual: bool  # month-to-date spend has reached it
    forecast: bool  # the forecast's low end reaches it (so does the rest of the range)
    by_day: dt.date | None  # the day the month's spend reaches it at the slow pace (forecast crossings)
    earliest: dt.date | None  # … at the fast pace


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: BudgetRow
    label: str
    month: dt.date  # the month's first day
    actual: Decimal  # month to date, today's partial spend included
    forecast: Forecast
    crossings: tuple[Crossing, ...]

    @property
    def amount(self) -> Decimal:
        return self.budget.amount_usd

    @property
    def actual_pct(self) -> Decimal:
        return (self.actual / self.amount * 100).quantize(Decimal("0.1"))

    @property
    def forecast_pct(self) -> tuple[Decimal, Decimal] | None:
        f = self.forecast
        if f.low is None or f.high is None:
            return None
        return (f.low / self.amount * 100).quantize(Decimal("0.1")), (f.high / self.amount * 100).quantize(
            Decimal("0.1")
        )

    @property
    def exceed(self) -> Crossing | None:
        """The crossing of the whole amount (100 %), whether or not 100 is one of the thresholds."""
        return plan_crossing(self.amount, 100, self.forecast)

    @property
    def state(self) -> str:
        """over (spent more than the budget) | forecast_over | warning (a threshold crossed) | ok | no_data."""
        if self.actual >= self.amount:
            return "over"
        if self.forecast.low is not None and self.forecast.low >= self.amount:
            return "forecast_over"
        if any(c.actual or c.forecast for c in self.crossings):
            return "warning"
        return "ok" if self.forecast.enough_data or self.actual else "no_data"


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def plan_crossing_day(
    forecast: Forecast, amount: Decimal, daily_pace: Decimal | None, today: dt.date
) -> dt.date | None:
    """The day this month's spend reaches `amount` at `daily_pace`, counting today as a day still to come;
    None when it is reached already, never within the month, or there is no pace to go by."""
    if forecast.spent >= amount or daily_pace is None or daily_pace <= 0:
        return None
    days = math.ceil((amount - forecast.complete_spent) / daily_pace)
    day = today + dt.timedelta(days=max(days, 1) - 1)
    return day if day <= forecast.month_end else None


def plan_crossing(amount: Decimal, pct: int, forecast: Forecast) -> Crossing:
    threshold = amount * pct / 100
    today = forecast.month_end - dt.timedelta(days=forecast.days_left - 1)
    actual = forecast.spent >= threshold
    on_forecast = not actual and forecast.low is not None and forecast.low >= threshold
    by_day = plan_crossing_day(forecast, threshold, forecast.daily_low, today)
    earliest = plan_crossing_day(forecast, threshold, forecast.daily_high, today)
    return Crossing(pct, threshold, actual, on_forecast, by_day, earliest)


def plan_budget_status(
    budget: BudgetRow,
    label: str,
    daily: Mapping[dt.date, Decimal],
    *,
    today: dt.date,
    first_day: dt.date | None,
) -> BudgetStatus:
    """Pure: the budget's month to date, forecast and crossings from its subject's daily cost."""
    forecast = plan_forecast(daily, today=today, first_day=first_day)
    amount = budget.amount_usd
    crossings = tuple(plan_crossing(amount, pct, forecast) for pct in budget.thresholds)
    return BudgetStatus(budget, label, forecast.month_start, forecast.spent, forecast, crossings)


# --- reading ------------------------------------------------------------------------------------------------


def _names(conn: Connection, tenant_id: int) -> dict[tuple[str, str], str]:
    """(subject type, id) -> name of every subject a budget can be set on that the workspace knows."""
    mine = select(connections.c.id).where(connections.c.tenant_id == tenant_id)
    names: dict[tuple[str, str], str] = {}
    for r in conn.execute(
        select(connections.c.organization_id, connections.c.organization_name).where(
            connections.c.tenant_id == tenant_id, connections.c.state != "disconnected"
        )
    ):
        if r.organization_id:
            names[("organization", r.organization_id)] = r.organization_name or r.organization_id
    w, k, m = anthropic_workspaces, anthropic_api_keys, cost_rollups["model"]
    for r in conn.execute(select(w.c.id, w.c.name).where(w.c.connection_id.in_(mine))):
        names[("workspace", r.id)] = r.name
    for r in conn.execute(select(k.c.id, k.c.name).where(k.c.connection_id.in_(mine))):
        names[("api_key", r.id)] = r.name
    for (model,) in conn.execute(
        select(m.c.model).where(m.c.connection_id.in_(mine), m.c.model != "").distinct()
    ):
        names[("model", model)] = model
    for t in conn.execute(
        select(teams.c.id, teams.c.display_name, teams.c.cost_center).where(teams.c.tenant_id == tenant_id)
    ):
        names[("team", str(t.id))] = t.display_name
        if t.cost_center:
            names[("cost_center", t.cost_center)] = t.cost_center
    for p in conn.execute(
        select(people.c.id, people.c.display_name, people.c.user_name, people.c.cost_center).where(
            people.c.tenant_id == tenant_id
        )
    ):
        names[("person", str(p.id))] = p.display_name or p.user_name
        if p.cost_center:
            names[("cost_center", p.cost_center)] = p.cost_center
    for app in list_applications(conn, tenant_id):
        names[("application", str(app.id))] = app.name
    return names


def read_subject_choices(conn: Connection, tenant_id: int) -> list[tuple[str, str, str]]:
    """(subject type, id, "Type · name") of every known subject, for the budget form's suggestions."""
    names = _names(conn, tenant_id)
    return sorted(
        ((kind, key, f"{BUDGET_SUBJECTS[kind]} · {name}") for (kind, key), name in names.items()),
        key=lambda c: (list(BUDGET_SUBJECTS).index(c[0]), c[2].lower()),
    )


def _labels(conn: Connection, tenant_id: int) -> Callable[[str, str], str]:
    names = _names(conn, tenant_id)

    def label(subject_type: str, subject_id: str) -> str:
        return f"{BUDGET_SUBJECTS[subject_type]} {names.get((subject_type, subject_id), subject_id)}"

    return label


class _DailySpend:
    """Daily cost per budget subject over [since, until]; the allocation's attribution is run once a day."""

    def __init__(self, conn: Connection, tenant_id: int, since: dt.date, until: dt.date) -> None:
        self._conn, self._tenant_id, self._since, self._until = conn, tenant_id, since, until
        self._attributed: dict[dt.date, list[AttributedSpend]] | None = None
        self._rows: dict[tuple[str, dt.date], dict[str, int]] = {}  # (dimension, day) -> key -> micro-cents

    def __call__(self, subject_type: str, subject_id: str) -> dict[dt.date, Decimal]:
        if subject_type in _GRAIN_FILTERS:
            query = UsageQuery(tenant_id=self._tenant_id, since=self._since, until=self._until, group_by=("date",),
                               filters={_GRAIN_FILTERS[subject_type]: [subject_id]})  # fmt: skip
            return {r.date: r.amount_usd for r in query_cost(self._conn, query).rows if r.date is not None}
        out: dict[dt.date, Decimal] = {}
        for day, attributed in self._attributed_days().items():
            rows = self._rows.get((subject_type, day))
            if rows is None:
                rows = self._rows[(subject_type, day)] = {
                    r.key: r.amount_microcents
                    for r in plan_rows(subject_type, attributed)
                    if not r.unallocated
                }
            if subject_id in rows:
                out[day] = Decimal(rows[subject_id]).scaleb(-8)
        return out

    def _attributed_days(self) -> dict[dt.date, list[AttributedSpend]]:
        """The attribution per day the forecast's pace needs, and one sum for the month's days before them
        (booked on its first day: the month's totals need only the sum), so a run costs ≤ 16 attributions."""
        if self._attributed is None:
            directory = load_directory(self._conn, self._tenant_id)
            spans: list[tuple[dt.date, dt.date]] = []
            paced_from = self._until - dt.timedelta(days=BASIS_DAYS)
            if self._since < paced_from:
                spans.append((self._since, paced_from - dt.timedelta(days=1)))
            day = max(self._since, paced_from)
            while day <= self._until:
                spans.append((day, day))
                day += dt.timedelta(days=1)
            self._attributed = {}
            scope = SpendScope.load(self._conn, self._tenant_id, self._since, self._until, None)
            for first, last in spans:
                spanned = replace(scope, since=first, until=last)
                self._attributed[first] = attribute_spend(self._conn, spanned, directory)[0]
        return self._attributed


def _first_day(conn: Connection, tenant_id: int) -> dt.date | None:
    first_days = [
        s.connection.first_day for s in status_report(conn, tenant_id=tenant_id) if s.connection.first_day
    ]
    return min(first_days, default=None)


def _reach(today: dt.date) -> dt.date:
    """The first day a month-to-date sum and its forecast's pace need."""
    return min(today.replace(day=1), today - dt.timedelta(days=BASIS_DAYS))


def read_budget_statuses(conn: Connection, tenant_id: int, today: dt.date) -> list[BudgetStatus]:
    """Every budget of the tenant against this month (UTC) as `today` sees it."""
    found = list_budgets(conn, tenant_id)
    if not found:
        return []
    spend = _DailySpend(conn, tenant_id, _reach(today), today)
    label = _labels(conn, tenant_id)
    first_day = _first_day(conn, tenant_id)
    return [
        plan_budget_status(
            b,
            label(b.subject_type, b.subject_id),
            spend(b.subject_type, b.subject_id),
            today=today,
            first_day=first_day,
        )  # fmt: skip
        for b in found
    ]


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """One of Anthropic's spend limits, and — for a monthly cap in US dollars on the organization or a
    workspace — this month's spend against it and whether the forecast reaches it (a hard stop)."""

    stored: StoredSpendLimit
    forecast: Forecast | None = None
    reached: Crossing | None = None  # the crossing of the whole limit


# The limits usageledger can set spend against: scope type -> the budget subject its spend is read as.
_LIMIT_SUBJECTS = {"organization": "organization", "usage_tier": "organization", "workspace": "workspace"}


def read_limit_statuses(conn: Connection, tenant_id: int, today: dt.date) -> list[LimitStatus]:
    """Anthropic's limits as the last syncs read them, each against this month's spend where comparable."""
    limits = list_spend_limits(conn, tenant_id)
    spend = _DailySpend(conn, tenant_id, _reach(today), today)
    first_day = _first_day(conn, tenant_id) if limits else None
    out = []
    for stored in limits:
        limit, subject = stored.limit, _LIMIT_SUBJECTS.get(stored.limit.scope_type)
        comparable = subject is not None and limit.period == "monthly" and limit.currency == "USD"
        if not comparable or limit.amount_minor is None or not limit.is_enabled:
            out.append(LimitStatus(stored))
            continue
        subject_id = stored.organization_id if subject == "organization" else limit.scope_id
        forecast = plan_forecast(spend(str(subject), subject_id or ""), today=today, first_day=first_day)
        out.append(
            LimitStatus(
                stored, forecast, plan_crossing(Decimal(limit.amount_minor).scaleb(-2), 100, forecast)
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class BudgetsView:
    """The budgets page: every budget against this month, and Anthropic's own spend limits beside them."""

    today: dt.date
    month_end: dt.date
    statuses: list[BudgetStatus]
    spend_limits: list[LimitStatus]
    workspace_names: dict[str, str]


def read_budgets(conn: Connection, tenant_id: int, today: dt.date) -> BudgetsView:
    mine = select(connections.c.id).where(connections.c.tenant_id == tenant_id)
    w = anthropic_workspaces
    names = {r.id: r.name for r in conn.execute(select(w.c.id, w.c.name).where(w.c.connection_id.in_(mine)))}
    return BudgetsView(today, _month_end(today), read_budget_statuses(conn, tenant_id, today),
                       read_limit_statuses(conn, tenant_id, today), names)  # fmt: skip
