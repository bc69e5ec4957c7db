"""Analytics pages decode strictly: the cursor at once, the rows on first use, a bad shape is an error."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from usageledger.anthropic.wire import parse_analytics_cost, parse_analytics_usage, parse_classic_cost
from usageledger.errors import MalformedResponseError

_NULL_GROUP_FIELDS = ("actor", "agent_id", "product", "session_id", "user_profile_id")


def _group(**dims: str | None) -> dict[str, Any]:
    return {**dict.fromkeys(_NULL_GROUP_FIELDS), "organization_id": None, **dims}


def _usage_row(**usage: Any) -> dict[str, Any]:
    return {
        "starting_at": "2026-03-02T00:00:00Z",
        "ending_at": "2026-03-03T00:00:00Z",
        "group": _group(workspace_id="wrkspc_a", api_key_id="apikey_a", model="claude-fake-model"),
        "usage": {
            "uncached_input_tokens": 10,
            "output_tokens": 20,
            "cache_read_input_tokens": 30,
            "cache_creation": {"ephemeral_5m_input_tokens": 4, "ephemeral_1h_input_tokens": 5},
            "requests": 6,
            "server_tool_use": {"web_search_requests": 7},
            "total_tokens": 69,
            **usage,
        },
    }


def _page(rows: list[dict[str, Any]], **fields: Any) -> bytes:
    return json.dumps(
        {"data": rows, "has_more": True, "next_page": "cursor-2", "data_refreshed_at": "2026-03-03T04:05:06Z"}
        | fields
    ).encode()


def test_a_usage_row_becomes_a_record_with_the_organization_filled_in():
    """Every metric lands in its field; a null organization_id takes the connection's organization."""
    page = parse_analytics_usage(_page([_usage_row()]), "org_fake")
    assert (page.has_more, page.next_page) == (True, "cursor-2")
    assert page.data_refreshed_at == dt.datetime(2026, 3, 3, 4, 5, 6, tzinfo=dt.UTC)
    [record] = page.records
    assert record.day == dt.date(2026, 3, 2)
    assert record.dims.organization_id == "org_fake"
    assert (record.dims.workspace_id, record.dims.api_key_id, record.dims.model) == (
        "wrkspc_a",
        "apikey_a",
        "claude-fake-model",
    )
    assert record.dims.service_tier is None
    assert record[2:] == (10, 20, 30, 4, 5, 6, 7)


def test_a_cost_row_keeps_its_amounts_exact():
    row = {
        "starting_at": "2026-03-02T00:00:00Z",
        "group": _group(model="claude-fake-model"),
        "cost": {"amount": "123.456789", "list_amount": "150.1", "currency": "USD", "requests": 3},
    }
    [record] = parse_analytics_cost(_page([row], has_more=False, next_page=None), "org_fake").records
    assert (record.amount_cents, record.list_amount_cents) == (Decimal("123.456789"), Decimal("150.1"))
    assert (record.currency, record.requests) == ("USD", 3)


def test_fanned_cost_rows_carry_their_cost_and_token_type():
    """Rows grouped by cost_type/token_type keep both (token type None off tokens); ungrouped, both None."""
    rows = [
        {
            "starting_at": "2026-03-02T00:00:00Z",
            "group": _group(model="m", cost_type=cost_type, token_type=token_type),
            "cost": {"amount": "1.5", "list_amount": "2", "currency": "USD", "requests": None},
        }
        for cost_type, token_type in (
            ("tokens", "cache_read_input_tokens"),
            ("web_search", None),
            (None, None),
        )
    ]
    records = parse_analytics_cost(_page(rows), "org_fake").records
    assert [r.breakdown for r in records] == [
        ("tokens", "cache_read_input_tokens"),
        ("web_search", None),
        (None, None),
    ]
    assert records[0].cost_type == "tokens" and records[0].token_type == "cache_read_input_tokens"
    assert all(r.requests is None for r in records)


def test_classic_cost_results_keep_their_types_and_sum_only_what_the_grain_drops():
    """Two results of one type that differ only by description are summed; other types stay apart."""
    result = {"workspace_id": "w", "model": "m", "currency": "USD", "description": "x"}
    body = json.dumps(
        {
            "data": [
                {
                    "starting_at": "2026-03-02T00:00:00Z",
                    "results": [
                        {**result, "amount": "1", "cost_type": "tokens", "token_type": "output_tokens"},
                        {**result, "amount": "2", "cost_type": "tokens", "token_type": "output_tokens"},
                        {**result, "amount": "4", "cost_type": "web_search", "token_type": None},
                    ],
                }
            ],
            "has_more": False,
        }
    ).encode()
    records = parse_classic_cost(body, "org_fake").records
    assert {(r.breakdown, r.amount_cents, r.requests) for r in records} == {
        (("tokens", "output_tokens"), Decimal(3), None),
        (("web_search", None), Decimal(4), None),
    }


def test_the_cursor_is_read_without_decoding_the_rows():
    """A page's cursor is usable before its rows are decoded; bad rows fail when they are read."""
    page = parse_analytics_usage(_page([_usage_row(output_tokens="many")]), "org_fake")
    assert page.next_page == "cursor-2"
    with pytest.raises(MalformedResponseError, match="output_tokens"):
        _ = page.records


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        ({"output_tokens": True}, "output_tokens"),  # a boolean is not a count
        ({"output_tokens": 1.5}, "output_tokens"),
        ({"cache_creation": {"ephemeral_5m_input_tokens": 1}}, "ephemeral_1h_input_tokens"),
    ],
)
def test_a_row_of_the_wrong_shape_fails_the_page(usage, field):
    page = parse_analytics_usage(_page([_usage_row(**usage)]), "org_fake")
    with pytest.raises(MalformedResponseError, match=field):
        _ = page.records


def test_a_missing_has_more_fails_at_once():
    body = json.dumps({"data": [], "next_page": None}).encode()
    with pytest.raises(MalformedResponseError, match="has_more"):
        parse_analytics_usage(body, "org_fake")


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", _page([_usage_row()])[:-40]])
def test_a_body_that_is_not_json_says_so(body):
    with pytest.raises(MalformedResponseError, match="not valid JSON"):
        parse_analytics_usage(body, "org_fake")


def test_an_amount_that_is_not_a_decimal_fails_the_page():
    row = {
        "starting_at": "2026-03-02T00:00:00Z",
        "group": _group(),
        "cost": {"amount": "twelve", "list_amount": "1", "currency": "USD"},
    }
    page = parse_analytics_cost(_page([row]), "org_fake")
    with pytest.raises(MalformedResponseError, match="decimal.*amount"):
        _ = page.records
