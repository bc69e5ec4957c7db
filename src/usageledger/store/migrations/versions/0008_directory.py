"""The directory's memberships: workspace members, RBAC groups and their members, and API keys' expiry.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _connection_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["connection_id"],
        ["connections.id"],
        name=op.f(f"fk_{table}_connection_id_connections"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.add_column("anthropic_api_keys", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "anthropic_workspace_members",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("workspace_role", sa.String(length=60), nullable=False),
        _connection_fk("anthropic_workspace_members"),
        sa.PrimaryKeyConstraint(
            "connection_id", "workspace_id", "user_id", name=op.f("pk_anthropic_workspace_members")
        ),
    )
    op.create_table(
        "anthropic_rbac_groups",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        _connection_fk("anthropic_rbac_groups"),
        sa.PrimaryKeyConstraint("connection_id", "id", name=op.f("pk_anthropic_rbac_groups")),
    )
    op.create_table(
        "anthropic_rbac_group_members",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("rbac_group_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        _connection_fk("anthropic_rbac_group_members"),
        sa.PrimaryKeyConstraint(
            "connection_id", "rbac_group_id", "user_id", name=op.f("pk_anthropic_rbac_group_members")
        ),
    )


def downgrade() -> None:
    op.drop_table("anthropic_rbac_group_members")
    op.drop_table("anthropic_rbac_groups")
    op.drop_table("anthropic_workspace_members")
    with op.batch_alter_table("anthropic_api_keys") as batch:
        batch.drop_column("expires_at")
