"""Pydantic shapes of `GET /api/v1/overview` (they document /docs; the values come from `reports.overview_json`).

Money is a decimal string exact to 1e-8 USD (`"54619.03986927"`); shares and changes are percent strings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["OverviewOut", "TodayByHourOut"]

Money = str


class PeriodOut(BaseModel):
    key: str = Field(description="this-month, last-month, 7d, 30d, 90d, ytd, custom, previous or YYYY-MM")
    label: str
    since: str = Field(description="First day, inclusive (UTC).")
    until: str = Field(description="Last day, inclusive (UTC).")


class LastMonthOut(PeriodOut):
    cost_usd: Money


class OrganizationOut(BaseModel):
    id: str
    name: str


class ForecastOut(BaseModel):
    month: str = Field(description="YYYY-MM: the month being forecast (today's, UTC).")
    spent_usd: Money
    days_left: int = Field(description="Days from today (included) to the month's end.")
    basis_days: int = Field(description="Complete days of history the daily pace was taken from.")
    daily_low_usd: Money | None
    daily_high_usd: Money | None
    low_usd: Money | None = Field(description="None: not enough data yet.")
    high_usd: Money | None
    enough_data: bool
    method: str = Field(description="How the range is computed, in one sentence.")


class TopRowOut(BaseModel):
    key: str | None = Field(
        description="The model, workspace id, API key id or organization id; None: none/other."
    )
    label: str = Field(description="The name beside the id.")
    organization_id: str | None
    organization_name: str | None
    cost_usd: Money
    share_pct: str
    other: bool = Field(description="The rest beyond the top 5, folded into one row.")


class TopTableOut(BaseModel):
    total_usd: Money
    rows: list[TopRowOut]


class DayOut(BaseModel):
    date: str
    cost_usd: Money
    previous_date: str | None = Field(description="The comparable day of the previous period.")
    previous_cost_usd: Money | None
    provisional: bool = Field(description="Within the re-fetch lookback: the figure may still change.")


class CacheOut(BaseModel):
    cache_read_tokens: int
    input_tokens: int = Field(description="Every input token: uncached, cache read and cache write.")
    share_pct: str | None = Field(description="Share of input served from cache.")
    saved_usd_estimate: Money = Field(
        description="What cache reads saved: from the stored cost per token type, or estimated from list prices "
        "where no breakdown is stored; `method` says which, `basis` how."
    )
    method: Literal["stored_costs", "list_prices", "mixed", "none"] = Field(
        description="stored_costs: every model priced from its stored token-type costs; list_prices: from list "
        "prices alone; mixed: both; none: nothing to price."
    )
    unpriced_models: list[str] = Field(
        description="Models with cache reads but no price either way: left out."
    )
    basis: str


class CostTypeOut(BaseModel):
    cost_type: str | None = Field(
        description="The cost endpoint's cost_type (tokens, web_search, code_execution, session_usage); None for "
        "cost synced before cost types were stored."
    )
    label: str
    cost_usd: Money
    share_pct: str = Field(description="Share of the period's cost, in percent.")


class ConnectionCardOut(BaseModel):
    id: int
    name: str
    organization_name: str | None
    state: str
    last_sync_succeeded_at: str | None
    data_refreshed_at: str | None
    warning: str | None = Field(
        description="Stale, failing, disconnected or not yet synced; None when fresh."
    )


class OverviewOut(BaseModel):
    """Where the money goes: the same read model the overview page renders."""

    today: str = Field(description="Today in UTC.")
    period: PeriodOut
    previous_period: PeriodOut
    organization: str | None = Field(description="The organization filter; None: all organizations together.")
    organizations: list[OrganizationOut]
    cost_usd: Money = Field(description="Reported cost of the period.")
    list_cost_usd: Money
    discount_usd: Money
    discount_pct: str | None
    previous_cost_usd: Money
    change_pct: str | None = Field(
        description="Change against the previous period; None when it had no cost."
    )
    forecast: ForecastOut
    last_month: LastMonthOut
    top: dict[str, TopTableOut] = Field(description="model, workspace, api_key (and organization when > 1).")
    daily: list[DayOut]
    provisional_from: str = Field(description="Days from this one on may still change.")
    cache: CacheOut
    cost_by_type: list[CostTypeOut] = Field(
        description="The period's cost per cost type: tokens, web search, code execution, session usage."
    )
    connections: list[ConnectionCardOut]


class HourOut(BaseModel):
    hour: str = Field(description="The UTC hour it starts, RFC 3339.")
    cost_usd: Money
    tokens: int = Field(description="Every input and output token: uncached, cache read and write, output.")
    yesterday_cost_usd: Money | None = Field(
        description="The same hour yesterday; null when not kept by hour."
    )


class TodayByHourOut(BaseModel):
    date: str = Field(description="Today, UTC.")
    total_usd: Money = Field(description="Since midnight UTC, as of the last sync.")
    synced_at: str | None = Field(description="The newest successful sync of these connections.")
    has_hourly_data: bool = Field(
        description="False until a sync has fetched hours (or for classic reports)."
    )
    hours: list[HourOut] = Field(description="Midnight to the current hour, oldest first.")
