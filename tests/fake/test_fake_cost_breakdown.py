"""The cost endpoint's fan-out by cost_type and token_type, as the SDK documents it, and as the sync reads it.

The SDK (2.10.0): `cost_type` and `token_type` take no group_by[] slot and their rows do not count toward
`limit`; `token_type` is set only on `cost_type: "tokens"` rows; `requests` is null when either is grouped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import anthropic
import httpx
from anthropic.types.beta.organization.analytics import BetaAnalyticsCostItem

from usageledger.anthropic.wire import parse_analytics_cost
from usageledger.fake import FakeOrganization
from usageledger.models import DAILY

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 8)
COST = "/v1/organizations/analytics/cost"
BETA = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
PARAMS = {
    "starting_at": f"{START}T00:00:00Z",
    "ending_at": f"{END}T00:00:00Z",
    "time_bucket_width": "1d",
    "group_by[]": list(DAILY.cost_group_by),
    "order_by": "time",
    "order": "asc",
}


def _sdk_rows(client: anthropic.Anthropic, limit: int) -> list[BetaAnalyticsCostItem]:
    return list(
        client.beta.organization.analytics.cost.list(
            starting_at=f"{START}T00:00:00Z",
            ending_at=f"{END}T00:00:00Z",
            time_bucket_width="1d",
            limit=limit,
            group_by=list(DAILY.cost_group_by),  # type: ignore[arg-type]
        )
    )


def test_fanned_rows_parse_with_the_sdk_and_add_up_to_the_truth_per_type(
    client: anthropic.Anthropic, fake: FakeOrganization
) -> None:
    """Every row parses as the SDK's item; requests are null; token_type only on tokens; per (cost type,
    token type) the amounts equal the fake's truth, and together its ungrouped total."""
    rows = _sdk_rows(client, limit=200)
    assert rows and all(isinstance(r, BetaAnalyticsCostItem) for r in rows)
    assert all(r.cost.requests is None for r in rows)
    assert all(r.group.cost_type is not None for r in rows)
    assert all((r.group.token_type is not None) == (r.group.cost_type == "tokens") for r in rows)
    served: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in rows:
        served[(r.group.cost_type, r.group.token_type)] += Decimal(r.cost.amount)
    truth: dict[tuple, Decimal] = defaultdict(Decimal)
    for t in fake.truth_cost_by_type(START, END):
        truth[t.breakdown] += t.amount_cents
    assert served == truth
    assert {"web_search", "code_execution"} <= {k[0] for k in truth}  # the fake exercises them
    assert sum(served.values()) == sum(t.amount_cents for t in fake.truth_cost(START, END))


def test_fan_out_rows_do_not_count_toward_the_limit(http: httpx.Client) -> None:
    """A page of `limit` groups carries every type of each: more rows than the limit, `limit` groups."""
    body = http.get(COST, params={**PARAMS, "limit": 5}, headers=BETA).json()
    groups = {(r["starting_at"], *(r["group"][d] for d in DAILY.group_by)) for r in body["data"]}
    assert len(groups) == 5 and len(body["data"]) > 5 and body["has_more"]


def test_the_sync_decoder_reads_what_the_sdk_reads(client: anthropic.Anthropic, http: httpx.Client) -> None:
    """Our msgspec decoder and the SDK's models agree on every fanned row: day, dimensions, types, amounts."""
    raw = http.get(COST, params={**PARAMS, "limit": 200}, headers=BETA)
    page = parse_analytics_cost(raw.content, "org_fake")
    sdk = client.beta.organization.analytics.cost.with_raw_response.list(
        starting_at=f"{START}T00:00:00Z",
        ending_at=f"{END}T00:00:00Z",
        time_bucket_width="1d",
        limit=200,
        group_by=list(DAILY.cost_group_by),  # type: ignore[arg-type]
        order_by="time",
        order="asc",
    ).parse()
    assert len(page.records) == len(sdk.data) > 0
    for record, item in zip(page.records, sdk.data, strict=True):
        assert record.day == item.starting_at.date()
        assert record.dims.model == item.group.model and record.dims.api_key_id == item.group.api_key_id
        assert record.breakdown == (item.group.cost_type, item.group.token_type)
        assert record.amount_cents == Decimal(item.cost.amount)
        assert record.list_amount_cents == Decimal(item.cost.list_amount)
        assert record.requests is None


def test_token_type_alone_returns_only_the_token_rows(http: httpx.Client) -> None:
    """Grouped by token_type without cost_type: one row per token type, each `cost_type: "tokens"`."""
    params = {**PARAMS, "group_by[]": [*DAILY.group_by, "token_type"], "limit": 50}
    rows = http.get(COST, params=params, headers=BETA).json()["data"]
    assert rows and {r["group"]["cost_type"] for r in rows} == {"tokens"}
    assert all(r["group"]["token_type"] is not None for r in rows)
