"""The hourly grain: usage and cost per UTC hour × workspace × model for the recent days
(`hourly_usage_rows`, `hourly_cost_rows`), so the overview shows today by hour.

Nothing to backfill: the next sync that reaches today fills the lookback's hours.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_DIMS = ("organization_id", "workspace_id", "model")
_USAGE = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "requests",
    "web_search_requests",
)
_BREAKDOWN = ("cost_type", "token_type")


def _create(name: str, key: tuple[str, ...], metrics: list[sa.Column]) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        *[sa.Column(d, sa.String(length=200), server_default="", nullable=False) for d in key],
        *metrics,
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f(f"fk_{name}_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("connection_id", "hour", *key, name=f"uq_{name}_natural_key"),
    )


def upgrade() -> None:
    _create(
        "hourly_usage_rows",
        _DIMS,
        [sa.Column(m, sa.BigInteger(), nullable=m == "requests") for m in _USAGE],
    )
    _create(
        "hourly_cost_rows",
        (*_DIMS, *_BREAKDOWN),
        [
            sa.Column("amount_microcents", sa.BigInteger(), nullable=False),
            sa.Column("list_amount_microcents", sa.BigInteger(), nullable=False),
            sa.Column("currency", sa.String(length=8), nullable=False),
            sa.Column("requests", sa.BigInteger(), nullable=True),
        ],
    )


def downgrade() -> None:
    op.drop_table("hourly_cost_rows")
    op.drop_table("hourly_usage_rows")
