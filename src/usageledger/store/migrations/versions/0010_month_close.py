"""Month close: finance's closed months (with the invoiced amount) and the adjustments booked after a close.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The cost rows' natural key after connection and day (models.DAILY.cost_dimensions, as of this revision).
_KEY = (
    "organization_id", "workspace_id", "api_key_id", "model", "service_tier", "context_window",
    "inference_geo", "speed", "cost_type", "token_type",
)  # fmt: skip


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "month_closes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("closed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reported_microcents", sa.BigInteger(), nullable=True),
        sa.Column("invoiced_microcents", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=320), nullable=True),
        sa.Column("invoice_entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invoice_entered_by", sa.String(length=320), nullable=True),
        _fk("month_closes", "tenant_id", "tenants"),
        _fk("month_closes", "connection_id", "connections"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_month_closes")),
        sa.UniqueConstraint("connection_id", "month", name="uq_month_closes_connection_month"),
    )
    op.create_index(op.f("ix_month_closes_tenant_id"), "month_closes", ["tenant_id"])
    op.create_table(
        "cost_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("booked_month", sa.Date(), nullable=False),
        sa.Column("booked_day", sa.Date(), nullable=False),
        *[sa.Column(name, sa.String(length=200), server_default="", nullable=False) for name in _KEY],
        sa.Column("amount_microcents", sa.BigInteger(), nullable=False),
        sa.Column("list_amount_microcents", sa.BigInteger(), nullable=False),
        sa.Column("revised_amount_microcents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("cost_adjustments", "connection_id", "connections"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_adjustments")),
    )
    op.create_index(
        "ix_cost_adjustments_connection_booked", "cost_adjustments", ["connection_id", "booked_month"]
    )
    op.create_index("ix_cost_adjustments_connection_day", "cost_adjustments", ["connection_id", "day"])


def downgrade() -> None:
    op.drop_table("cost_adjustments")
    op.drop_table("month_closes")
