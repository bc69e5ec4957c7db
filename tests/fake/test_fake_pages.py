"""Analytics pages do not depend on what the fake's caches hold: per-day groups, sorted days, results."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import Any

import pytest
from starlette.testclient import TestClient

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, analytics, catalog, generator
from usageledger.fake.params import QueryParams

TODAY = dt.date(2026, 4, 20)
HEADERS = {"x-api-key": FAKE_ADMIN_KEY, "anthropic-beta": catalog.ANALYTICS_BETA}
FIVE = ("workspace_id", "api_key_id", "model", "service_tier", "context_window")
MONTH = [("starting_at", "2026-02-10T00:00:00Z"), ("ending_at", "2026-03-13T00:00:00Z")]
RAGGED = [("starting_at", "2026-03-30T05:00:00Z"), ("ending_at", "2026-04-19T17:30:00Z")]

Params = list[tuple[str, str]]


def _query(window: Params, *, width: str | None = "1d", dims: tuple[str, ...] = FIVE, **extra: str) -> Params:
    params = [*window, *([("time_bucket_width", width)] if width else [])]
    return params + [("group_by[]", d) for d in dims] + list(extra.items())


QUERIES: list[tuple[str, Params]] = [
    ("usage", _query(MONTH, order_by="time", order="asc")),
    ("cost", _query(MONTH, order_by="time", order="asc")),
    ("usage", _query(MONTH, order_by="time", order="desc")),
    ("usage", _query(MONTH, width=None, dims=())),
    ("cost", _query(MONTH, width=None, dims=())),
    ("usage", _query(RAGGED, width=None, dims=("model", "api_key_id"), order_by="output_tokens")),
    ("usage", _query(RAGGED, dims=("speed", "api_key_id"), order_by="requests", order="asc")),
    ("cost", _query(RAGGED, dims=("cost_type", "token_type", "model"), order_by="time")),
    ("cost", _query(RAGGED, width=None, dims=("token_type", "workspace_id"), order="asc")),
    (
        "usage",
        [
            *_query(RAGGED, dims=("inference_geo",)),
            ("inference_geos[]", "not_available"),
            ("inference_geos[]", "us"),
        ],
    ),
    (
        "cost",
        [*_query(MONTH, order_by="amount"), ("service_tiers[]", "batch"), ("service_tiers[]", "priority")],
    ),
]


def _reference_aggregate(fake: FakeOrganization, q: analytics.AnalyticsQuery) -> list[tuple[Any, ...]]:
    """The plain way: every row of the range into one dict, then one sort by the whole key."""
    idx = [catalog.DIM_INDEX[d] for d in q.dims]
    fan = q.kind == "cost" and (q.fan_cost_type or q.fan_token_type)
    acc: dict[tuple[Any, ...], list[int]] = {}
    for day in analytics._days(q.start, q.end):
        for row in fake.day_rows(day):
            if all(row[i] in allowed for i, allowed in q.filters):
                values = list(row[8:16]) + (analytics.components(row) if fan else [])
                key = (day if q.bucketed else None, tuple(row[i] for i in idx))
                found = acc.get(key)
                acc[key] = values if found is None else [a + b for a, b in zip(found, values, strict=True)]
    metric: Callable[[list[int]], int] = (
        itemgetter(7)
        if q.kind == "cost"
        else {
            "requests": itemgetter(5),
            "output_tokens": itemgetter(1),
            "uncached_input_tokens": itemgetter(0),
        }.get(q.order_by, lambda m: sum(m[:5]))
    )
    sign = -1 if q.descending else 1

    def sort_key(entry: tuple[Any, ...]) -> tuple[Any, ...]:
        day, key, m = entry
        names = tuple("" if v is None else v for v in key)
        if q.bucketed and q.order_by == "time":
            return (sign * day.toordinal(), -metric(m), names)
        return (sign * metric(m), day.toordinal() if day else 0, names)

    return sorted(((k[0], k[1], tuple(v)) for k, v in acc.items()), key=sort_key)


def _fresh() -> FakeOrganization:
    fake = FakeOrganization(seed=11, rows_per_day=60, today=TODAY)
    fake.revise_days([dt.date(2026, 2, 14)])
    return fake


def _pages(client: TestClient, kind: str, params: Params, limit: int) -> Iterator[bytes]:
    page = None
    while True:
        sent = [*params, ("limit", str(limit)), *([("page", page)] if page else [])]
        response = client.get(f"/v1/organizations/analytics/{kind}", params=sent, headers=HEADERS)
        assert response.status_code == 200, response.text
        yield response.content
        body = response.json()
        if not body["has_more"]:
            return
        page = body["next_page"]


@pytest.mark.parametrize(("kind", "params"), QUERIES)
def test_aggregate_matches_one_sort_over_all_rows(kind: str, params: Params) -> None:
    """Per-day groups, shared and sorted piecewise, give exactly the entries of the plain aggregation."""
    fake = _fresh()
    q = analytics.parse_query(kind, QueryParams(params), [catalog.ANALYTICS_BETA], fake)
    expected = _reference_aggregate(fake, q)
    assert expected, "the query should match some rows"
    assert analytics.aggregate(fake, q, analytics.ResultCache()) == expected


def test_pages_are_the_same_bytes_however_warm_the_caches() -> None:
    """Each query's pages are byte-identical served cold, after every other query, and served again."""
    cold: dict[int, list[bytes]] = {}
    for n, (kind, params) in enumerate(QUERIES):
        with TestClient(_fresh().app) as client:
            cold[n] = list(_pages(client, kind, params, limit=37))
    with TestClient(_fresh().app) as client:
        for n, (kind, params) in reversed(list(enumerate(QUERIES))):
            assert list(_pages(client, kind, params, limit=37)) == cold[n], QUERIES[n]
        for n, (kind, params) in enumerate(QUERIES):
            assert list(_pages(client, kind, params, limit=37)) == cold[n], QUERIES[n]


DAY = [("starting_at", "2026-03-01T00:00:00Z"), ("ending_at", "2026-03-02T00:00:00Z")]


@pytest.mark.parametrize(("window", "limit"), [(MONTH, 1), (MONTH, 2), (DAY, 1000)])
def test_rendered_rows_splice_into_valid_json(window: Params, limit: int) -> None:
    """A page of one row, of several, of all and of none is the JSON of {data, has_more, next_page, ...}."""
    with TestClient(_fresh().app) as client:
        body = next(_pages(client, "usage", _query(window), limit))
        empty = next(_pages(client, "usage", [*_query(window), ("models[]", "no-such-model")], limit))
    page, nothing = json.loads(body), json.loads(empty)
    assert list(page) == ["data", "has_more", "next_page", "data_refreshed_at"]
    assert len(page["data"]) == (limit if page["has_more"] else len(page["data"])) > 0
    assert page["has_more"] == (window is MONTH)
    assert body.startswith(b'{"data":[{"starting_at":"2026-') and b'}],"has_more":' in body
    assert nothing["data"] == [] and empty.startswith(b'{"data":[],"has_more":false,"next_page":null,')


@pytest.mark.parametrize(
    "units", [0, 1, 9, 10, 11_111_111, 100_000_000, 100_000_001, 250_000_000, 987_654_321_012]
)
def test_amount_texts_match_decimal_formatting(units: int) -> None:
    """The fast amount strings of cost rows equal the Decimal formatting they stand for."""
    assert generator.list_amount_text(units) == generator.format_cents(generator.list_amount_cents(units))
    assert generator.amount_text(units) == generator.format_cents(generator.amount_cents(units))
