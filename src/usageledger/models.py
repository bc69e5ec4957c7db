"""Pure values shared by every layer: dimensions, usage and cost records, windows, directory entries.

Nothing here does I/O. `None` in a dimension means "not reported / not applicable" (for example
code execution has no model); the store keeps it as an empty string so natural keys stay unique.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "DIMENSIONS",
    "GROUP_FIELDS",
    "USAGE_METRICS",
    "ApiKeyInfo",
    "CostRecord",
    "Dimensions",
    "Organization",
    "UsageRecord",
    "UserInfo",
    "Window",
    "WorkspaceInfo",
]

# The grain of a stored row, in the order of the natural key (after connection and day).
DIMENSIONS: tuple[str, ...] = (
    "organization_id",
    "workspace_id",
    "api_key_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)

# What a user may group by, on the CLI, the pages and the JSON API.
GROUP_FIELDS: tuple[str, ...] = (
    "date",
    "month",
    "organization",
    "workspace",
    "api_key",
    "model",
    "service_tier",
    "context_window",
)

# Metrics of a usage row as stored; `input_tokens` everywhere a user looks means uncached input.
USAGE_METRICS: tuple[str, ...] = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "requests",
    "web_search_requests",
)


class Dimensions(NamedTuple):
    """The dimension values one usage or cost row is broken out by.

    NamedTuples, not dataclasses, for the per-row values: a sync builds millions of them, and a tuple is
    several times cheaper to create than a frozen dataclass while staying immutable and hashable.
    """

    organization_id: str | None = None
    workspace_id: str | None = None
    api_key_id: str | None = None
    model: str | None = None
    service_tier: str | None = None
    context_window: str | None = None
    inference_geo: str | None = None
    speed: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """A range of whole UTC days: `start` inclusive, `end` exclusive."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty window {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def starting_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    def ending_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time(), tzinfo=dt.UTC)


class UsageRecord(NamedTuple):
    """Token usage of one day and one combination of dimensions."""

    day: dt.date
    dims: Dimensions
    uncached_input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_5m_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    requests: int | None = None  # the classic report endpoint does not report requests
    web_search_requests: int = 0


class CostRecord(NamedTuple):
    """Reported cost of one day and one combination of dimensions, in US cents as the API gives it."""

    day: dt.date
    dims: Dimensions
    amount_cents: Decimal = Decimal(0)
    list_amount_cents: Decimal = Decimal(0)
    currency: str = "USD"
    requests: int | None = None


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    id: str
    name: str
    archived_at: dt.datetime | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: str
    name: str
    workspace_id: str | None = None
    status: str | None = None
    partial_key_hint: str | None = None
    created_by_id: str | None = None
    created_by_type: str | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    email: str
    name: str
    role: str | None = None
    added_at: dt.datetime | None = None


@dataclass(slots=True)
class Directory:
    """Names beside ids: what `/organizations/workspaces|api_keys|users` returned."""

    workspaces: list[WorkspaceInfo] = field(default_factory=list)
    api_keys: list[ApiKeyInfo] = field(default_factory=list)
    users: list[UserInfo] = field(default_factory=list)


__all__ += ["Directory"]
