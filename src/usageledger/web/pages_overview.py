"""The overview page (`/overview`, where `/` lands after sign-in): where the money goes, at a glance.

A bad filter (a reversed range, a mistyped day, an unknown organization) is a sentence beside the
filters, with the filters as typed and status 400, never the error page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from usageledger.errors import UsageError
from usageledger.reports.adjustments import adjustments_booked
from usageledger.reports.periods import PERIOD_PRESETS
from usageledger.reports.today_by_hour import today_by_hour
from usageledger.web.deps import PageUser, ServicesDep
from usageledger.web.pages_budgets import budget_card
from usageledger.web.templating import render
from usageledger.web.views_overview import (
    OverviewForm,
    cost_chart,
    hour_chart,
    organization_options,
    read_overview,
)

__all__ = ["OVERVIEW_PATH", "router"]

OVERVIEW_PATH = "/overview"

router = APIRouter(include_in_schema=False)


@router.get(OVERVIEW_PATH)
def overview_page(
    request: Request,
    services: ServicesDep,
    user: PageUser,
    period: str = "",
    since: str = "",
    until: str = "",
    organization: str = "",
) -> Response:
    form = OverviewForm(
        period=period[:20], since=since[:20], until=until[:20], organization=organization[:200]
    )
    context: dict[str, Any] = {"title": "Overview", "form": form, "presets": PERIOD_PRESETS}
    context["adjustments"] = None  # booked to the period: revisions of closed months (reports.month_close)
    try:
        with services.engine.connect() as conn:
            overview = read_overview(conn, services.settings, user.tenant_id, form)
            context["adjustments"] = adjustments_booked(
                conn, user.tenant_id, overview.period.start, overview.period.end, overview.organization
            )
            context.update(budget_card(conn, user.tenant_id, overview.today))
            hours = today_by_hour(conn, user.tenant_id, dt.datetime.now(dt.UTC), overview.organization)
            context.update(hours=hours, hour_chart=hour_chart(hours))
    except UsageError as exc:
        with services.engine.connect() as conn:
            organizations = organization_options(conn, user.tenant_id)
        return render(request, "overview.html", 400, **context, error=exc.message, overview=None,
                      organizations=organizations)  # fmt: skip
    return render(request, "overview.html", **context, error=None, overview=overview, organizations=overview.organizations,
                  chart=cost_chart(overview))  # fmt: skip
