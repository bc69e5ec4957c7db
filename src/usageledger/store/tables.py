"""The schema, as SQLAlchemy Core tables. Alembic migrations are written from this file.

Idempotency lives here: usage and cost rows have a natural-key unique constraint
(connection, day, every dimension). Their tables, keys and rollups are built from a grain declared in
`models` (`DAILY`), never from a list of their own. Missing dimension values are stored as '' (never NULL) so the
constraint holds on SQLite and PostgreSQL alike. Money is an exact integer of micro-cents
(1e-6 US cent), so sums in SQL stay exact; reports turn it into Decimal dollars.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from usageledger.models import ACTOR, DAILY, GRAINS, HOURLY, Grain

__all__ = [
    "UTCDateTime",
    "access_tokens",
    "actor_cost_rows",
    "actor_usage_rows",
    "anthropic_actors",
    "anthropic_api_keys",
    "anthropic_rbac_group_members",
    "anthropic_rbac_groups",
    "anthropic_users",
    "anthropic_workspace_members",
    "anthropic_workspaces",
    "connections",
    "cost_rows",
    "credentials",
    "events",
    "first_run",
    "metadata",
    "sync_runs",
    "tenants",
    "usage_rows",
    "users",
    "web_sessions",
]


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC and always returns aware UTC values (SQLite returns naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- tenancy and people (the customer's usageledger workspace is a "tenant") ---------------------

tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),  # admin | member
    Column("created_at", UTCDateTime, nullable=False),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),  # sha256 hex of the token
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
)

# Signed-in browser sessions. The cookie carries only a random token; the row is keyed by its sha256, so
# deleting the row (sign-out, password or role change, removal) ends the session at once.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 hex of the cookie's token
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),  # idle expiry counts from here
    Column("expires_at", UTCDateTime, nullable=False),  # absolute expiry
)

# At most one row, id 1, inserted in the first admin's transaction: its primary key makes first-run setup
# atomic, so two simultaneous /setup requests cannot both create an admin.
first_run = Table(
    "first_run",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("completed_at", UTCDateTime, nullable=False),
)

# --- connections to providers ----------------------------------------------------------------------

connections = Table(
    "connections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("provider", String(40), nullable=False),  # anthropic
    Column("state", String(20), nullable=False),  # connected | syncing | error | disconnected
    Column("source", String(20)),  # analytics | classic
    Column("base_url", String(500), nullable=False),
    Column("organization_id", String(200)),
    Column("organization_name", String(500)),
    Column("key_hint", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disconnected_at", UTCDateTime),
    Column("last_sync_started_at", UTCDateTime),
    Column("last_sync_finished_at", UTCDateTime),
    Column("last_sync_succeeded_at", UTCDateTime),
    Column("last_error", Text),
    Column("data_refreshed_at", UTCDateTime),
    Column("directory_read_at", UTCDateTime),  # the directory's lists, last read (sync/directory_refresh)
    Column("backfill_start", Date),  # first day the backfill asked for
    Column("cursor_date", Date),  # every day before it is stored (exclusive end of the synced range)
    Column("lock_owner", String(200)),  # "host:pid:token" of the sync holding the connection
    Column("lock_expires_at", UTCDateTime),
    # Kept by the window writer in the window's transaction (a COUNT over a year of rows is too slow).
    Column("usage_rows_stored", BigInteger, nullable=False, server_default="0"),
    Column("cost_rows_stored", BigInteger, nullable=False, server_default="0"),
)

credentials = Table(
    "credentials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "connection_id",
        Integer,
        ForeignKey("connections.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("kek_id", String(64), nullable=False),  # which key-encryption key sealed it (rotation)
    Column("created_at", UTCDateTime, nullable=False),
)

# --- synced data -------------------------------------------------------------------------------------


def _dimension_columns(names: tuple[str, ...]) -> list[Column[Any]]:
    return [Column(name, String(200), nullable=False, server_default="") for name in names]


def _metric_column(name: str) -> Column[Any]:
    """A stored metric: a count or micro-cents; `requests` is NULL where the source does not report it."""
    if name == "currency":
        return Column(name, String(8), nullable=False)
    return Column(name, BigInteger, nullable=name == "requests")


def _bucket_column(grain: Grain) -> Column[Any]:
    """The column a grain's row is bucketed by: its UTC day, or the UTC hour it starts (hourly grains)."""
    if grain.bucket_width == "1d":
        return Column(grain.bucket_column, Date, nullable=False)
    return Column(grain.bucket_column, UTCDateTime, nullable=False)


def _grain_table(grain: Grain, name: str, key: tuple[str, ...], metrics: tuple[str, ...]) -> Table:
    """A grain's usage or cost rows: one per connection, time bucket and `key` values (the natural key)."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
        _bucket_column(grain),
        *_dimension_columns(key),
        *[_metric_column(metric) for metric in metrics],
        Column("sync_run_id", Integer, nullable=False),
        UniqueConstraint("connection_id", grain.bucket_column, *key, name=f"uq_{name}_natural_key"),
    )


def _usage_table(grain: Grain) -> Table:
    return _grain_table(grain, grain.usage_table, grain.dimensions, grain.usage_metrics)


def _cost_table(grain: Grain) -> Table:
    """Cost rows are keyed by the dimensions and the cost breakdown (cost type, token type; '' for none)."""
    return _grain_table(grain, grain.cost_table, grain.cost_dimensions, grain.cost_metrics)


# Every grain's usage and cost tables, by grain name: built from the declarations, never listed again.
GRAIN_TABLES: dict[str, tuple[Table, Table]] = {g.name: (_usage_table(g), _cost_table(g)) for g in GRAINS}
usage_rows, cost_rows = GRAIN_TABLES[DAILY.name]
# The second grain, who used what through which product; synced in the same windows as the first.
actor_usage_rows, actor_cost_rows = GRAIN_TABLES[ACTOR.name]
# The recent days by hour (workspace x model): made equal to the hours of every sync that reaches today.
hourly_usage_rows, hourly_cost_rows = GRAIN_TABLES[HOURLY.name]
__all__ += ["GRAIN_TABLES", "hourly_cost_rows", "hourly_usage_rows"]

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    Column("trigger", String(20), nullable=False),  # connect | manual | scheduled | range
    Column("status", String(20), nullable=False),  # running | succeeded | failed
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("range_start", Date),
    Column("range_end", Date),  # exclusive
    Column("days_total", Integer, nullable=False, server_default="0"),
    Column("days_done", Integer, nullable=False, server_default="0"),
    Column("api_calls", Integer, nullable=False, server_default="0"),
    Column("usage_rows", Integer, nullable=False, server_default="0"),
    Column("cost_rows", Integer, nullable=False, server_default="0"),
    Column("rows_revised", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Index("ix_sync_runs_connection_started", "connection_id", "started_at"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), index=True),
    Column("created_at", UTCDateTime, nullable=False),
    # credential | scope | rate_limit | upstream_error | sync_started | sync_finished | sync_failed
    # | late_data | fallback | key_verified | mismatch | disconnected | connected | grain_skipped
    # | directory_skipped
    Column("kind", String(40), nullable=False),
    Column("level", String(10), nullable=False),  # info | warning | error
    Column("message", Text, nullable=False),
    Column("request_id", String(200)),
    Column("details", Text),  # JSON object, never a secret
    # The scheduler asks each connection for its latest event of a kind (a rejected key) every tick.
    Index("ix_events_connection_kind_created", "connection_id", "kind", "created_at"),
)

# --- directory: names beside ids -----------------------------------------------------------------------

anthropic_workspaces = Table(
    "anthropic_workspaces",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("archived_at", UTCDateTime),
    Column("created_at", UTCDateTime),
)

anthropic_api_keys = Table(
    "anthropic_api_keys",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("workspace_id", String(200)),
    Column("status", String(40)),
    Column("partial_key_hint", String(100)),
    Column("created_by_id", String(200)),
    Column("created_by_type", String(40)),
    Column("created_at", UTCDateTime),
    Column("expires_at", UTCDateTime),  # NULL: never expires
)

anthropic_users = Table(
    "anthropic_users",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("name", String(500), nullable=False),
    Column("role", String(40)),
    Column("added_at", UTCDateTime),
)

# Who an actor of the actor grain is, as its rows last rendered it (the actor grain's rows carry only
# kind and id). A deleted user keeps its id, loses its email and is marked deleted.
anthropic_actors = Table(
    "anthropic_actors",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("actor_type", String(40), primary_key=True),
    Column("actor_id", String(200), primary_key=True),
    Column("email", String(320)),
    Column("name", String(500)),
    Column("deleted", Boolean, nullable=False, server_default=false()),
    Column("last_seen_day", Date, nullable=False),
)

# Who belongs where, as the last sync that could read it listed it: replaced whole on every such sync, so a
# member removed upstream disappears here. A sync that may not read a list (403/404) leaves it as it was.
anthropic_workspace_members = Table(
    "anthropic_workspace_members",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", String(200), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("workspace_role", String(60), nullable=False),
)

# RBAC groups exist in Claude Enterprise organizations only; their ids are the analytics' `rbac_group_id`.
anthropic_rbac_groups = Table(
    "anthropic_rbac_groups",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("name", String(500), nullable=False),
)

anthropic_rbac_group_members = Table(
    "anthropic_rbac_group_members",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("rbac_group_id", String(200), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("email", String(320), nullable=False),
)

# --- rollups: the same rows summed to coarser grains, so a year of a large organization reads fast ------
# Rebuilt for a window's days in the same transaction that writes the window (store.rollups), so they
# can never disagree with the rows they sum. Reports read the smallest table that has every field asked.

ROLLUP_GRAINS: dict[str, tuple[str, ...]] = DAILY.rollups


def _rollup(name: str, dims: tuple[str, ...], sums: tuple[str, ...], bucket: str = "day") -> Table:
    """A rollup: `sums` per connection, `bucket` (a `day`, or a `month` as its first day) and `dims`."""
    return Table(
        name,
        metadata,
        Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
        Column(bucket, Date, primary_key=True),
        *[Column(dim, String(200), primary_key=True, server_default="") for dim in dims],
        *[Column(metric, BigInteger) for metric in sums],
        # The detail page's API key pick list asks one connection for its distinct keys; in key order
        # this index answers it without sorting the connection's rows (a year of a 2,100-group
        # organization on PostgreSQL: 840 ms → 134 ms, with `reports.choices` taking DISTINCT per table).
        *(
            [Index(f"ix_{name}_connection_api_key", "connection_id", "api_key_id")]
            if "api_key_id" in dims and bucket == "day"
            else []
        ),
    )


def _rollups_of(grain: Grain, bucket: str = "day") -> dict[str, dict[str, Table]]:
    """A grain's rollup tables by kind ("usage", "cost") and rollup name: `usage_by_<name>`, `cost_by_<name>`
    (a rollup's name is unique across grains, so is its table's), `…_monthly` for the monthly twins."""
    cost_sums = tuple(m for m in grain.cost_metrics if m != "currency")
    suffix = "" if bucket == "day" else "_monthly"
    return {
        "usage": {name: _rollup(f"usage_by_{name}{suffix}", dims, grain.usage_metrics, bucket)
                  for name, dims in grain.rollups.items()},
        "cost": {name: _rollup(f"cost_by_{name}{suffix}", dims, cost_sums, bucket)
                 for name, dims in grain.all_cost_rollups().items()},
    }  # fmt: skip


GRAIN_ROLLUPS: dict[str, dict[str, dict[str, Table]]] = {grain.name: _rollups_of(grain) for grain in GRAINS}
# Every rollup of the daily grain (the one the pages, the overview and the usage API read) has a monthly
# twin, by kind and rollup name as in `GRAIN_ROLLUPS`: the same sums per calendar month, rebuilt from the
# daily rollup for every month a window touches, in the window's transaction (store.rollups). A year then
# reads twelve rows a group instead of 365. The actor grain's allocation reads its own rollup by day.
MONTHLY_ROLLUPS: dict[str, dict[str, Table]] = _rollups_of(DAILY, "month")
usage_rollups: dict[str, Table] = GRAIN_ROLLUPS[DAILY.name]["usage"]
# The cost rows' rollups: the shared ones, then the cost-only ones (which may keep the cost breakdown).
COST_ROLLUP_GRAINS: dict[str, tuple[str, ...]] = DAILY.all_cost_rollups()
cost_rollups: dict[str, Table] = GRAIN_ROLLUPS[DAILY.name]["cost"]
# The actor grain's cost per actor, workspace and product a day: what allocation reads.
actor_cost_rollup: Table = GRAIN_ROLLUPS[ACTOR.name]["cost"]["actor"]
__all__ += [
    "COST_ROLLUP_GRAINS",
    "GRAIN_ROLLUPS",
    "MONTHLY_ROLLUPS",
    "ROLLUP_GRAINS",
    "actor_cost_rollup",
    "cost_rollups",
    "usage_rollups",
]

# --- identity: people and teams from the identity provider (SCIM or CSV), and who owns what --------------
# Scoped by tenant like everything a customer owns. Emails are stored lower-cased so matching an Anthropic
# user's email to a person is an equality. A SCIM token is stored only as its sha256.

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_name", String(320), nullable=False),  # SCIM userName; the email for CSV imports
    Column("email", String(320), index=True),  # lower-cased primary email
    Column("external_id", String(200)),  # SCIM externalId (the identity provider's own id)
    Column("display_name", String(500)),
    Column("given_name", String(200)),
    Column("family_name", String(200)),
    Column("department", String(200)),  # enterprise extension
    Column("cost_center", String(200)),  # enterprise extension costCenter, or the CSV's cost_center
    Column("manager_id", String(200)),  # enterprise extension manager.value, as the provider gave it
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("source", String(20), nullable=False),  # scim | csv
    Column("version", Integer, nullable=False, server_default="1"),  # SCIM meta.version (ETag)
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "user_name", name="uq_people_tenant_user_name"),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("display_name", String(500), nullable=False),  # SCIM Group displayName; the CSV's team
    Column("external_id", String(200)),
    Column("cost_center", String(200)),  # a team's cost center, for members who have none of their own
    Column("source", String(20), nullable=False),  # scim | csv | manual
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "display_name", name="uq_teams_tenant_display_name"),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True),
)

scim_tokens = Table(
    "scim_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),  # sha256 hex; the token is shown once
    Column("hint", String(40), nullable=False),  # the last characters, to tell tokens apart
    Column("created_by_user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
)

# An admin's word on who owns an Anthropic API key, workspace or service account: a person or a team.
# Anthropic ids are unique across organizations, so the subject is (type, id) within the tenant and an
# owner outlives a disconnect and reconnect of the same organization.
owners = Table(
    "owners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("subject_type", String(40), nullable=False),  # api_key | workspace | service_account
    Column("subject_id", String(200), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE")),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE")),
    Column("set_by_user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("set_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "subject_type", "subject_id", name="uq_owners_subject"),
)

# An application: a product the company runs on Claude, served by API keys and/or workspaces, owned by a team.
applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "name", name="uq_applications_tenant_name"),
)

application_resources = Table(
    "application_resources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("application_id", Integer, ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    Column("subject_type", String(40), nullable=False),  # api_key | workspace
    Column("subject_id", String(200), nullable=False),
    # A key or workspace serves one application, so its spend is counted once.
    UniqueConstraint("tenant_id", "subject_type", "subject_id", name="uq_application_resources_subject"),
)
__all__ += [
    "application_resources",
    "applications",
    "owners",
    "people",
    "scim_tokens",
    "team_members",
    "teams",
]

# --- month close: finance's frozen months and the later revisions booked as adjustments ---------------------
# A closed month's cost rows are never rewritten (store.upsert keeps them); a later upstream revision of one
# of its days is stored in cost_adjustments instead: the delta per natural key, booked to the first open month.

month_closes = Table(
    "month_closes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    Column("month", Date, nullable=False),  # the month's first day
    Column("closed", Boolean, nullable=False, server_default=false()),
    Column("reported_microcents", BigInteger),  # the month's stored cost when it was closed
    Column("invoiced_microcents", BigInteger),  # finance's invoiced amount (entered or imported)
    Column("closed_at", UTCDateTime),
    Column("closed_by", String(320)),
    Column("invoice_entered_at", UTCDateTime),
    Column("invoice_entered_by", String(320)),
    UniqueConstraint("connection_id", "month", name="uq_month_closes_connection_month"),
)

cost_adjustments = Table(
    "cost_adjustments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),  # the revised day, in a closed month
    Column("booked_month", Date, nullable=False),  # first day of the open month the delta is booked to
    Column("booked_day", Date, nullable=False),  # the day within booked_month it is shown on
    *_dimension_columns(DAILY.cost_dimensions),
    Column("amount_microcents", BigInteger, nullable=False),  # the delta: revised minus what was known
    Column("list_amount_microcents", BigInteger, nullable=False),
    Column("revised_amount_microcents", BigInteger, nullable=False),  # the day's new figure for this key
    Column("currency", String(8), nullable=False),
    Column("sync_run_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_cost_adjustments_connection_booked", "connection_id", "booked_month"),
    Index("ix_cost_adjustments_connection_day", "connection_id", "day"),
)
__all__ += ["cost_adjustments", "month_closes"]
