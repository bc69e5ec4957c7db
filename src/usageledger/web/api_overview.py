"""`GET /api/v1/overview` (the overview read model as JSON, for the same period and filter as the page) and
`GET /api/v1/overview/today` (today so far by hour)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from usageledger.errors import UsageError
from usageledger.reports.overview_json import overview_json
from usageledger.reports.periods import PERIOD_PRESETS
from usageledger.reports.today_by_hour import today_by_hour, today_by_hour_json
from usageledger.web.deps import ApiUser, ServicesDep
from usageledger.web.schemas import ErrorOut
from usageledger.web.schemas_overview import OverviewOut, TodayByHourOut
from usageledger.web.views_overview import OverviewForm, organization_options, read_overview

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["api"])

_PERIOD_HELP = (
    f"One of {', '.join(PERIOD_PRESETS)}, a month YYYY-MM, or custom (then since/until). "
    "Default: this-month (month to date, UTC). A preset ignores since/until."
)


@router.get(
    "/overview",
    response_model=OverviewOut,
    summary="Spend overview",
    responses={
        400: {"model": ErrorOut, "description": "Unknown period, bad or reversed days, unknown organization"},
        401: {"model": ErrorOut, "description": "Not signed in / bad token"},
    },  # fmt: skip
)
def overview(
    user: ApiUser,
    services: ServicesDep,
    period: Annotated[str, Query(max_length=20, description=_PERIOD_HELP)] = "",
    since: Annotated[str, Query(max_length=20, description="First day, inclusive (YYYY-MM-DD, UTC).")] = "",
    until: Annotated[str, Query(max_length=20, description="Last day, inclusive (YYYY-MM-DD, UTC).")] = "",
    organization: Annotated[str, Query(max_length=200, description="Only this organization id.")] = "",
) -> OverviewOut:
    """Cost, list cost and discount, the comparison, the month-end forecast, top 5s, daily cost, cache, freshness."""
    form = OverviewForm(period=period, since=since, until=until, organization=organization)
    with services.engine.connect() as conn:
        found = read_overview(conn, services.settings, user.tenant_id, form)
    return OverviewOut.model_validate(overview_json(found))


@router.get(
    "/overview/today",
    response_model=TodayByHourOut,
    summary="Today so far by hour",
    responses={
        400: {"model": ErrorOut, "description": "Unknown organization"},
        401: {"model": ErrorOut, "description": "Not signed in / bad token"},
    },  # fmt: skip
)
def overview_today(
    user: ApiUser,
    services: ServicesDep,
    organization: Annotated[str, Query(max_length=200, description="Only this organization id.")] = "",
) -> TodayByHourOut:
    """Cost and tokens per UTC hour since midnight, beside yesterday's same hours, as of the last sync."""
    wanted = organization.strip() or None
    with services.engine.connect() as conn:
        if wanted is not None and wanted not in {o.id for o in organization_options(conn, user.tenant_id)}:
            raise UsageError(
                f"Unknown organization {wanted!r}: `GET /api/v1/overview` lists the connected ones."
            )
        hours = today_by_hour(conn, user.tenant_id, dt.datetime.now(dt.UTC), wanted)
    return TodayByHourOut.model_validate(today_by_hour_json(hours))
