"""The FOCUS mapping, column by column, of one stored cost row (pure functions, no database)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from usageledger.reports.exports import FOCUS_COLUMNS, StoredCost, format_decimal, plan_focus_row
from usageledger.reports.ownership_rules import ApplicationInfo, Directory, Owner, TeamInfo


def _row(**changes) -> StoredCost:
    base = dict(
        day=dt.date(2026, 10, 31), organization_id="org_1", organization_name="Acme", workspace_id="wrk_1",
        workspace_name="Prod", api_key_id="key_1", api_key_name="backend", model="claude-sonnet-4-5",
        service_tier="standard", context_window="0-200k", inference_geo="", speed="", cost_type="tokens",
        token_type="cache_creation.ephemeral_5m_input_tokens", amount_microcents=123_456_789,
        list_amount_microcents=150_000_000, currency="USD",
        usage={"cache_creation_5m_input_tokens": 2_500_000, "web_search_requests": 40, "output_tokens": 7},
    )  # fmt: skip
    return StoredCost(**{**base, **changes})


def test_every_declared_column_is_filled_and_custom_ones_are_prefixed():
    out = plan_focus_row(_row())
    assert list(out) == list(FOCUS_COLUMNS)
    assert all(c.startswith("x_") for c in FOCUS_COLUMNS[FOCUS_COLUMNS.index("Tags") + 1 :])


def test_amounts_are_exact_dollars_from_micro_cents():
    out = plan_focus_row(_row())
    assert out["BilledCost"] == out["EffectiveCost"] == out["ContractedCost"] == Decimal("1.23456789")
    assert out["ListCost"] == Decimal("1.5")
    assert format_decimal(out["BilledCost"]) == "1.23456789"


def test_a_token_type_is_priced_per_million_of_its_own_usage_metric():
    out = plan_focus_row(_row())
    assert out["ConsumedQuantity"] == 2_500_000 and out["ConsumedUnit"] == "Tokens"
    assert out["PricingQuantity"] == Decimal("2.5") and out["PricingUnit"] == "1000000 Tokens"
    assert out["ListUnitPrice"] == Decimal("0.6") and out["ContractedUnitPrice"] == Decimal("0.4938271560")
    assert out["SkuId"] == "claude-sonnet-4-5" and out["SkuMeter"] == "Cache Write 5m Tokens"
    assert out["SkuPriceId"] == "claude-sonnet-4-5:cache_creation.ephemeral_5m_input_tokens:standard:0-200k::"


def test_the_day_is_the_charge_period_and_its_month_the_billing_period():
    out = plan_focus_row(_row())
    utc = dt.UTC
    assert (out["ChargePeriodStart"], out["ChargePeriodEnd"]) == (dt.datetime(2026, 10, 31, tzinfo=utc),
                                                                  dt.datetime(2026, 11, 1, tzinfo=utc))  # fmt: skip
    assert (out["BillingPeriodStart"], out["BillingPeriodEnd"]) == (dt.datetime(2026, 10, 1, tzinfo=utc),
                                                                    dt.datetime(2026, 11, 1, tzinfo=utc))  # fmt: skip


def test_workspace_and_key_are_sub_account_and_resource_with_names():
    out = plan_focus_row(_row())
    assert (out["SubAccountId"], out["SubAccountName"], out["SubAccountType"]) == (
        "wrk_1",
        "Prod",
        "Workspace",
    )
    assert (out["ResourceId"], out["ResourceName"], out["ResourceType"]) == ("key_1", "backend", "API Key")
    assert (out["BillingAccountId"], out["BillingAccountName"]) == ("org_1", "Acme")


def test_the_default_workspace_and_console_usage_leave_sub_account_and_resource_null():
    out = plan_focus_row(_row(workspace_id="", workspace_name=None, api_key_id="", api_key_name=None))
    assert out["SubAccountId"] is out["SubAccountName"] is out["ResourceId"] is out["ResourceType"] is None
    assert json.loads(out["Tags"]) == {"workspace": "Default"}


def test_web_search_is_counted_in_requests_priced_per_thousand():
    out = plan_focus_row(_row(cost_type="web_search", token_type="", amount_microcents=40_000_000))
    assert (out["ConsumedQuantity"], out["ConsumedUnit"]) == (40, "Requests")
    assert (out["PricingQuantity"], out["PricingUnit"]) == (Decimal("0.04"), "1000 Requests")
    assert out["ContractedUnitPrice"] == Decimal("10")


@pytest.mark.parametrize("cost_type", ["code_execution", "session_usage", ""])
def test_a_cost_without_a_counted_quantity_leaves_quantities_and_unit_prices_null(cost_type):
    out = plan_focus_row(_row(cost_type=cost_type, token_type=""))
    assert out["BilledCost"] == Decimal("1.23456789")
    nulls = ("ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "ListUnitPrice")
    assert [c for c in nulls if out[c] is not None] == []


def test_no_matching_usage_row_means_no_quantity_not_zero():
    out = plan_focus_row(_row(usage={}))
    assert out["ConsumedQuantity"] is None and out["ListUnitPrice"] is None


def test_tags_carry_team_cost_center_and_application_from_the_allocation_rules():
    team = TeamInfo(1, "Platform", "CC-42")
    directory = Directory(teams={1: team}, owners={("api_key", "key_1"): Owner(team_id=1)},
                          applications={("workspace", "wrk_1"): ApplicationInfo(9, "Support bot", None)})  # fmt: skip
    tags = json.loads(plan_focus_row(_row(), directory)["Tags"])
    assert tags == {"workspace": "Prod", "api_key": "backend", "team": "Platform", "cost_center": "CC-42",
                    "application": "Support bot"}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(1207000), "1207000.0"),
        (Decimal(5).scaleb(-8), "0.00000005"),
        (Decimal(0).scaleb(-8), "0.00000000"),
    ],
)
def test_decimals_are_written_with_a_point_and_no_exponent(value, text):
    assert format_decimal(value) == text
