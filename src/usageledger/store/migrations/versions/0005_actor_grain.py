"""The actor grain: usage and cost per day × actor, product, model, workspace and speed, and who each actor is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_DIMS = ("organization_id", "actor_type", "actor_id", "product", "model", "workspace_id", "speed")
_METRICS = {
    "usage": (
        "uncached_input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_5m_input_tokens",
        "cache_creation_1h_input_tokens",
        "requests",
        "web_search_requests",
    ),
    "cost": ("amount_microcents", "list_amount_microcents", "currency", "requests"),
}


def _metric(name: str) -> sa.Column:  # type: ignore[type-arg]
    if name == "currency":
        return sa.Column(name, sa.String(length=8), nullable=False)
    return sa.Column(name, sa.BigInteger(), nullable=name == "requests")


def upgrade() -> None:
    for kind, metrics in _METRICS.items():
        name = f"actor_{kind}_rows"
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("connection_id", sa.Integer(), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            *[sa.Column(d, sa.String(length=200), server_default="", nullable=False) for d in _DIMS],
            *[_metric(m) for m in metrics],
            sa.Column("sync_run_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["connection_id"],
                ["connections.id"],
                name=op.f(f"fk_{name}_connection_id_connections"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
            sa.UniqueConstraint("connection_id", "day", *_DIMS, name=f"uq_{name}_natural_key"),
        )
    op.create_table(
        "anthropic_actors",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("actor_type", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_seen_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_anthropic_actors_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "actor_type", "actor_id", name=op.f("pk_anthropic_actors")),
    )


def downgrade() -> None:
    op.drop_table("anthropic_actors")
    op.drop_table("actor_cost_rows")
    op.drop_table("actor_usage_rows")
