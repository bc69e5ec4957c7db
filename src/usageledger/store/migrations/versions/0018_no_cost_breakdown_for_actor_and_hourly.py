"""The actor and hourly grains keep cost per group whole, no longer per cost type and token type.

Nothing reads them by type (allocation sums the actor grain per actor, workspace and product; today by
hour sums each hour), and broken out they were ~4 cost rows a group: a large organization's year of the
actor grain held ~2.0M cost rows, ~1.25 GB, where ~0.55M carry the same sums. The breakdown's columns
leave both tables' natural keys. The actor grain's broken-out rows are summed into one row per key (the
totals do not change; `requests`, null on every broken-out row, stays null until the day is fetched
again); the hourly rows are only the recent days' view, which the next sync that reaches today fetches
again, so they are emptied.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_BREAKDOWN = ("cost_type", "token_type")
_ACTOR = "actor_cost_rows"
_ACTOR_KEY = ("organization_id", "actor_type", "actor_id", "product", "model", "workspace_id", "speed")
_HOURLY = "hourly_cost_rows"
_HOURLY_KEY = ("organization_id", "workspace_id", "model")
_NUMBERS = "amount_microcents, list_amount_microcents, currency, requests, sync_run_id"


def _rekey(table: str, bucket: str, key: tuple[str, ...], *, breakdown: bool) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(f"uq_{table}_natural_key", type_="unique")
        for name in _BREAKDOWN:
            if breakdown:
                batch.add_column(sa.Column(name, sa.String(length=200), server_default="", nullable=False))
            else:
                batch.drop_column(name)
        batch.create_unique_constraint(
            f"uq_{table}_natural_key", ["connection_id", bucket, *key, *(_BREAKDOWN if breakdown else ())]
        )


def upgrade() -> None:
    key = ", ".join(("connection_id", "day", *_ACTOR_KEY))
    op.execute(
        f"CREATE TABLE {_ACTOR}_summed AS SELECT {key}, SUM(amount_microcents) AS amount_microcents, "
        "SUM(list_amount_microcents) AS list_amount_microcents, MIN(currency) AS currency, "
        f"SUM(requests) AS requests, MAX(sync_run_id) AS sync_run_id FROM {_ACTOR} GROUP BY {key}"
    )
    op.execute(f"DELETE FROM {_ACTOR}")
    _rekey(_ACTOR, "day", _ACTOR_KEY, breakdown=False)
    op.execute(f"INSERT INTO {_ACTOR} ({key}, {_NUMBERS}) SELECT {key}, {_NUMBERS} FROM {_ACTOR}_summed")
    op.drop_table(f"{_ACTOR}_summed")
    op.execute(f"DELETE FROM {_HOURLY}")
    _rekey(_HOURLY, "hour", _HOURLY_KEY, breakdown=False)


def downgrade() -> None:
    # Each kept row becomes a combined total ('' types), as rows stored before the breakdown were.
    _rekey(_ACTOR, "day", _ACTOR_KEY, breakdown=True)
    op.execute(f"DELETE FROM {_HOURLY}")
    _rekey(_HOURLY, "hour", _HOURLY_KEY, breakdown=True)
