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
    "ACTOR",
    "COST_BREAKDOWN",
    "COST_METRICS",
    "DAILY",
    "DIMENSIONS",
    "GRAINS",
    "GROUP_FIELDS",
    "TOKEN_METRICS",
    "USAGE_METRICS",
    "ActorDimensions",
    "ActorInfo",
    "ApiKeyInfo",
    "CostRecord",
    "Dimensions",
    "Grain",
    "GroupField",
    "HOURLY",
    "HourlyDimensions",
    "MAX_GROUP_BY",
    "Organization",
    "UsageRecord",
    "UserInfo",
    "Window",
    "WorkspaceInfo",
]

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
# Every input and output token (uncached input, output, cache reads, cache writes of 5 minutes and of an
# hour): the usage metrics before the request counts, what the checks between grains compare.
TOKEN_METRICS: tuple[str, ...] = USAGE_METRICS[:5]
# Metrics of a cost row as stored: exact integer micro-cents (1e-6 US cent) and the API's currency.
COST_METRICS: tuple[str, ...] = ("amount_microcents", "list_amount_microcents", "currency", "requests")
# The API's group_by[] takes at most five dimensions (cost_type and token_type do not count).
MAX_GROUP_BY = 5
# What a cost row is broken out by beyond its grain's dimensions, named as the cost endpoints name them:
# the cost component (tokens, web search, code execution, session usage) and, for tokens, the token type.
# They cost no group_by[] slot and their fan-out rows do not count toward `limit`, but they do cost rows:
# ~4 a group. The daily grain is fetched and stored at this breakdown (the overview's cost by type and
# cache savings, the FOCUS export's SKUs read it); a grain whose readers sum it away declares none
# (`cost_breakdown=()`). The one list of them: the cost tables' columns and natural key, the wire decoding
# and the cost group_by[] derive from `Grain.cost_breakdown`, which defaults to it.
COST_BREAKDOWN: tuple[str, ...] = ("cost_type", "token_type")


_BUCKET_COLUMNS = {"1d": "day", "1h": "hour"}


class Dimensions(NamedTuple):
    """The dimension values one row of the daily grain is broken out by, in its natural-key order.

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
class GroupField:
    """A dimension users may group and filter by: its name there, the stored column, its label."""

    name: str  # as the CLI, the pages and the JSON API spell it: "workspace"
    column: str  # the stored column and the JSON key: "workspace_id"
    label: str  # a column heading: "Workspace"
    named: bool = False  # the directory has a name for each id, shown beside it


@dataclass(frozen=True)
class Grain:
    """One declared grain: its name, its dimensions and how they are fetched, stored and offered.

    Every layer derives from this: the wire decoder reads `dimensions`, the store's tables, natural keys
    and rollups are built from them, and the reports offer `fields`. Adding a grain is adding one.
    """

    name: str
    key: type[tuple[str | None, ...]]  # the NamedTuple of a row's dimension values, in natural-key order
    group_by: tuple[str, ...]  # the API's group_by[] that yields them (the organization comes from /me)
    usage_table: str
    cost_table: str
    fields: tuple[GroupField, ...] = ()  # what users group and filter by, in the order offered
    # name -> dimensions summed to, smallest first (rows a day): reports read the first that holds a query.
    # Usage and cost alike; `cost_rollups` adds cost-only ones, which may name the cost breakdown too.
    rollups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cost_rollups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    usage_metrics: tuple[str, ...] = USAGE_METRICS
    cost_metrics: tuple[str, ...] = COST_METRICS
    cost_breakdown: tuple[str, ...] = COST_BREAKDOWN
    # The API's time_bucket_width: "1d" rows are keyed by their UTC day (a date), "1h" rows by the UTC
    # hour they start (an aware datetime), stored in a column named after the width (`bucket_column`).
    bucket_width: str = "1d"

    def __post_init__(self) -> None:
        dims = set(self.dimensions)
        if len(self.group_by) > MAX_GROUP_BY:
            raise ValueError(f"grain {self.name}: the API groups by at most {MAX_GROUP_BY} dimensions")
        if bad := [f.column for f in self.fields if f.column not in dims]:
            raise ValueError(f"grain {self.name}: fields {bad} are not dimensions")
        if bad := [name for name, cols in self.rollups.items() if not set(cols) <= dims]:
            raise ValueError(f"grain {self.name}: rollups {bad} name columns that are not dimensions")
        cost_dims = set(self.cost_dimensions)
        if bad := [name for name, cols in self.cost_rollups.items() if not set(cols) <= cost_dims]:
            raise ValueError(
                f"grain {self.name}: cost rollups {bad} name columns that are not cost dimensions"
            )
        if clash := self.rollups.keys() & self.cost_rollups.keys():
            raise ValueError(f"grain {self.name}: rollups {sorted(clash)} are declared twice")
        if self.bucket_width not in _BUCKET_COLUMNS:
            raise ValueError(
                f"grain {self.name}: bucket width {self.bucket_width!r} is not one of {list(_BUCKET_COLUMNS)}"
            )
        if self.bucket_width != "1d" and (self.rollups or self.cost_rollups):
            raise ValueError(f"grain {self.name}: only daily grains have rollups (they sum days)")

    @property
    def bucket_column(self) -> str:
        """The stored column a row's time bucket is kept in: `day` (a date) or `hour` (a UTC datetime)."""
        return _BUCKET_COLUMNS[self.bucket_width]

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The stored dimension columns, in natural-key order (after connection and day)."""
        return tuple(getattr(self.key, "_fields"))  # noqa: B009  (a NamedTuple type; mypy sees a tuple)

    @property
    def cost_dimensions(self) -> tuple[str, ...]:
        """A cost row's natural key after connection and day: the dimensions, then the cost breakdown."""
        return (*self.dimensions, *self.cost_breakdown)

    @property
    def cost_group_by(self) -> tuple[str, ...]:
        """The cost endpoint's group_by[]: the grain's, plus the breakdown (which takes no slot)."""
        return (*self.group_by, *self.cost_breakdown)

    def all_cost_rollups(self) -> dict[str, tuple[str, ...]]:
        """Every rollup of the cost rows: the shared ones first (smallest first), then the cost-only ones."""
        return {**self.rollups, **self.cost_rollups}


# The daily grain: one row per day x organization, workspace, API key, model, service tier, context
# window, inference geo and speed. It takes all five group_by[] slots.
DAILY = Grain(
    name="daily",
    key=Dimensions,
    group_by=("workspace_id", "api_key_id", "model", "service_tier", "context_window"),
    usage_table="usage_rows",
    cost_table="cost_rows",
    fields=(
        GroupField("organization", "organization_id", "Organization", named=True),
        GroupField("workspace", "workspace_id", "Workspace", named=True),
        GroupField("api_key", "api_key_id", "API key", named=True),
        GroupField("model", "model", "Model"),
        GroupField("service_tier", "service_tier", "Service tier"),
        GroupField("context_window", "context_window", "Context window"),
    ),
    rollups={
        "model": ("organization_id", "model"),
        "workspace": ("organization_id", "workspace_id", "model", "service_tier", "context_window"),
        # Spend per API key (the overview's top keys, key filters): a key lives in one workspace, so this
        # rollup has about one row per key and day, where the rows have one per key × model × tier × window.
        "api_key": ("organization_id", "workspace_id", "api_key_id"),
    },
    cost_rollups={
        # What each model's tokens, web search, code execution and sessions cost, per token type: the
        # overview's cost by type and what the cache saved, read from the stored costs.
        "model_cost_type": ("organization_id", "model", *COST_BREAKDOWN),
    },
)


class ActorDimensions(NamedTuple):
    """The dimension values of one row of the actor grain: who used what, through which product.

    The actor is stored as its kind (`user_actor`, `service_account_actor`, `federated_actor`,
    `api_actor`) and id; both are None for usage no identity can be shown for (those rows are summed).
    """

    organization_id: str | None = None
    actor_type: str | None = None
    actor_id: str | None = None
    product: str | None = None
    model: str | None = None
    workspace_id: str | None = None
    speed: str | None = None


# The actor grain: one row per day x actor, product, model, workspace and speed (all five slots).
ACTOR = Grain(
    name="actor",
    key=ActorDimensions,
    group_by=("actor", "product", "model", "workspace_id", "speed"),
    usage_table="actor_usage_rows",
    cost_table="actor_cost_rows",
    cost_rollups={
        # What allocation reads: cost per actor, workspace and product a day (its rules need no more), under
        # half the rows, which also break cost out by model and speed.
        "actor": ("organization_id", "actor_type", "actor_id", "workspace_id", "product"),
    },
    # Who spent what is read per actor, workspace and product: nothing reads it by cost or token type, and
    # broken out it was ~4 cost rows a group (2.0M of a large organization's year instead of ~0.55M).
    cost_breakdown=(),
)


class HourlyDimensions(NamedTuple):
    """The dimension values of one row of the hourly grain: the model used in a workspace."""

    organization_id: str | None = None
    workspace_id: str | None = None
    model: str | None = None


# The hourly grain: one row per UTC hour x workspace and model, kept for the recent days only (the
# lookback and today), so the overview can show today by hour and alerts need not wait for a day to end.
# Coarse on purpose: two group_by[] slots keep it to a few usage and cost pages a sync, where the daily
# grain's five at an hourly width would be 24 times its rows (see the README's "Hourly data").
HOURLY = Grain(
    name="hourly",
    key=HourlyDimensions,
    group_by=("workspace_id", "model"),
    usage_table="hourly_usage_rows",
    cost_table="hourly_cost_rows",
    bucket_width="1h",
    # Today by hour and the alerts sum an hour's cost whole: ~3,000 cost rows a sync instead of ~14,000.
    cost_breakdown=(),
)
GRAINS: tuple[Grain, ...] = (DAILY, ACTOR, HOURLY)  # every declared grain; the store builds each one's tables

# The grain of a stored row, in the order of the natural key (after connection and day).
DIMENSIONS: tuple[str, ...] = DAILY.dimensions

# What a user may group by, on the CLI, the pages and the JSON API.
GROUP_FIELDS: tuple[str, ...] = ("date", "month", *(f.name for f in DAILY.fields))


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
    """Token usage of one time bucket and one combination of a grain's dimensions.

    `day` is the bucket: a date for daily grains, the aware UTC datetime an hour starts for the hourly one.
    """

    day: dt.date
    dims: Dimensions | ActorDimensions | HourlyDimensions
    uncached_input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_5m_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    requests: int | None = None  # the classic report endpoint does not report requests
    web_search_requests: int = 0


# The store writes a record's metrics positionally, after its day and dimensions.
assert UsageRecord._fields[2:] == USAGE_METRICS


class CostRecord(NamedTuple):
    """Reported cost of one day, one combination of a grain's dimensions and one cost component, in US
    cents as the API gives it.

    `breakdown` holds the values of the grain's `cost_breakdown` (cost type, token type) in that order;
    all None is the combined total (a source that does not break cost out), and a grain that declares no
    breakdown has (). `requests` is None when the cost is broken out: the API cannot attribute requests
    to a component (usage rows carry them).
    """

    day: dt.date  # the bucket, as in UsageRecord
    dims: Dimensions | ActorDimensions | HourlyDimensions
    amount_cents: Decimal = Decimal(0)
    list_amount_cents: Decimal = Decimal(0)
    currency: str = "USD"
    requests: int | None = None
    breakdown: tuple[str | None, ...] = (None,) * len(COST_BREAKDOWN)

    @property
    def cost_type(self) -> str | None:  # for readers; the hot paths unpack the tuple
        return self.breakdown[COST_BREAKDOWN.index("cost_type")]

    @property
    def token_type(self) -> str | None:
        return self.breakdown[COST_BREAKDOWN.index("token_type")]


@dataclass(frozen=True, slots=True)
class ActorInfo:
    """Who an actor of the actor grain is, as its rows render it: the user's email and name when given.

    `email` is None for a deleted account (the API keeps its id and calls it "Deleted User").
    """

    actor_type: str
    actor_id: str
    email: str | None = None
    name: str | None = None
    deleted: bool = False


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
    expires_at: dt.datetime | None = None  # None: the key never expires


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    email: str
    name: str
    role: str | None = None
    added_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class WorkspaceMember:
    """A user's role in one workspace (`/workspaces/{id}/members`)."""

    workspace_id: str
    user_id: str
    workspace_role: str


@dataclass(frozen=True, slots=True)
class RbacGroup:
    """An RBAC group of a Claude Enterprise organization; its id is the analytics' `rbac_group_id`."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class RbacGroupMember:
    rbac_group_id: str
    user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class SkippedEndpoint:
    """An optional directory endpoint this key may not read (403) or this organization lacks (404)."""

    path: str  # the endpoint's route, e.g. /v1/organizations/rbac_groups
    status: int
    request_id: str | None = None


@dataclass(slots=True)
class Directory:
    """Names beside ids: what `/organizations/workspaces|api_keys|users` and the optional lists returned.

    An optional list is None when its endpoint was skipped (see `skipped`): not read this time, so what
    was stored before stays; an empty list means the endpoint answered and listed nothing.
    """

    workspaces: list[WorkspaceInfo] = field(default_factory=list)
    api_keys: list[ApiKeyInfo] = field(default_factory=list)
    users: list[UserInfo] = field(default_factory=list)
    workspace_members: list[WorkspaceMember] | None = None
    rbac_groups: list[RbacGroup] | None = None
    rbac_group_members: list[RbacGroupMember] | None = None
    skipped: list[SkippedEndpoint] = field(default_factory=list)


__all__ += ["Directory", "RbacGroup", "RbacGroupMember", "SkippedEndpoint", "WorkspaceMember"]


@dataclass(frozen=True, slots=True)
class SpendLimit:
    """One of Anthropic's own spend limits (`/v1/organizations/spend_limits`): a hard stop at the provider.

    `amount_minor` is in the minor unit of `currency` (cents for USD); None means no numeric cap at this
    scope. `scope_id` is the workspace, user, RBAC group, seat tier or service the scope names ('' for the
    organization and the usage tier).
    """

    id: str
    scope_type: (
        str  # organization | workspace | usage_tier | user | rbac_group | seat_tier | organization_service
    )
    scope_id: str
    amount_minor: int | None
    currency: str
    period: str  # daily | weekly | monthly
    is_enabled: bool
    updated_at: dt.datetime | None = None


__all__ += ["SpendLimit"]
