"""The fake's data: deterministic, realistic, and the same truth through every endpoint and grouping."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import httpx
import pytest

from usageledger.fake import FakeOrganization

BETA = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
USAGE = "/v1/organizations/analytics/usage"
COST = "/v1/organizations/analytics/cost"
START, END = dt.date(2026, 4, 6), dt.date(2026, 4, 13)
WINDOW = {"starting_at": f"{START}T00:00:00Z", "ending_at": f"{END}T00:00:00Z"}
TOKEN_FIELDS = ("uncached_input_tokens", "output_tokens", "cache_read_input_tokens")


def _all_pages(http: httpx.Client, path: str, params: dict) -> list[dict]:
    rows, page = [], None
    while True:
        body = http.get(path, params={**params, **({"page": page} if page else {})}, headers=BETA).json()
        rows += body["data"]
        if not body["has_more"]:
            return rows
        page = body["next_page"]


def _usage_totals(rows: list[dict]) -> tuple[int, ...]:
    return tuple(sum(r["usage"][f] for r in rows) for f in (*TOKEN_FIELDS, "requests", "total_tokens"))


def _classic_pages(http: httpx.Client, path: str, params: dict) -> list[dict]:
    buckets, page = [], None
    while True:
        body = http.get(path, params={**params, **({"page": page} if page else {})}).json()
        buckets += body["data"]
        if not body["has_more"]:
            return buckets
        page = body["next_page"]


@pytest.mark.parametrize(
    "group_by",
    [
        ["model"],
        ["workspace_id", "api_key_id"],
        ["service_tier", "context_window", "inference_geo", "speed"],
        ["organization_id", "model", "product"],
    ],
)
def test_grouped_sums_equal_the_ungrouped_total(http: httpx.Client, group_by: list[str]) -> None:
    """Any grouping, bucketed or not, sums to the single ungrouped row of the same window."""
    total = _usage_totals(http.get(USAGE, params=WINDOW, headers=BETA).json()["data"])
    grouped = _all_pages(http, USAGE, {**WINDOW, "group_by[]": group_by, "limit": 17})
    daily = _all_pages(
        http, USAGE, {**WINDOW, "group_by[]": group_by, "time_bucket_width": "1d", "limit": 1000}
    )
    assert _usage_totals(grouped) == _usage_totals(daily) == total


def test_usage_totals_equal_truth_and_classic(http: httpx.Client, fake: FakeOrganization) -> None:
    """Analytics, classic and the ground truth agree on every token count."""
    truth = fake.truth_usage(START, END)
    analytics = http.get(USAGE, params=WINDOW, headers=BETA).json()["data"][0]["usage"]
    buckets = _classic_pages(
        http,
        "/v1/organizations/usage_report/messages",
        {**WINDOW, "group_by[]": ["model", "api_key_id"], "limit": 3},
    )
    classic = [r for b in buckets for r in b["results"]]
    assert len(buckets) == 7
    for field in TOKEN_FIELDS:
        assert analytics[field] == sum(r[field] for r in classic) == sum(getattr(t, field) for t in truth)
    assert (
        analytics["cache_creation"]["ephemeral_5m_input_tokens"]
        == sum(r["cache_creation"]["ephemeral_5m_input_tokens"] for r in classic)
        == sum(t.cache_creation_5m_input_tokens for t in truth)
    )
    assert analytics["server_tool_use"]["web_search_requests"] == sum(t.web_search_requests for t in truth)
    assert None not in {r["model"] for r in classic}  # code execution is not in the classic usage report


def test_cost_totals_equal_truth_and_classic(http: httpx.Client, fake: FakeOrganization) -> None:
    """Analytics cost equals the truth; the classic report equals it without Priority Tier; fan-out sums too."""
    truth = fake.truth_cost(START, END)
    amount = sum(t.amount_cents for t in truth)
    row = http.get(COST, params=WINDOW, headers=BETA).json()["data"][0]["cost"]
    assert (Decimal(row["amount"]), Decimal(row["list_amount"])) == (
        amount,
        sum(t.list_amount_cents for t in truth),
    )
    assert Decimal(row["list_amount"]) * Decimal("0.9") == Decimal(row["amount"])
    fanned = _all_pages(
        http, COST, {**WINDOW, "group_by[]": ["cost_type", "token_type", "model"], "limit": 5}
    )
    assert sum(Decimal(r["cost"]["amount"]) for r in fanned) == amount
    assert {r["group"]["cost_type"] for r in fanned} >= {"tokens", "web_search", "code_execution"}
    assert all(r["cost"]["requests"] is None for r in fanned)
    not_priority = sum(t.amount_cents for t in truth if t.dims.service_tier != "priority")
    for group_by in ([], ["workspace_id"], ["description"], ["workspace_id", "description"]):
        buckets = _classic_pages(http, "/v1/organizations/cost_report", {**WINDOW, "group_by[]": group_by})
        assert sum(Decimal(r["amount"]) for b in buckets for r in b["results"]) == not_priority


def test_pagination_is_exhaustive_and_deterministic(http: httpx.Client, fake: FakeOrganization) -> None:
    """Paging the full daily grouping returns every combination once, in the same order every time."""
    dims = ["workspace_id", "api_key_id", "model", "service_tier", "context_window"]
    params = {**WINDOW, "group_by[]": dims, "time_bucket_width": "1d", "limit": 23}
    first, second = _all_pages(http, USAGE, params), _all_pages(http, USAGE, params)
    assert first == second
    seen = [(r["starting_at"], tuple(r["group"][d] for d in dims)) for r in first]
    assert len(seen) == len(set(seen))
    expected = {
        (
            f"{t.day}T00:00:00Z",
            (
                t.dims.workspace_id,
                t.dims.api_key_id,
                t.dims.model,
                t.dims.service_tier,
                t.dims.context_window,
            ),
        )
        for t in fake.truth_usage(START, END)
    }
    assert set(seen) == expected
    totals = [r["usage"]["total_tokens"] for r in first]
    assert totals == sorted(totals, reverse=True)


def test_order_by_time(http: httpx.Client) -> None:
    """order_by=time orders buckets newest first (or oldest with order=asc), total_tokens within a bucket."""
    params = {**WINDOW, "group_by[]": "model", "time_bucket_width": "1d", "limit": 1000, "order_by": "time"}
    rows = http.get(USAGE, params=params, headers=BETA).json()["data"]
    starts = [r["starting_at"] for r in rows]
    assert starts == sorted(starts, reverse=True)
    day = [r["usage"]["total_tokens"] for r in rows if r["starting_at"] == starts[0]]
    assert day == sorted(day, reverse=True)
    ascending = http.get(USAGE, params={**params, "order": "asc"}, headers=BETA).json()["data"]
    assert [r["starting_at"] for r in ascending] == sorted(starts)


def test_revise_days_changes_numbers_everywhere(http: httpx.Client, fake: FakeOrganization) -> None:
    """Revising a day changes its rows (a combination goes, one comes) in the truth and in the API."""
    day = dt.date(2026, 6, 10)
    window = {"starting_at": f"{day}T00:00:00Z", "ending_at": f"{day + dt.timedelta(days=1)}T00:00:00Z"}
    before_truth = fake.truth_usage(day, day + dt.timedelta(days=1))
    before_api = http.get(USAGE, params=window, headers=BETA).json()["data"][0]["usage"]
    untouched = fake.truth_usage(day + dt.timedelta(days=1), day + dt.timedelta(days=2))
    fake.revise_days([day])
    after_truth = fake.truth_usage(day, day + dt.timedelta(days=1))
    after_api = http.get(USAGE, params=window, headers=BETA).json()["data"][0]["usage"]
    assert before_truth != after_truth and before_api != after_api
    assert after_api["total_tokens"] == sum(
        t.uncached_input_tokens
        + t.output_tokens
        + t.cache_read_input_tokens
        + t.cache_creation_5m_input_tokens
        + t.cache_creation_1h_input_tokens
        for t in after_truth
    )
    assert {t.dims for t in before_truth} != {t.dims for t in after_truth}
    assert fake.truth_usage(day + dt.timedelta(days=1), day + dt.timedelta(days=2)) == untouched


def test_generator_is_deterministic_and_seeded() -> None:
    """The same seed gives the same organization and rows; another seed gives others."""
    today = dt.date(2026, 11, 25)
    a, b = (
        FakeOrganization(seed=3, rows_per_day=30, today=today),
        FakeOrganization(seed=3, rows_per_day=30, today=today),
    )
    c = FakeOrganization(seed=4, rows_per_day=30, today=today)
    week = (dt.date(2026, 2, 2), dt.date(2026, 2, 9))
    assert a.truth_usage(*week) == b.truth_usage(*week) and a.truth_cost(*week) == b.truth_cost(*week)
    assert a.directory == b.directory and a.organization == b.organization
    assert a.truth_usage(*week) != c.truth_usage(*week)


def test_data_is_realistic(fake: FakeOrganization) -> None:
    """Every value set appears, weekends are quieter, and data spans 2026-01-01 to yesterday."""
    rows = fake.truth_usage(dt.date(2026, 1, 1), fake.today)
    dims = Counter()
    for r in rows:
        for name in ("model", "service_tier", "context_window", "inference_geo", "speed"):
            dims[(name, getattr(r.dims, name))] += 1
    assert len({v for (n, v) in dims if n == "model" and v}) >= 6
    assert {("service_tier", t) for t in ("standard", "batch", "priority")} <= set(dims)
    assert {("context_window", "0-200k"), ("context_window", "200k-1M"), ("speed", "fast")} <= set(dims)
    assert dims[("context_window", "200k-1M")] < dims[("context_window", "0-200k")] / 5
    assert ("model", None) in dims and ("inference_geo", None) in dims
    assert min(r.day for r in rows) == dt.date(2026, 1, 1) and max(
        r.day for r in rows
    ) == fake.today - dt.timedelta(1)
    assert fake.day_rows(dt.date(2025, 12, 31)) == [] and fake.day_rows(fake.today) == []
    per_day = Counter(r.day for r in rows)
    assert 0.8 * fake.rows_per_day < sum(per_day.values()) / len(per_day) < 1.2 * fake.rows_per_day
    tokens: dict[bool, list[int]] = {True: [], False: []}
    for r in rows:
        tokens[r.day.weekday() >= 5].append(r.uncached_input_tokens)
    assert sum(tokens[True]) / len(per_day) < sum(tokens[False]) / len(per_day)
    costs = fake.truth_cost(dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    assert [c.dims for c in costs] == [
        u.dims for u in fake.truth_usage(dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    ]
    assert all(c.list_amount_cents > c.amount_cents > 0 for c in costs)
    assert fake.default_workspace_id in {r.dims.workspace_id for r in rows}
