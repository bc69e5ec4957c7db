"""Monthly rollups: each daily-grain rollup summed per calendar month (`<rollup>_monthly`, keyed by `month`,
its first day), so a year-to-date overview, a year of the usage API or a detail page over every stored day
reads twelve rows a group instead of 365 (measured on 10M usage rows on PostgreSQL, see the README).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_USAGE_SUMS = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "requests",
    "web_search_requests",
)
_COST_SUMS = ("amount_microcents", "list_amount_microcents", "requests")
_WORKSPACE = ("organization_id", "workspace_id", "model", "service_tier", "context_window")
# The daily rollup → its dimensions and sums, as they stood at this revision.
_ROLLUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "usage_by_model": (("organization_id", "model"), _USAGE_SUMS),
    "usage_by_workspace": (_WORKSPACE, _USAGE_SUMS),
    "usage_by_api_key": (("organization_id", "workspace_id", "api_key_id"), _USAGE_SUMS),
    "cost_by_model": (("organization_id", "model"), _COST_SUMS),
    "cost_by_workspace": (_WORKSPACE, _COST_SUMS),
    "cost_by_api_key": (("organization_id", "workspace_id", "api_key_id"), _COST_SUMS),
    "cost_by_model_cost_type": (("organization_id", "model", "cost_type", "token_type"), _COST_SUMS),
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    month = "CAST(date_trunc('month', day) AS date)" if postgres else "date(day, 'start of month')"
    for daily, (dims, sums) in _ROLLUPS.items():
        table = f"{daily}_monthly"
        op.create_table(
            table,
            sa.Column("connection_id", sa.Integer(), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            *[sa.Column(d, sa.String(length=200), server_default="", nullable=False) for d in dims],
            *[sa.Column(m, sa.BigInteger(), nullable=True) for m in sums],
            sa.ForeignKeyConstraint(
                ["connection_id"],
                ["connections.id"],
                name=op.f(f"fk_{table}_connection_id_connections"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("connection_id", "month", *dims, name=op.f(f"pk_{table}")),
        )
        # Days synced before this revision are summed now; later windows rebuild the months they touch.
        keys = ", ".join(("connection_id", month, *dims))
        totals = ", ".join(f"SUM({m})" for m in sums)
        op.execute(
            f"INSERT INTO {table} (connection_id, month, {', '.join(dims)}, {', '.join(sums)}) "
            f"SELECT {keys}, {totals} FROM {daily} GROUP BY {keys}"
        )
        if postgres:  # statistics now, or the planner takes the filled table for empty until autovacuum runs
            op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for daily in _ROLLUPS:
        op.drop_table(f"{daily}_monthly")
