"""Indexes for many organizations on PostgreSQL.

- events by (connection, kind, time): the job scheduler's per-tick question "was this connection's key
  rejected since it was stored?" is an index lookup, however long the log grows;
- the API key rollups by (connection, API key): the detail page's pick list of a connection's keys is read
  in key order instead of sorting a year of the connection's rows (measured on 10M usage rows).

The job queue's own tables (procrastinate's) are not created here: `usageledger worker`, `scheduler` and
`serve` on PostgreSQL install them when missing (jobs/queue.py), and SQLite never needs them.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


_API_KEY_ROLLUPS = ("usage_by_api_key", "cost_by_api_key")


def upgrade() -> None:
    op.create_index("ix_events_connection_kind_created", "events", ["connection_id", "kind", "created_at"])
    for table in _API_KEY_ROLLUPS:
        op.create_index(f"ix_{table}_connection_api_key", table, ["connection_id", "api_key_id"])


def downgrade() -> None:
    for table in _API_KEY_ROLLUPS:
        op.drop_index(f"ix_{table}_connection_api_key", table_name=table)
    op.drop_index("ix_events_connection_kind_created", table_name="events")
