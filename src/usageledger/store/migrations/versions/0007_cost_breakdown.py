"""Cost per cost type and token type: the cost tables' natural key gains `cost_type` and `token_type`, and
a rollup of cost per organization × model × cost type × token type a day.

Rows stored before this revision are each a combined total of every component, so they get '' for both
(what a source that does not break cost out stores too). The next sync that re-fetches their days writes
the broken-out rows under the new keys and deletes these, as it deletes any row that vanished upstream,
so a day is never counted twice.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BREAKDOWN = ("cost_type", "token_type")
_KEYS = {
    "cost_rows": (
        "organization_id",
        "workspace_id",
        "api_key_id",
        "model",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
    ),
    "actor_cost_rows": (
        "organization_id",
        "actor_type",
        "actor_id",
        "product",
        "model",
        "workspace_id",
        "speed",
    ),
}
_ROLLUP = "cost_by_model_cost_type"
_ROLLUP_DIMS = ("organization_id", "model", *_BREAKDOWN)
_SUMS = ("amount_microcents", "list_amount_microcents", "requests")


def upgrade() -> None:
    for table, dims in _KEYS.items():
        with op.batch_alter_table(table) as batch:
            for name in _BREAKDOWN:
                batch.add_column(sa.Column(name, sa.String(length=200), server_default="", nullable=False))
            batch.drop_constraint(f"uq_{table}_natural_key", type_="unique")
            batch.create_unique_constraint(
                f"uq_{table}_natural_key", ["connection_id", "day", *dims, *_BREAKDOWN]
            )
    op.create_table(
        _ROLLUP,
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(d, sa.String(length=200), server_default="", nullable=False) for d in _ROLLUP_DIMS],
        *[sa.Column(m, sa.BigInteger(), nullable=True) for m in _SUMS],
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f(f"fk_{_ROLLUP}_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "day", *_ROLLUP_DIMS, name=op.f(f"pk_{_ROLLUP}")),
    )
    # Rows synced before this revision get their rollup now (with '' types: not broken out).
    columns = ", ".join(("connection_id", "day", *_ROLLUP_DIMS))
    totals = ", ".join(f"SUM({m})" for m in _SUMS)
    op.execute(
        f"INSERT INTO {_ROLLUP} ({columns}, {', '.join(_SUMS)}) "
        f"SELECT {columns}, {totals} FROM cost_rows GROUP BY {columns}"
    )


def downgrade() -> None:
    # Back to one row per day × dimensions: the broken-out rows of each are summed into it.
    op.drop_table(_ROLLUP)
    for table, dims in _KEYS.items():
        key = ", ".join(("connection_id", "day", *dims))
        columns = f"{key}, amount_microcents, list_amount_microcents, currency, requests, sync_run_id"
        op.execute(
            f"CREATE TABLE {table}_summed AS SELECT {key}, SUM(amount_microcents) AS amount_microcents, "
            "SUM(list_amount_microcents) AS list_amount_microcents, MIN(currency) AS currency, "
            f"SUM(requests) AS requests, MAX(sync_run_id) AS sync_run_id FROM {table} GROUP BY {key}"
        )
        op.execute(f"DELETE FROM {table}")
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_natural_key", type_="unique")
            for name in _BREAKDOWN:
                batch.drop_column(name)
            batch.create_unique_constraint(f"uq_{table}_natural_key", ["connection_id", "day", *dims])
        op.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}_summed")
        op.drop_table(f"{table}_summed")
