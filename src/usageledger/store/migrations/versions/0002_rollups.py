"""Rollups (usage and cost summed per day by model, and by workspace × model × tier × context window)
and stored-row counts on each connection, so a year of a large organization reads fast.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_GRAINS = {
    "model": ("organization_id", "model"),
    "workspace": ("organization_id", "workspace_id", "model", "service_tier", "context_window"),
}
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
    for kind in _SUMS:
        op.add_column(
            "connections",
            sa.Column(f"{kind}_rows_stored", sa.BigInteger(), server_default="0", nullable=False),
        )
        op.execute(
            f"UPDATE connections SET {kind}_rows_stored = "
            f"(SELECT COUNT(*) FROM {kind}_rows WHERE {kind}_rows.connection_id = connections.id)"
        )
    for kind, sums in _SUMS.items():
        for grain, dims in _GRAINS.items():
            name = f"{kind}_by_{grain}"
            op.create_table(
                name,
                sa.Column("connection_id", sa.Integer(), nullable=False),
                sa.Column("day", sa.Date(), nullable=False),
                *[sa.Column(d, sa.String(length=200), server_default="", nullable=False) for d in dims],
                *[sa.Column(m, sa.BigInteger(), nullable=True) for m in sums],
                sa.ForeignKeyConstraint(
                    ["connection_id"],
                    ["connections.id"],
                    name=op.f(f"fk_{name}_connection_id_connections"),
                    ondelete="CASCADE",
                ),
                sa.PrimaryKeyConstraint("connection_id", "day", *dims, name=op.f(f"pk_{name}")),
            )
            # Rows synced before this revision get their rollups now.
            columns = ", ".join(("connection_id", "day", *dims))
            totals = ", ".join(f"SUM({m})" for m in sums)
            op.execute(
                f"INSERT INTO {name} ({columns}, {', '.join(sums)}) "
                f"SELECT {columns}, {totals} FROM {kind}_rows GROUP BY {columns}"
            )


def downgrade() -> None:
    for kind in _SUMS:
        for grain in _GRAINS:
            op.drop_table(f"{kind}_by_{grain}")
        with op.batch_alter_table("connections") as batch:
            batch.drop_column(f"{kind}_rows_stored")
