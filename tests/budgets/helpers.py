"""Hand-made spend for the budget tests: one organization, cost written a window at a time as a sync does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Engine

from usageledger.models import CostRecord, Dimensions, UsageRecord, Window
from usageledger.store import (
    WindowWriter,
    ensure_default_tenant,
    insert_connection,
    start_sync_run,
    update_connection,
)

ORG = "org-budget"


def connect(engine: Engine, org: str = ORG, source: str = "analytics") -> tuple[int, int]:
    """(tenant id, connection id) of a connected organization (`classic`: spend read from the daily grain)."""
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        cid = insert_connection(conn, tenant_id=tenant, name=f"{org} connection", provider="anthropic",
                                base_url="http://fake.test", organization_id=org, organization_name="Budget Org",
                                key_hint="sk-ant-admin01-…fake", source=source)  # fmt: skip
        update_connection(conn, cid, state="connected")
    return tenant, cid


def spend(engine: Engine, cid: int, day: dt.date, dollars: str, *, org: str = ORG, workspace: str = "wrk_a",
          model: str = "claude-test") -> None:  # fmt: skip
    """Store `dollars` of cost on `day` (replacing that day's rows, as a re-synced day does)."""
    dims = Dimensions(organization_id=org, workspace_id=workspace, api_key_id="apikey_a", model=model,
                      service_tier="standard", context_window="0-200k")  # fmt: skip
    record = CostRecord(
        day=day,
        dims=dims,
        amount_cents=Decimal(dollars) * 100,
        list_amount_cents=Decimal(dollars) * 100,
        requests=1,
    )
    window = Window(day, day + dt.timedelta(days=1))
    with engine.begin() as conn:
        run = start_sync_run(conn, cid, "manual", window.start, window.end, 1)
        writer = WindowWriter(conn, cid, run, window)
        writer.write_usage([UsageRecord(day=day, dims=dims, uncached_input_tokens=1, output_tokens=1)])
        writer.write_cost([record])
        writer.finish()
