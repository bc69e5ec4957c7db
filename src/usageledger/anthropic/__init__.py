"""Speaks the Anthropic Admin API: client, sources (analytics, classic reports), directory, wire → records."""

from .actor_wire import ActorPage
from .client import ANALYTICS_BETA, AdminApiClient, RateLimitNotice
from .directory import fetch_directory, fetch_organization
from .keys import check_admin_key_shape
from .sources import (
    GROUP_BY,
    ActorSource,
    AnalyticsSource,
    ClassicSource,
    Source,
    Totals,
    source_named,
)
from .wire import CostPage, UsagePage

__all__ = [
    "ANALYTICS_BETA",
    "GROUP_BY",
    "ActorPage",
    "ActorSource",
    "AdminApiClient",
    "AnalyticsSource",
    "ClassicSource",
    "CostPage",
    "RateLimitNotice",
    "Source",
    "Totals",
    "UsagePage",
    "check_admin_key_shape",
    "fetch_directory",
    "fetch_organization",
    "source_named",
]
