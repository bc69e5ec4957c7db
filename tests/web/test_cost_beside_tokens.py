"""Cost beside tokens: the usage API, its CSV and the detail page's table carry each group's cost, its share
of the period, a totals row, newest-first-then-costliest order, and money and counts formatted as such."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from usageledger.web.formatting import (
    event_details,
    format_compact,
    format_count,
    format_money,
    format_share,
)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _usage(anon, token: str, query: str) -> dict:
    response = anon.get(f"/api/v1/usage?{query}&limit=10000", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_each_usage_row_costs_what_the_cost_api_says(anon, tokens, acme_connection):
    """A usage row's amount_usd and list_amount_usd equal /cost's for the same group; totals agree too."""
    token = tokens["acme_member"]
    usage = _usage(anon, token, "group_by=date,model")
    cost = anon.get("/api/v1/cost?group_by=date,model&limit=10000", headers=bearer(token)).json()
    cost_of = {(r["date"], r["model"]): (r["amount_usd"], r["list_amount_usd"]) for r in cost["rows"]}
    assert cost_of and any(model is None for _, model in cost_of)  # server tools: cost without a model
    for row in usage["rows"]:
        expected = cost_of.get((row["date"], row["model"]), ("0.00000000", "0.00000000"))
        assert (row["amount_usd"], row["list_amount_usd"]) == expected
    assert {(r["date"], r["model"]) for r in usage["rows"]} >= set(cost_of)
    assert usage["totals"]["amount_usd"] == cost["totals"]["amount_usd"]


def test_shares_add_up_to_100_percent(anon, tokens, acme_connection):
    """cost_share is a percent string; the rows' shares add up to 100 within their rounding."""
    usage = _usage(anon, tokens["acme_member"], "group_by=model")
    shares = [Decimal(r["cost_share"]) for r in usage["rows"]]
    assert abs(sum(shares) - 100) <= Decimal("0.000001") * len(shares) / 2
    assert usage["totals"]["cost_share"] == "100.000000"


def test_default_order_is_newest_first_then_costliest(anon, tokens, acme_connection):
    """Without `sort`, rows come newest day first and, within a day, highest cost first."""
    rows = _usage(anon, tokens["acme_member"], "group_by=date,model")["rows"]
    days = [r["date"] for r in rows]
    assert days == sorted(days, reverse=True)
    for day in set(days):
        amounts = [Decimal(r["amount_usd"]) for r in rows if r["date"] == day]
        assert amounts == sorted(amounts, reverse=True)
    by_model = _usage(anon, tokens["acme_member"], "group_by=model")["rows"]
    assert [Decimal(r["amount_usd"]) for r in by_model] == sorted(
        (Decimal(r["amount_usd"]) for r in by_model), reverse=True
    )


def test_csv_has_the_cost_columns(admin, acme_connection):
    """The page's CSV carries amount_usd, list_amount_usd and cost_share, as plain decimal numbers."""
    base = f"/settings/integrations/connections/{acme_connection}"
    text = admin.get(f"{base}/usage.csv?group_by=model").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert (
        list(rows[0])[:3] == ["model", "amount_usd", "cost_share"] and list(rows[0])[-1] == "list_amount_usd"
    )
    api = admin.get(f"/api/v1/usage?connection_id={acme_connection}&group_by=model").json()["rows"]
    assert [(r["model"] or "", r["amount_usd"], r["cost_share"]) for r in rows] == [
        (a["model"] or "", a["amount_usd"], a["cost_share"]) for a in api
    ]
    assert sum(Decimal(r["amount_usd"]) for r in rows) > 0


def test_detail_page_shows_money_counts_totals_pagers_and_sort_state(admin, acme_connection):
    """Money as $1,234.56 with the exact amount on hover, a totals row, a pager above and below the table,
    aria-sort on the headers, and model-less rows that say what they are."""
    base = f"/settings/integrations/connections/{acme_connection}"
    page = admin.get(f"{base}?group_by=date,workspace,api_key,model").text
    assert re.search(r'<span class="money" title="\$[\d,]+\.\d+">\$[\d,]+\.\d\d</span>', page)
    assert page.count('class="pager"') == 2 and 'id="totals-row"' in page
    assert re.search(r'<th scope="row">Total \([\d,]+ rows\)</th>', page)
    assert 'aria-sort="descending"><a' in page and page.count('aria-sort="none"') >= 5
    assert re.search(r'title="[^"]*web search and code execution">Server tools \(no model\)</span>', page)
    assert "Newest first, then the highest cost first." in page
    ascending = admin.get(f"{base}?group_by=model&sort=model").text
    assert 'aria-sort="ascending"' in ascending and 'aria-sort="descending"' not in ascending


# --- the formatting filters, on hand-made values -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown", "title"),
    [
        (Decimal("54619.03986927"), "$54,619.04", "$54,619.03986927"),
        ("54619.03986927", "$54,619.04", "$54,619.03986927"),
        (Decimal("-1.25"), "-$1.25", None),
        (Decimal("0.00000002"), "$0.00", "$0.00000002"),
        (Decimal("1234567.10"), "$1,234,567.10", None),
        (0, "$0.00", "$0"),
    ],
)
def test_money_is_dollars_and_cents_with_the_exact_amount_on_hover(value, shown, title):
    """$ and thousands separators, two places (half-even), the exact amount in the title when it differs."""
    html = str(format_money(value))
    assert f">{shown}</span>" in html
    assert (f'title="{title}"' in html) if title else "title=" not in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [(999, "999"), (1000, "1K"), (45_708, "45.7K"), (999_950, "1M"), (127_234_567_890, "127.2B"),
     (3_000_000_000_000, "3T"), (-1500, "-1.5K"), (Decimal(2_500_000), "2.5M")],
)  # fmt: skip
def test_compact_counts_fit_a_tile_with_the_exact_count_on_hover(value, shown):
    """Big counts shrink to K, M, B, T with one decimal; the exact count (with separators) is in the title."""
    html = str(format_compact(value))
    assert f">{shown}</span>" in html
    if shown != str(value):
        assert f'title="{int(value):,}"' in html


def test_counts_and_shares():
    """Counts get separators; shares one decimal and a % sign, the exact share in the title; None is a dash."""
    assert str(format_count(45_708)) == "45,708"
    assert str(format_share(Decimal("12.3456789"))) == '<span class="share" title="12.3456789%">12.3%</span>'
    for render in (format_money, format_compact, format_count, format_share):
        assert "—" in str(render(None))


@pytest.mark.parametrize("render", [format_money, format_compact, format_count, format_share])
def test_no_float_is_ever_formatted(render):
    """A float is refused outright: money and counts here are exact, so a float means a bug upstream."""
    with pytest.raises(TypeError, match="never float"):
        render(0.1)


def test_event_details_read_as_labelled_lines():
    details = {
        "usage_rows": 668892,
        "in_flight": {"max": 8, "peak": 8},
        "waited_for_api_seconds": 7.512,
        "directory": {"read": False, "why": "read 2 hours ago"},
        "endpoints": [{"path": "/v1/x", "status": 404}],
        "empty": {},
        "request_id": None,
    }
    assert event_details(details) == [
        ("usage rows", "668,892"),
        ("in flight · max", "8"),
        ("in flight · peak", "8"),
        ("waited for api seconds", "7.512"),
        ("directory · read", "no"),
        ("directory · why", "read 2 hours ago"),
        ("endpoints", "path: /v1/x, status: 404"),
        ("empty", ""),
        ("request id", "—"),
    ]
    assert event_details(None) == []
