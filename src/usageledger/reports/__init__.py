"""One read model for every rendering: CLI tables, web pages, the JSON API and exports."""

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
    daily_series,
    iter_usage,
    query_cost,
    query_usage,
)

__all__ = [
    "COST_METRICS",
    "FILTER_FIELDS",
    "USAGE_METRICS_JSON",
    "USD_DECIMALS",
    "ConnectionStatus",
    "CostReport",
    "CostRow",
    "UsageQuery",
    "UsageReport",
    "UsageRow",
    "daily_series",
    "iter_usage",
    "query_cost",
    "query_usage",
    "status_report",
]
