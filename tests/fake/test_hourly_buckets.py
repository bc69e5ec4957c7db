"""time_bucket_width=1h: every day split across its UTC hours, summing exactly to the daily rows.

The fake serves hour buckets on analytics usage and cost for any grouping, filter, order and page size, as it
serves day buckets; `truth_hourly_usage`/`truth_hourly_cost` are the HOURLY grain's ground truth. Today's
hours run up to the current one (the fixture's clock says 09:00 on 2026-11-25).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from operator import add
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types.beta.organization.analytics import BetaAnalyticsCostItem, BetaAnalyticsUsageItem

import usageledger
from usageledger.fake import FakeOrganization
from usageledger.fake.analytics import components
from usageledger.fake.anomalies import Injection
from usageledger.models import HOURLY, CostRecord, HourlyDimensions, UsageRecord

from .conftest import TODAY

BETA = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
USAGE = "/v1/organizations/analytics/usage"
COST = "/v1/organizations/analytics/cost"
HOUR = dt.timedelta(hours=1)
DAYS = (dt.date(2026, 3, 7), dt.date(2026, 3, 8), dt.date(2026, 11, 24))  # a Saturday, a Sunday, yesterday
MIDNIGHT = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)
NOW = MIDNIGHT + 9 * HOUR  # the fixture's clock


def _window(start: dt.date | dt.datetime, end: dt.date | dt.datetime, width: str) -> dict[str, Any]:
    def text(moment: dt.date | dt.datetime) -> str:
        if isinstance(moment, dt.datetime):
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{moment}T00:00:00Z"

    return {"starting_at": text(start), "ending_at": text(end), "time_bucket_width": width}


def _all_pages(http: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows, page, seen = [], None, set()
    while True:
        response = http.get(path, params={**params, **({"page": page} if page else {})}, headers=BETA)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        if not body["has_more"]:
            return rows
        assert body["next_page"] not in seen
        page = body["next_page"]
        seen.add(page)


def _group(row: dict[str, Any], dims: list[str]) -> tuple[Any, ...]:
    return tuple(row["group"][d] for d in dims)


def _usage_metrics(row: dict[str, Any]) -> tuple[int, ...]:
    usage = row["usage"]
    return (
        usage["uncached_input_tokens"],
        usage["output_tokens"],
        usage["cache_read_input_tokens"],
        usage["cache_creation"]["ephemeral_5m_input_tokens"],
        usage["cache_creation"]["ephemeral_1h_input_tokens"],
        usage["requests"],
        usage["server_tool_use"]["web_search_requests"],
        usage["total_tokens"],
    )


def _cost_metrics(row: dict[str, Any]) -> tuple[Decimal, ...]:
    return (Decimal(row["cost"]["amount"]), Decimal(row["cost"]["list_amount"]))


def _per_day(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], tuple[Any, ...]], metrics: Callable):
    """Metrics summed per (UTC day of the row's bucket, key)."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        values = metrics(row)
        found = sums.setdefault((row["starting_at"][:10], *key(row)), [0] * len(values))
        for i, value in enumerate(values):
            found[i] += value
    return {k: tuple(v) for k, v in sums.items()}


def _key_of(dims: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's group as hashable values (an actor is an object: compared by its text)."""
    return lambda row: tuple(str(v) for v in _group(row, dims))


GROUPINGS = [list(HOURLY.group_by), ["api_key_id", "service_tier"], ["actor", "product"], []]


@pytest.mark.parametrize("dims", GROUPINGS, ids=lambda d: "+".join(d) or "ungrouped")
@pytest.mark.parametrize("day", DAYS, ids=str)
def test_hourly_usage_sums_exactly_to_the_daily_rows(
    http: httpx.Client, day: dt.date, dims: list[str]
) -> None:
    """Every usage metric of a day's hour buckets, per group, adds up to that day's 1d row."""
    params = {"group_by[]": dims, "limit": 1000}
    hourly = _all_pages(http, USAGE, {**_window(day, day + dt.timedelta(days=1), "1h"), **params})
    daily = _all_pages(http, USAGE, {**_window(day, day + dt.timedelta(days=1), "1d"), **params})
    assert daily and len(hourly) > len(daily)
    assert {r["starting_at"][:10] for r in hourly} == {str(day)}
    by_group = _key_of(dims)
    assert _per_day(hourly, by_group, _usage_metrics) == _per_day(daily, by_group, _usage_metrics)


@pytest.mark.parametrize(
    "dims", [list(HOURLY.cost_group_by), ["model", "cost_type"], ["workspace_id"]], ids="+".join
)
@pytest.mark.parametrize("day", DAYS, ids=str)
def test_hourly_cost_sums_exactly_to_the_daily_rows(
    http: httpx.Client, day: dt.date, dims: list[str]
) -> None:
    """Amounts and list amounts of a day's hours, per group and per cost/token type, equal the 1d rows'."""
    params = {"group_by[]": dims, "limit": 1000}
    hourly = _all_pages(http, COST, {**_window(day, day + dt.timedelta(days=1), "1h"), **params})
    daily = _all_pages(http, COST, {**_window(day, day + dt.timedelta(days=1), "1d"), **params})
    assert daily and all(r["cost"]["currency"] == "USD" for r in hourly)
    by_group = _key_of(dims)
    assert _per_day(hourly, by_group, _cost_metrics) == _per_day(daily, by_group, _cost_metrics)


def test_filters_apply_to_hour_buckets(http: httpx.Client) -> None:
    """A filtered hourly query sums to the same filter's daily rows and holds only matching rows."""
    params = {"group_by[]": ["service_tier", "model"], "service_tiers[]": ["batch"], "limit": 1000}
    day = DAYS[-1]
    hourly = _all_pages(http, USAGE, {**_window(day, day + dt.timedelta(days=1), "1h"), **params})
    daily = _all_pages(http, USAGE, {**_window(day, day + dt.timedelta(days=1), "1d"), **params})
    assert hourly and {r["group"]["service_tier"] for r in hourly} == {"batch"}
    by_group = _key_of(["model"])
    assert _per_day(hourly, by_group, _usage_metrics) == _per_day(daily, by_group, _usage_metrics)


def test_hour_buckets_are_whole_utc_hours_with_data_only(http: httpx.Client) -> None:
    """Rows span one hour (RFC 3339, Z) from starting_at floored to the hour; none all zeros; diurnal."""
    rows = _all_pages(
        http,
        USAGE,
        {
            **_window(dt.datetime(2026, 3, 7, 5, 30, tzinfo=dt.UTC), dt.date(2026, 3, 9), "1h"),
            "group_by[]": list(HOURLY.group_by),
            "limit": 1000,
        },
    )
    starts = [dt.datetime.fromisoformat(r["starting_at"]) for r in rows]
    assert all(r["starting_at"].endswith(":00:00Z") and r["ending_at"].endswith(":00:00Z") for r in rows)
    assert all(
        dt.datetime.fromisoformat(r["ending_at"]) - start == HOUR
        for r, start in zip(rows, starts, strict=True)
    )
    assert min(starts) == dt.datetime(2026, 3, 7, 5, tzinfo=dt.UTC)
    assert max(starts) == dt.datetime(2026, 3, 8, 23, tzinfo=dt.UTC)
    assert all(any(_usage_metrics(r)) for r in rows)
    per_hour: dict[str, int] = defaultdict(int)
    for r in rows:
        per_hour[r["starting_at"][11:13]] += r["usage"]["total_tokens"]
    assert max(per_hour.values()) >= 2 * min(per_hour.values())  # a diurnal profile, not an even split


def test_the_served_hours_equal_the_hourly_truth(http: httpx.Client, fake: FakeOrganization) -> None:
    """Usage and cost at the HOURLY grain, as served, equal truth_hourly_usage and truth_hourly_cost."""
    start, end = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), NOW + 5 * HOUR
    usage = _all_pages(
        http, USAGE, {**_window(start, end, "1h"), "group_by[]": list(HOURLY.group_by), "limit": 97}
    )
    served_usage = {
        (
            dt.datetime.fromisoformat(r["starting_at"]),
            HourlyDimensions(fake.organization.id, *_group(r, list(HOURLY.group_by))),
        ): _usage_metrics(r)[:7]
        for r in usage
    }
    truth_usage = fake.truth_hourly_usage(start, end)
    assert served_usage == {(t.day, t.dims): tuple(t[2:]) for t in truth_usage}
    assert all(isinstance(t.dims, HourlyDimensions) and t.day.tzinfo is not None for t in truth_usage)

    cost = _all_pages(
        http, COST, {**_window(start, end, "1h"), "group_by[]": list(HOURLY.cost_group_by), "limit": 97}
    )
    served_cost = {
        (
            dt.datetime.fromisoformat(r["starting_at"]),
            HourlyDimensions(fake.organization.id, *_group(r, list(HOURLY.group_by))),
            tuple(r["group"][name] for name in HOURLY.cost_breakdown),  # (): whole hours
        ): (*_cost_metrics(r), r["cost"]["requests"])
        for r in cost
    }
    truth_cost = fake.truth_hourly_cost(start, end)
    assert served_cost == {
        (t.day, t.dims, t.breakdown): (t.amount_cents, t.list_amount_cents, t.requests) for t in truth_cost
    }


def test_hourly_truth_sums_to_the_daily_truth(fake: FakeOrganization) -> None:
    """The hourly truth of whole days, summed per day and workspace × model, equals the daily truth's."""
    start, end = dt.date(2026, 6, 1), dt.date(2026, 6, 4)
    hourly = fake.truth_hourly_usage(_midnight(start), _midnight(end))
    hours = {t.day for t in hourly if isinstance(t.day, dt.datetime)}
    assert len(hourly) == sum(isinstance(t.day, dt.datetime) for t in hourly) and len(hours) == 3 * 24
    assert _per_day_and_model(hourly) == _per_day_and_model(fake.truth_usage(start, end))
    assert _per_day_and_model(fake.truth_hourly_cost(_midnight(start), _midnight(end))) == _per_day_and_model(
        fake.truth_cost_by_type(start, end)
    )


def _per_day_and_model(
    records: list[UsageRecord] | list[CostRecord],
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Metrics (usage) or amounts (cost, whatever it is broken out by) summed per UTC day, workspace and model."""
    sums: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for t in records:
        day = t.day.date() if isinstance(t.day, dt.datetime) else t.day
        if isinstance(t, CostRecord):
            key, values = (
                (day, t.dims.workspace_id, t.dims.model),
                (t.amount_cents, t.list_amount_cents),
            )
        else:
            key, values = (day, t.dims.workspace_id, t.dims.model), tuple(t[2:])
        found = sums.get(key)
        sums[key] = values if found is None else tuple(map(add, found, values))
    return sums


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def test_today_has_nothing_after_the_current_hour(http: httpx.Client, fake: FakeOrganization) -> None:
    """Today's hours run up to and including the current one; the hours already served never change."""
    rows = _all_pages(
        http,
        USAGE,
        {**_window(TODAY, TODAY + dt.timedelta(days=1), "1h"), "group_by[]": ["model"], "limit": 1000},
    )
    hours = {dt.datetime.fromisoformat(r["starting_at"]) for r in rows}
    assert hours == {MIDNIGHT + h * HOUR for h in range(10)}  # 00:00 … 09:00, the clock's hour
    assert fake.truth_hourly_usage(NOW + HOUR, MIDNIGHT + 24 * HOUR) == []
    assert sum(map(len, fake.hour_rows(TODAY)[10:])) == 0
    later = FakeOrganization(
        seed=fake.seed, rows_per_day=fake.rows_per_day, today=TODAY + dt.timedelta(days=1)
    )
    whole = later.hour_rows(TODAY)  # the same day once it is over
    assert fake.hour_rows(TODAY)[:10] == whole[:10] and any(whole[10:])
    for metric in range(8, 16):  # … and then its 24 hours add up to its day
        assert sum(r[metric] for hour in whole for r in hour) == sum(r[metric] for r in later.day_rows(TODAY))


@pytest.mark.parametrize(
    ("kind", "order_by", "order"),
    [
        ("usage", "time", "asc"),
        ("usage", "time", "desc"),
        ("usage", "requests", "desc"),
        ("cost", "amount", "asc"),
        ("cost", "time", "desc"),
    ],
)
@pytest.mark.parametrize("limit", [1, 7, 50])
def test_small_pages_return_every_row_once_in_order(
    http: httpx.Client, kind: str, order_by: str, order: str, limit: int
) -> None:
    """Paging with a small limit gives exactly the rows of one large page, in its order, each once."""
    dims = ["model"] if kind == "usage" else ["model", "cost_type"]
    start = (
        dt.datetime(2026, 11, 24, 20, tzinfo=dt.UTC)
        if limit == 1
        else dt.datetime(2026, 11, 24, 4, tzinfo=dt.UTC)
    )
    params = {**_window(start, NOW + HOUR, "1h"), "group_by[]": dims, "order_by": order_by, "order": order}
    whole = _all_pages(http, USAGE if kind == "usage" else COST, {**params, "limit": 1000})
    paged = _all_pages(http, USAGE if kind == "usage" else COST, {**params, "limit": limit})
    assert paged == whole
    keys = [(r["starting_at"], _group(r, dims)) for r in whole]
    assert len(keys) == len(set(keys)) > limit
    metric = (
        (lambda r: r["usage"]["requests"] if order_by == "requests" else r["usage"]["total_tokens"])
        if kind == "usage"
        else (lambda r: Decimal(r["cost"]["amount"]))
    )
    if order_by == "time":  # by bucket in the order asked, then largest first within a bucket
        starts = [r["starting_at"] for r in whole]
        assert starts == sorted(starts, reverse=order == "desc")
        pairs = zip(whole, whole[1:], strict=False)
        assert kind == "cost" or all(
            metric(a) >= metric(b) for a, b in pairs if a["starting_at"] == b["starting_at"]
        )
    elif kind == "usage":  # fanned cost rows are a group's components: only usage rows are monotonic
        values = [metric(r) for r in whole]
        assert values == sorted(values, reverse=order == "desc")


def test_the_sdk_parses_hourly_usage_and_cost(client: anthropic.Anthropic, fake: FakeOrganization) -> None:
    """The SDK's own models parse hour buckets, auto-paginating; the bounds are aware, one hour apart."""
    start, end = dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC), NOW
    usage = list(
        client.beta.organization.analytics.usage.list(
            starting_at=start,
            ending_at=end,
            time_bucket_width="1h",
            limit=40,
            group_by=list(HOURLY.group_by),  # type: ignore[arg-type]
        )
    )
    cost = list(
        client.beta.organization.analytics.cost.list(
            starting_at=start,
            ending_at=end,
            time_bucket_width="1h",
            limit=40,
            group_by=list(HOURLY.cost_group_by),  # type: ignore[arg-type]
        )
    )
    assert usage and all(isinstance(r, BetaAnalyticsUsageItem) for r in usage)
    assert cost and all(isinstance(r, BetaAnalyticsCostItem) for r in cost)
    assert all(
        r.ending_at - r.starting_at == HOUR and r.starting_at.tzinfo is not None for r in (*usage, *cost)
    )
    assert {r.starting_at for r in usage} == {start + h * HOUR for h in range(27)}
    truth = fake.truth_hourly_cost(start, end)
    assert sum(Decimal(r.cost.amount) for r in cost) == sum(t.amount_cents for t in truth)
    # Not broken out by type, a cost row counts its requests (the API cannot split them by type).
    assert sum(r.cost.requests or 0 for r in cost) == sum(t.requests or 0 for t in truth) > 0
    assert sum(r.usage.requests or 0 for r in usage) == sum(
        t.requests or 0 for t in fake.truth_hourly_usage(start, end)
    )


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"starting_at": "2026-03-01T00:00:00Z", "time_bucket_width": "1h"}, "ending_at"),
        ({**_window(dt.date(2026, 3, 1), dt.date(2026, 3, 2), "1m")}, "1m"),
        ({**_window(dt.date(2026, 3, 1), dt.date(2026, 4, 2), "1h")}, "31 days"),
    ],
)
def test_hourly_requests_the_api_refuses_are_400(
    http: httpx.Client, params: dict[str, str], needle: str
) -> None:
    """1h needs ending_at and at most 31 days; 1m is refused with a clear message."""
    response = http.get(USAGE, params=params, headers=BETA)
    assert response.status_code == 400
    assert needle in response.json()["error"]["message"]


def test_faults_apply_to_hourly_requests(http: httpx.Client, fake: FakeOrganization) -> None:
    """Scripted faults hit hourly requests as daily ones: a 429, then a repeated cursor, then the page."""
    params = {**_window(DAYS[-1], TODAY, "1h"), "group_by[]": list(HOURLY.group_by), "limit": 5}
    first = http.get(USAGE, params=params, headers=BETA).json()
    fake.faults.add(USAGE, "rate_limit", times=1)
    fake.faults.add(USAGE, "repeated_cursor", times=1)
    assert http.get(USAGE, params=params, headers=BETA).status_code == 429
    again = http.get(USAGE, params={**params, "page": first["next_page"]}, headers=BETA).json()
    assert again["next_page"] == first["next_page"] and again["has_more"] is True
    assert http.get(USAGE, params=params, headers=BETA).json() == first


def test_revised_and_injected_days_split_consistently() -> None:
    """After revise_days the hours re-split to the revised day; injected anomalies scale the hours too."""
    day = dt.date(2026, 5, 12)
    fake = FakeOrganization(seed=3, rows_per_day=30, today=TODAY, anomalies=(Injection("spike", day, 3),))
    before = fake.hour_rows(day)
    fake.revise_days([day])
    after = fake.hour_rows(day)
    assert after != before
    for metric in range(8, 16):
        assert sum(r[metric] for hour in after for r in hour) == sum(r[metric] for r in fake.day_rows(day))
    assert all(sum(components(r)) == r[15] and any(r[8:15]) for hour in after for r in hour)


def test_the_split_is_the_same_in_another_process() -> None:
    """The hours come from seeds and hashes of content, not Python's per-process hash salt."""
    script = (
        "import datetime as dt, hashlib\n"
        "from usageledger.fake import FakeOrganization\n"
        "f = FakeOrganization(seed=9, rows_per_day=25, today=dt.date(2026, 11, 25))\n"
        "print(hashlib.sha256(repr(f.hour_rows(dt.date(2026, 8, 3))).encode()).hexdigest())\n"
    )
    source = str(Path(usageledger.__file__).parents[1])  # this checkout's code, whatever is installed
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": source}
    other = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    here = FakeOrganization(seed=9, rows_per_day=25, today=TODAY).hour_rows(dt.date(2026, 8, 3))
    assert other.stdout.strip() == hashlib.sha256(repr(here).encode()).hexdigest()
