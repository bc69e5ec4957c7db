"""One read model for every rendering: CLI tables, web pages, the JSON API and exports."""

from .allocation import ALLOCATION_DIMENSIONS, Allocation, AllocationRow, allocate
from .allocation_json import allocation_json
from .allocation_views import AllocationDetail, read_allocation_detail
from .forecast import FORECAST_METHOD, Forecast, plan_change, plan_forecast
from .overview import Overview, build_overview
from .overview_json import overview_json
from .periods import (
    CUSTOM_PERIOD,
    PERIOD_PRESETS,
    Period,
    comparable_previous,
    first_provisional_day,
    resolve_period,
)
from .status import ConnectionStatus, status_report
from .usage import (
    COST_METRICS,
    FILTER_FIELDS,
    USAGE_METRICS_JSON,
    USD_DECIMALS,
    CostReport,
    CostRow,
    UsageQuery,
    UsageReport,
    UsageRow,
    iter_usage,
    query_cost,
    query_usage,
)

__all__ = [
    "ALLOCATION_DIMENSIONS",
    "Allocation",
    "AllocationDetail",
    "AllocationRow",
    "allocate",
    "allocation_json",
    "read_allocation_detail",
    "COST_METRICS",
    "CUSTOM_PERIOD",
    "FORECAST_METHOD",
    "PERIOD_PRESETS",
    "Forecast",
    "Overview",
    "Period",
    "build_overview",
    "comparable_previous",
    "overview_json",
    "plan_change",
    "plan_forecast",
    "first_provisional_day",
    "resolve_period",
    "FILTER_FIELDS",
    "USAGE_METRICS_JSON",
    "USD_DECIMALS",
    "ConnectionStatus",
    "CostReport",
    "CostRow",
    "UsageQuery",
    "UsageReport",
    "UsageRow",
    "iter_usage",
    "query_cost",
    "query_usage",
    "status_report",
]
