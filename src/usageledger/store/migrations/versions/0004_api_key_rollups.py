"""Rollups of usage and cost per day by API key (organization × workspace × API key), so the overview's
top keys and key filters read about one row per key and day instead of every stored row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_DIMS = ("organization_id", "workspace_id", "api_key_id")
_SUMS = {
    "usage": (
        "uncached_input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_5m_input_tokens",
        "cache_creation_1h_input_tokens",
        "requests",
        "web_search_requests",
    ),
    "cost": ("amount_microcents", "list_amount_microcents", "requests"),
}


def upgrade() -> None:
    for kind, sums in _SUMS.items():
        name = f"{kind}_by_api_key"
        op.create_table(
            name,
            sa.Column("connection_id", sa.Integer(), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            *[sa.Column(d, sa.String(length=200), server_default="", nullable=False) for d in _DIMS],
            *[sa.Column(m, sa.BigInteger(), nullable=True) for m in sums],
            sa.ForeignKeyConstraint(
                ["connection_id"],
                ["connections.id"],
                name=op.f(f"fk_{name}_connection_id_connections"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("connection_id", "day", *_DIMS, name=op.f(f"pk_{name}")),
        )
        # Rows synced before this revision get their rollups now.
        columns = ", ".join(("connection_id", "day", *_DIMS))
        totals = ", ".join(f"SUM({m})" for m in sums)
        op.execute(
            f"INSERT INTO {name} ({columns}, {', '.join(sums)}) "
            f"SELECT {columns}, {totals} FROM {kind}_rows GROUP BY {columns}"
        )


def downgrade() -> None:
    for kind in _SUMS:
        op.drop_table(f"{kind}_by_api_key")
