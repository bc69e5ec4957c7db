"""A rollup of the actor grain's cost per organization × actor × workspace × product a day (`cost_by_actor`),
so an allocation over a year sums about a tenth of the rows it read before (the actor rows also break cost
out by model, speed, cost type and token type, none of which the ownership rules read).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ROLLUP = "cost_by_actor"
_DIMS = ("organization_id", "actor_type", "actor_id", "workspace_id", "product")
_SUMS = ("amount_microcents", "list_amount_microcents", "requests")


def upgrade() -> None:
    op.create_table(
        _ROLLUP,
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(d, sa.String(length=200), server_default="", nullable=False) for d in _DIMS],
        *[sa.Column(m, sa.BigInteger(), nullable=True) for m in _SUMS],
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f(f"fk_{_ROLLUP}_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "day", *_DIMS, name=op.f(f"pk_{_ROLLUP}")),
    )
    # Rows synced before this revision get their rollup now; later windows rebuild theirs as they commit.
    columns = ", ".join(("connection_id", "day", *_DIMS))
    totals = ", ".join(f"SUM({m})" for m in _SUMS)
    op.execute(
        f"INSERT INTO {_ROLLUP} ({columns}, {', '.join(_SUMS)}) "
        f"SELECT {columns}, {totals} FROM actor_cost_rows GROUP BY {columns}"
    )


def downgrade() -> None:
    op.drop_table(_ROLLUP)
