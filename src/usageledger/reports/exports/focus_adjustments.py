"""Adjustments as FOCUS rows: a revision of a closed day, booked to an open month (store.closes).

Each adjustment is its own row on the day it is booked on (so an export of the open month adds up to the
month's reported cost, adjustments included): ChargeCategory `Adjustment`, ChargeClass `Correction` (FOCUS:
a correction to a previously invoiced billing period), the billing period of the month it is booked to,
and the charge period of the day it revises. Its cost is the delta; quantities stay null (the revision of
a quantity is not a quantity consumed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, and_, select

from usageledger.models import DAILY
from usageledger.reports.ownership_rules import Directory
from usageledger.store.tables import anthropic_api_keys, anthropic_workspaces, connections, cost_adjustments

from .focus import StoredCost, plan_focus_row

__all__ = ["iter_adjustment_rows", "plan_adjustment_row"]

_NO_QUANTITY = dict.fromkeys(
    ("ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "ListUnitPrice", "ContractedUnitPrice",
     "PricingCurrencyListUnitPrice", "PricingCurrencyContractedUnitPrice")
)  # fmt: skip


def _stamp(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def plan_adjustment_row(
    row: StoredCost,
    booked_day: dt.date,
    directory: Directory | None = None,
    tag_cache: dict[tuple[str, str], dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The FOCUS row of one adjustment: `row` carries the revised day and the delta amounts."""
    out = plan_focus_row(row, directory, tag_cache)
    out.update(_NO_QUANTITY)
    out.update(
        ChargeCategory="Adjustment",
        ChargeClass="Correction",
        ChargeDescription=f"Revision of {row.day.isoformat()} after its month was closed: {out['ChargeDescription']}",
        BillingPeriodStart=_stamp(booked_day.replace(day=1)),
        BillingPeriodEnd=_stamp(_next_month(booked_day)),
    )
    return out


def iter_adjustment_rows(
    conn: Connection,
    connection_ids: list[int],
    day: dt.date,
    organization: str | None,
    directory: Directory | None,
    tag_cache: dict[tuple[str, str], dict[str, str]],
) -> Iterator[dict[str, Any]]:
    """The FOCUS rows of the adjustments booked on `day` (few: only revisions of closed days)."""
    a, w, k = cost_adjustments, anthropic_workspaces, anthropic_api_keys
    query = (
        select(
            a.c.day, *(a.c[d] for d in DAILY.cost_dimensions), a.c.amount_microcents, a.c.list_amount_microcents,
            a.c.currency, connections.c.organization_name, w.c.name.label("workspace_name"),
            k.c.name.label("api_key_name"),
        )
        .join(connections, connections.c.id == a.c.connection_id)
        .outerjoin(w, and_(w.c.connection_id == a.c.connection_id, w.c.id == a.c.workspace_id))
        .outerjoin(k, and_(k.c.connection_id == a.c.connection_id, k.c.id == a.c.api_key_id))
        .where(a.c.connection_id.in_(connection_ids), a.c.booked_day == day)
        .order_by(a.c.id)
    )  # fmt: skip
    if organization is not None:
        query = query.where(a.c.organization_id == organization)
    for r in conn.execute(query):
        m = r._mapping
        stored = StoredCost(
            m["day"], m["organization_id"], m["organization_name"], m["workspace_id"], m["workspace_name"],
            m["api_key_id"], m["api_key_name"], m["model"], m["service_tier"], m["context_window"],
            m["inference_geo"], m["speed"], m["cost_type"], m["token_type"], int(m["amount_microcents"]),
            int(m["list_amount_microcents"]), m["currency"], {},
        )  # fmt: skip
        yield plan_adjustment_row(stored, day, directory, tag_cache)
