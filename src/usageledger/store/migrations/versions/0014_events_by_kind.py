"""An index on events by (connection, kind, time): the job scheduler's per-tick question "was this
connection's key rejected since it was stored?" is then an index lookup, however long the log grows.

The job queue's own tables (procrastinate's) are not created here: `usageledger worker`, `scheduler` and
`serve` on PostgreSQL install them when missing (jobs/queue.py), and SQLite never needs them.

Revision ID: 0014
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_connection_kind_created", "events", ["connection_id", "kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_events_connection_kind_created", table_name="events")
