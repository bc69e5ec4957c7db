"""When each connection's directory (workspaces, API keys, users, memberships, RBAC groups) was last read.

A scheduled sync reads the directory again only once it is `directory_refresh_hours` old (or when the
synced rows name a workspace or API key it does not list): 9 of a small organization's 18 calls an hour.
NULL: never read, or read before this revision; the next sync reads it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("connections", sa.Column("directory_read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("directory_read_at")
