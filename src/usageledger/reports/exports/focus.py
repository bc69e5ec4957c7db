"""The stored cost as FinOps FOCUS 1.2 rows: one per day × stored cost row (model × cost type × token type).

The mapping, column by column, is `plan_focus_row` (a pure function, unit-tested); `iter_focus_rows` streams
the rows from the store one day at a time, so an export of a year holds one day's rows, never the period.

Money is exact: a stored amount is integer micro-cents (1e-8 USD), turned into Decimal dollars by a shift of
the exponent, never a division or a float, so the rows' BilledCost adds up to the reported cost exactly.
Unit prices are the only derived amounts (cost ÷ quantity): rounded to `_PRICE_PLACES` decimals.

What is not known is left null rather than invented: InvoiceId (the Admin API names no invoice), quantities
of code execution and session usage (the usage report does not count them), regions and commitments.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, and_, select

from usageledger.errors import UsageError
from usageledger.models import DAILY
from usageledger.reports.allocation_data import load_directory
from usageledger.reports.ownership_rules import Directory, SpendGroup, plan_attribution
from usageledger.reports.periods import Period
from usageledger.store.tables import (
    anthropic_api_keys,
    anthropic_workspaces,
    connections,
    cost_rows,
    usage_rows,
)

__all__ = ["FOCUS_COLUMNS", "FocusScope", "StoredCost", "iter_focus_rows", "plan_focus_row"]

# Every column of the export, in order, declared once: the writers and the Parquet schema read it.
# FOCUS 1.2 columns first, then ours, prefixed `x_` as FOCUS requires of custom columns.
FOCUS_COLUMNS: tuple[str, ...] = (
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency",
    "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
    "ChargeCategory", "ChargeClass", "ChargeFrequency", "ChargeDescription",
    "ProviderName", "PublisherName", "InvoiceIssuerName", "InvoiceId",
    "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "SubAccountId", "SubAccountName", "SubAccountType",
    "ResourceId", "ResourceName", "ResourceType",
    "ServiceName", "ServiceCategory", "ServiceSubcategory",
    "SkuId", "SkuPriceId", "SkuMeter", "SkuPriceDetails",
    "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "PricingCategory",
    "ListUnitPrice", "ContractedUnitPrice",
    "PricingCurrency", "PricingCurrencyListUnitPrice", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "RegionId", "RegionName", "AvailabilityZone",
    "CapacityReservationId", "CapacityReservationStatus",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit",
    "Tags",
    "x_CostType", "x_TokenType", "x_ServiceTier", "x_ContextWindow", "x_InferenceGeo", "x_Speed",
    "x_AmountMicrocents",
)  # fmt: skip
# Columns whose values are Decimal (the Parquet writer types them; the CSV writer always writes a point).
DECIMAL_COLUMNS: frozenset[str] = frozenset({
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingCurrencyEffectiveCost",
    "ConsumedQuantity", "PricingQuantity", "ListUnitPrice", "ContractedUnitPrice",
    "PricingCurrencyListUnitPrice", "PricingCurrencyContractedUnitPrice", "CommitmentDiscountQuantity",
})  # fmt: skip
TIMESTAMP_COLUMNS: frozenset[str] = frozenset(
    {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}
)
INTEGER_COLUMNS: frozenset[str] = frozenset({"x_AmountMicrocents"})

PROVIDER = "Anthropic"
SERVICE_NAME = "Claude API"
_PRICE_PLACES = Decimal("1E-10")  # a unit price is cost ÷ quantity: rounded here, the costs never are
_TOKENS_PER_PRICING_UNIT = 6  # prices are per million tokens: PricingUnit "1000000 Tokens"
_SEARCHES_PER_PRICING_UNIT = 3  # web search is priced per thousand searches

# token type (as the cost endpoints spell it) -> (the usage metric that counts it, the SKU meter's name).
TOKEN_TYPES: dict[str, tuple[str, str]] = {
    "uncached_input_tokens": ("uncached_input_tokens", "Input Tokens"),
    "output_tokens": ("output_tokens", "Output Tokens"),
    "cache_read_input_tokens": ("cache_read_input_tokens", "Cache Read Tokens"),
    "cache_creation.ephemeral_5m_input_tokens": ("cache_creation_5m_input_tokens", "Cache Write 5m Tokens"),
    "cache_creation.ephemeral_1h_input_tokens": ("cache_creation_1h_input_tokens", "Cache Write 1h Tokens"),
}
# Cost types without tokens: the meter's name; web search is counted (requests), the others are not.
_OTHER_METERS = {"web_search": "Web Search Requests", "code_execution": "Code Execution",
                 "session_usage": "Session Usage", "": "Tokens (not broken out)"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredCost:
    """One stored cost row with what the export adds beside it: names and the matching usage's counts."""

    day: dt.date
    organization_id: str
    organization_name: str | None
    workspace_id: str
    workspace_name: str | None
    api_key_id: str
    api_key_name: str | None
    model: str
    service_tier: str
    context_window: str
    inference_geo: str
    speed: str
    cost_type: str
    token_type: str
    amount_microcents: int
    list_amount_microcents: int
    currency: str
    usage: Mapping[str, int | None]  # the usage row's metrics at the same dimensions ({} when none)


def _usd(microcents: int) -> Decimal:
    return Decimal(microcents).scaleb(-8)  # exact: 1 micro-cent = 1e-8 USD


def _stamp(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _quantity(row: StoredCost) -> tuple[int | None, str | None, int | None, str | None]:
    """(consumed quantity, consumed unit, pricing scale as a power of ten, pricing unit) of a row's meter."""
    if row.cost_type == "tokens" and row.token_type in TOKEN_TYPES:
        count = row.usage.get(TOKEN_TYPES[row.token_type][0])
        return count, "Tokens", _TOKENS_PER_PRICING_UNIT, "1000000 Tokens"
    if row.cost_type == "web_search":
        return row.usage.get("web_search_requests"), "Requests", _SEARCHES_PER_PRICING_UNIT, "1000 Requests"
    return None, None, None, None  # code execution, sessions, rows not broken out: no honest count


def _meter(row: StoredCost) -> tuple[str, str]:
    """(the SKU meter's name, the part of the SKU price id that names it)."""
    if row.cost_type == "tokens" and row.token_type in TOKEN_TYPES:
        return TOKEN_TYPES[row.token_type][1], row.token_type
    return _OTHER_METERS.get(
        row.cost_type, row.cost_type.replace("_", " ").title()
    ), row.cost_type or "combined"


def _tags(row: StoredCost, directory: Directory | None, cache: dict[tuple[str, str], dict[str, str]]) -> str:
    """FOCUS Tags (a JSON object): the workspace and API key, and the owning team, cost center and
    application by the allocation rules (absent when the rules find none)."""
    key = (row.api_key_id, row.workspace_id)
    tags = cache.get(key)
    if tags is None:
        tags = {"workspace": row.workspace_name or row.workspace_id or "Default"}
        if row.api_key_id:
            tags["api_key"] = row.api_key_name or row.api_key_id
        if directory is not None:
            found = plan_attribution(
                directory, SpendGroup("api_actor", row.api_key_id or None, row.workspace_id)
            )
            if found.team is not None:
                tags["team"] = found.team.name
            if found.cost_center:
                tags["cost_center"] = found.cost_center
            if found.application is not None:
                tags["application"] = found.application.name
        cache[key] = tags
    return json.dumps(tags, sort_keys=True)


def plan_focus_row(
    row: StoredCost,
    directory: Directory | None = None,
    tag_cache: dict[tuple[str, str], dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The FOCUS row of one stored cost row: every column of `FOCUS_COLUMNS`, None where FOCUS allows null."""
    out: dict[str, Any] = dict.fromkeys(FOCUS_COLUMNS)
    billed, listed = _usd(row.amount_microcents), _usd(row.list_amount_microcents)
    count, unit, scale, pricing_unit = _quantity(row)
    meter, price_part = _meter(row)
    model = row.model or None
    pricing_quantity = Decimal(count).scaleb(-scale) if count is not None and scale is not None else None
    out.update(
        # `amount` is after discounts and before credits: what is billed. Without commitments, the
        # effective and contracted costs are the billed cost; ListCost is the list price's.
        BilledCost=billed, EffectiveCost=billed, ContractedCost=billed, ListCost=listed,
        PricingCurrencyEffectiveCost=billed, BillingCurrency=row.currency, PricingCurrency=row.currency,
        BillingPeriodStart=_stamp(row.day.replace(day=1)), BillingPeriodEnd=_stamp(_next_month(row.day)),
        ChargePeriodStart=_stamp(row.day), ChargePeriodEnd=_stamp(row.day + dt.timedelta(days=1)),
        ChargeCategory="Usage", ChargeFrequency="Usage-Based",
        ChargeDescription=f"{model or 'Claude'} {meter.lower()}",
        ProviderName=PROVIDER, PublisherName=PROVIDER, InvoiceIssuerName=PROVIDER,
        BillingAccountId=row.organization_id, BillingAccountName=row.organization_name or row.organization_id,
        BillingAccountType="Organization",
        ResourceId=row.api_key_id or None, ResourceName=(row.api_key_name or row.api_key_id) or None,
        ResourceType="API Key" if row.api_key_id else None,
        ServiceName=SERVICE_NAME, ServiceCategory="AI and Machine Learning", ServiceSubcategory="Generative AI",
        SkuId=model or row.cost_type or "combined",
        SkuPriceId=":".join((model or "", price_part, row.service_tier, row.context_window, row.inference_geo,
                             row.speed)),
        SkuMeter=meter,
        SkuPriceDetails=json.dumps({k: v for k, v in (
            ("Model", model), ("CostType", row.cost_type or None), ("TokenType", row.token_type or None),
            ("ServiceTier", row.service_tier or None), ("ContextWindow", row.context_window or None),
            ("InferenceGeo", row.inference_geo or None), ("Speed", row.speed or None)) if v}, sort_keys=True),
        ConsumedQuantity=Decimal(count) if count is not None else None, ConsumedUnit=unit if count is not None
        else None, PricingQuantity=pricing_quantity, PricingUnit=pricing_unit if count is not None else None,
        PricingCategory="Standard",
        Tags=_tags(row, directory, {} if tag_cache is None else tag_cache),
        x_CostType=row.cost_type or None, x_TokenType=row.token_type or None,
        x_ServiceTier=row.service_tier or None, x_ContextWindow=row.context_window or None,
        x_InferenceGeo=row.inference_geo or None, x_Speed=row.speed or None,
        x_AmountMicrocents=row.amount_microcents,
    )  # fmt: skip
    # The default workspace has no id in the API: the row belongs to the organization, with no sub account.
    if row.workspace_id:
        out.update(SubAccountId=row.workspace_id, SubAccountName=row.workspace_name or row.workspace_id,
                   SubAccountType="Workspace")  # fmt: skip
    if pricing_quantity:  # a unit price needs something priced; none for a zero count
        out.update(
            ListUnitPrice=(listed / pricing_quantity).quantize(_PRICE_PLACES, ROUND_HALF_EVEN),
            ContractedUnitPrice=(billed / pricing_quantity).quantize(_PRICE_PLACES, ROUND_HALF_EVEN),
        )
        out.update(PricingCurrencyListUnitPrice=out["ListUnitPrice"],
                   PricingCurrencyContractedUnitPrice=out["ContractedUnitPrice"])  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class FocusScope:
    """What an export covers: a tenant's connections, a period of whole days, optionally one organization."""

    tenant_id: int
    period: Period
    organization: str | None = None

    def connection_ids(self, conn: Connection) -> list[int]:
        """Raises UsageError for an organization the tenant has not connected."""
        rows = conn.execute(
            select(connections.c.id, connections.c.organization_id).where(
                connections.c.tenant_id == self.tenant_id
            )
        ).all()
        if self.organization is not None and self.organization not in {r.organization_id for r in rows}:
            raise UsageError(f"No connected organization has the id {self.organization!r}.")
        return [r.id for r in rows]


_DIMS = DAILY.dimensions
_METRICS = DAILY.usage_metrics


def _day_query(connection_ids: list[int], day: dt.date, organization: str | None) -> Any:
    """One day's cost rows, each with its names and the usage row at the same dimensions (if any)."""
    c, u, w, k = cost_rows, usage_rows, anthropic_workspaces, anthropic_api_keys
    query = (
        select(
            c.c.day, *(c.c[d] for d in _DIMS), c.c.cost_type, c.c.token_type, c.c.amount_microcents,
            c.c.list_amount_microcents, c.c.currency, connections.c.organization_name,
            w.c.name.label("workspace_name"), k.c.name.label("api_key_name"),
            *(u.c[m].label(f"u_{m}") for m in _METRICS),
        )
        .join(connections, connections.c.id == c.c.connection_id)
        .outerjoin(u, and_(u.c.connection_id == c.c.connection_id, u.c.day == c.c.day,
                           *(u.c[d] == c.c[d] for d in _DIMS)))
        .outerjoin(w, and_(w.c.connection_id == c.c.connection_id, w.c.id == c.c.workspace_id))
        .outerjoin(k, and_(k.c.connection_id == c.c.connection_id, k.c.id == c.c.api_key_id))
        .where(c.c.connection_id.in_(connection_ids), c.c.day == day)
        .order_by(c.c.connection_id, c.c.id)
    )  # fmt: skip
    if organization is not None:
        query = query.where(c.c.organization_id == organization)
    return query


def iter_focus_rows(
    conn: Connection, scope: FocusScope, *, page_rows: int = 2_000
) -> Iterator[dict[str, Any]]:
    """The scope's FOCUS rows, a day at a time (fetched `page_rows` at a time), oldest day first; each day's
    adjustments (revisions of closed days booked to it) follow its usage rows."""
    from .focus_adjustments import iter_adjustment_rows  # here: that module builds on this one's rows

    connection_ids = scope.connection_ids(conn)
    if not connection_ids:
        return
    directory = load_directory(conn, scope.tenant_id)
    tag_cache: dict[tuple[str, str], dict[str, str]] = {}
    streamed = conn.execution_options(yield_per=page_rows)  # a server-side cursor on PostgreSQL
    day = scope.period.start
    while day < scope.period.end:
        for r in streamed.execute(_day_query(connection_ids, day, scope.organization)):
            m = r._mapping
            usage = {name: m[f"u_{name}"] for name in _METRICS} if m[f"u_{_METRICS[0]}"] is not None else {}
            stored = StoredCost(
                m["day"], m["organization_id"], m["organization_name"], m["workspace_id"], m["workspace_name"],
                m["api_key_id"], m["api_key_name"], m["model"], m["service_tier"], m["context_window"],
                m["inference_geo"], m["speed"], m["cost_type"], m["token_type"], int(m["amount_microcents"]),
                int(m["list_amount_microcents"]), m["currency"], usage,
            )  # fmt: skip
            yield plan_focus_row(stored, directory, tag_cache)
        yield from iter_adjustment_rows(conn, connection_ids, day, scope.organization, directory, tag_cache)
        day += dt.timedelta(days=1)
