"""`GET /api/v1/overview`: the overview read model as JSON, for the same period and filter as the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from usageledger.reports.overview_json import overview_json
from usageledger.reports.periods import PERIOD_PRESETS
from usageledger.web.deps import ApiUser, ServicesDep
from usageledger.web.schemas import ErrorOut
from usageledger.web.schemas_overview import OverviewOut
from usageledger.web.views_overview import OverviewForm, read_overview

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
