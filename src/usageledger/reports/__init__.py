"""One read model for every rendering: CLI tables, web pages, the JSON API and exports.

Importing the package is cheap: each name loads its module on first use (PEP 562), so a command that
needs the usage report does not also load the overview, the forecast and the allocation models
(measured: ~10-20 ms of a query command's start). Type checkers read the imports below
(their `as` re-exports them); `_HOMES` is the same list for the interpreter, and a test keeps the two equal.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .allocation import (
        ALLOCATION_DIMENSIONS as ALLOCATION_DIMENSIONS,
    )
    from .allocation import (
        Allocation as Allocation,
    )
    from .allocation import (
        AllocationRow as AllocationRow,
    )
    from .allocation import (
        allocate as allocate,
    )
    from .allocation_json import (
        allocation_json as allocation_json,
    )
    from .allocation_views import (
        AllocationDetail as AllocationDetail,
    )
    from .allocation_views import (
        read_allocation_detail as read_allocation_detail,
    )
    from .forecast import (
        FORECAST_METHOD as FORECAST_METHOD,
    )
    from .forecast import (
        Forecast as Forecast,
    )
    from .forecast import (
        plan_change as plan_change,
    )
    from .forecast import (
        plan_forecast as plan_forecast,
    )
    from .overview import (
        Overview as Overview,
    )
    from .overview import (
        build_overview as build_overview,
    )
    from .overview_json import (
        overview_json as overview_json,
    )
    from .periods import (
        CUSTOM_PERIOD as CUSTOM_PERIOD,
    )
    from .periods import (
        PERIOD_PRESETS as PERIOD_PRESETS,
    )
    from .periods import (
        Period as Period,
    )
    from .periods import (
        comparable_previous as comparable_previous,
    )
    from .periods import (
        first_provisional_day as first_provisional_day,
    )
    from .periods import (
        resolve_period as resolve_period,
    )
    from .status import (
        ConnectionStatus as ConnectionStatus,
    )
    from .status import (
        status_report as status_report,
    )
    from .usage import (
        COST_METRICS as COST_METRICS,
    )
    from .usage import (
        FILTER_FIELDS as FILTER_FIELDS,
    )
    from .usage import (
        USAGE_METRICS_JSON as USAGE_METRICS_JSON,
    )
    from .usage import (
        USD_DECIMALS as USD_DECIMALS,
    )
    from .usage import (
        CostReport as CostReport,
    )
    from .usage import (
        CostRow as CostRow,
    )
    from .usage import (
        UsageQuery as UsageQuery,
    )
    from .usage import (
        UsageReport as UsageReport,
    )
    from .usage import (
        UsageRow as UsageRow,
    )
    from .usage import (
        iter_usage as iter_usage,
    )
    from .usage import (
        query_cost as query_cost,
    )
    from .usage import (
        query_usage as query_usage,
    )


# Where each public name lives.
_HOMES: dict[str, str] = {
    "ALLOCATION_DIMENSIONS": "allocation",
    "Allocation": "allocation",
    "AllocationRow": "allocation",
    "allocate": "allocation",
    "allocation_json": "allocation_json",
    "AllocationDetail": "allocation_views",
    "read_allocation_detail": "allocation_views",
    "FORECAST_METHOD": "forecast",
    "Forecast": "forecast",
    "plan_change": "forecast",
    "plan_forecast": "forecast",
    "Overview": "overview",
    "build_overview": "overview",
    "overview_json": "overview_json",
    "CUSTOM_PERIOD": "periods",
    "PERIOD_PRESETS": "periods",
    "Period": "periods",
    "comparable_previous": "periods",
    "first_provisional_day": "periods",
    "resolve_period": "periods",
    "ConnectionStatus": "status",
    "status_report": "status",
    "COST_METRICS": "usage",
    "FILTER_FIELDS": "usage",
    "USAGE_METRICS_JSON": "usage",
    "USD_DECIMALS": "usage",
    "CostReport": "usage",
    "CostRow": "usage",
    "UsageQuery": "usage",
    "UsageReport": "usage",
    "UsageRow": "usage",
    "iter_usage": "usage",
    "query_cost": "usage",
    "query_usage": "usage",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value
