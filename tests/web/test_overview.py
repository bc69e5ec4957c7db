"""The overview page and `GET /api/v1/overview`: same figures, presets, inline range errors, workspace isolation."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest

from usageledger.web.formatting import format_money as money


def _tile(page: str, tile_id: str) -> str:
    match = re.search(rf'<div class="tile" id="{tile_id}">(.*?)</div>', page, re.S)
    assert match, f"no tile {tile_id}"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def _input(page: str, name: str) -> str:
    match = re.search(rf'<input type="text" name="{name}" id="{name}"[^>]* value="([^"]*)"', page)
    assert match, name
    return match.group(1)


def _shown(amount: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(money(Decimal(amount)))))


@pytest.mark.parametrize("role", ["admin", "member"])
def test_home_lands_on_the_overview(request, role, acme_connection):
    """After sign-in `/` leads to the overview, which renders for admins and members alike."""
    client = request.getfixturevalue(role)
    assert client.get("/").headers["location"] == "/overview"
    response = client.get("/overview")
    assert response.status_code == 200
    assert "<h1>Overview</h1>" in response.text and 'id="tiles"' in response.text
    assert 'class="skip-link" href="#main"' in response.text and '<main id="main"' in response.text


def test_anonymous_visitors_sign_in_first(anon, acme_connection):
    """The page sends an anonymous visitor to sign in and back; the API answers 401 in the envelope."""
    response = anon.get("/overview?period=7d")
    assert (
        response.status_code == 303
        and response.headers["location"] == "/login?next=%2Foverview%3Fperiod%3D7d"
    )
    answer = anon.get("/api/v1/overview")
    assert answer.status_code == 401 and answer.json()["error"]["type"] == "unauthorized"


def test_page_figures_equal_the_api_and_the_cost_report(member, acme_connection):
    """Cost, comparison, last month and forecast on the page are the API's; the API's cost is the cost report's total."""
    data = member.get("/api/v1/overview").json()
    page = member.get("/overview").text
    assert Decimal(data["cost_usd"]) > 0
    assert _shown(data["cost_usd"]) in _tile(page, "tile-cost")
    assert _shown(data["list_cost_usd"]) in _tile(page, "tile-cost")
    assert _shown(data["previous_cost_usd"]) in _tile(page, "tile-previous")
    assert _shown(data["last_month"]["cost_usd"]) in _tile(page, "tile-last-month")
    if data["forecast"]["enough_data"]:
        assert Decimal(data["forecast"]["low_usd"]) <= Decimal(data["forecast"]["high_usd"])
    assert data["forecast"]["method"] in html.unescape(_tile(page, "tile-forecast"))
    since, until = data["period"]["since"], data["period"]["until"]
    report = member.get(f"/api/v1/cost?group_by=date&since={since}&until={until}").json()
    assert Decimal(report["totals"]["amount_usd"]) == Decimal(data["cost_usd"])
    models = data["top"]["model"]["rows"]
    assert sum(Decimal(r["share_pct"]) for r in models) == Decimal(100)
    for row in models:
        assert _shown(row["cost_usd"]) in page


def test_daily_series_marks_provisional_days_on_the_page_and_in_the_api(member, settings, acme_connection):
    """Days within the lookback are provisional in the JSON, hatched in the chart and named in the note."""
    data = member.get("/api/v1/overview?period=30d").json()
    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=settings.lookback_days - 1)
    assert data["provisional_from"] == first.isoformat()
    assert {d["date"] for d in data["daily"] if d["provisional"]} == {
        (first + dt.timedelta(days=i)).isoformat() for i in range(settings.lookback_days)
    }
    page = member.get("/overview?period=30d").text
    assert page.count('class="day provisional"') == settings.lookback_days
    assert f"Days from {first.isoformat()} on are <strong>provisional</strong>" in page
    assert '<div class="visually-hidden"><table>' in page and "provisional</td>" in page


@pytest.mark.parametrize(("preset", "days"), [("7d", 7), ("30d", 30), ("last-month", None), ("ytd", None)])
def test_a_preset_changes_the_range(member, acme_connection, preset, days):
    """Each preset shows its own days in the date fields and the heading line, as the API resolves them."""
    data = member.get(f"/api/v1/overview?period={preset}").json()
    page = member.get(
        f"/overview?period={preset}&since=2000-01-01&until=2000-01-02"
    ).text  # a preset ignores days
    assert (_input(page, "since"), _input(page, "until")) == (
        data["period"]["since"],
        data["period"]["until"],
    )
    assert f'<option value="{preset}" selected>' in page
    if days:
        assert len(data["daily"]) == days


def test_a_custom_range_is_taken_from_the_days(member, acme_connection):
    """`custom` with ISO days shows exactly those days."""
    today = dt.datetime.now(dt.UTC).date()
    since = (today - dt.timedelta(days=9)).isoformat()
    data = member.get(f"/api/v1/overview?period=custom&since={since}&until={today}").json()
    assert (data["period"]["since"], data["period"]["until"], len(data["daily"])) == (
        since,
        today.isoformat(),
        10,
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=custom&since=2026-11-20&until=2026-11-01", "swap the two days"),
        ("period=custom&since=2026-13-45&until=2026-11-01", "YYYY-MM-DD"),
        ("period=fortnight", "Unknown period"),
        ("organization=org-not-ours", "choose one from the list"),
    ],
)
def test_a_bad_filter_is_an_inline_message_and_the_filters_stay(member, acme_connection, query, message):
    """Reversed or invalid days, an unknown preset or organization: 400, the message beside the form, the form as typed."""
    response = member.get(f"/overview?{query}")
    assert response.status_code == 400
    page = response.text
    alert = re.search(r'role="alert" id="range-error">([^<]+)<', page)
    assert alert and message in html.unescape(alert.group(1))
    assert 'id="overview-filters"' in page and "<h1>Overview</h1>" in page
    assert "Something went wrong" not in page and "Traceback" not in page and "validation" not in page.lower()
    if "since=" in query:
        typed = dict(part.split("=") for part in query.split("&"))
        assert (_input(page, "since"), _input(page, "until")) == (typed["since"], typed["until"])
        assert '<option value="custom" selected>' in page
    api = member.get(f"/api/v1/overview?{query}")
    assert api.status_code == 400
    assert api.json()["error"]["type"] == "invalid_request" and message in api.json()["error"]["message"]


def test_another_workspace_never_sees_this_ones_spend(outsider, member, acme_connection):
    """Globex, with nothing connected, sees zero and no Acme connection, on the page and in the API."""
    assert Decimal(member.get("/api/v1/overview").json()["cost_usd"]) > 0
    data = outsider.get("/api/v1/overview").json()
    assert Decimal(data["cost_usd"]) == 0 and data["connections"] == [] and data["organizations"] == []
    assert all(not t["rows"] for t in data["top"].values())
    page = outsider.get("/overview").text
    assert "Acme org" not in page and "No organization is connected yet" in page
    theirs = member.get("/api/v1/overview").json()["organizations"][0]["id"]
    assert outsider.get(f"/api/v1/overview?organization={theirs}").status_code == 400


def test_top_rows_link_to_the_detail_view_filtered_to_them(member, acme_connection):
    """A top model links to its connection's detail page, filtered to the model and the period's days."""
    data = member.get("/api/v1/overview").json()
    model = data["top"]["model"]["rows"][0]["key"]
    page = member.get("/overview").text
    link = re.search(
        rf'href="(/settings/integrations/connections/{acme_connection}\?[^"]*model={model}[^"]*)"', page
    )
    assert link, "no link to the detail page filtered to the model"
    detail = member.get(html.unescape(link.group(1)))
    assert detail.status_code == 200 and f'name="model" value="{model}"' in detail.text


def test_connection_cards_show_state_and_freshness(member, acme_connection):
    """Each connection has a card with its state, last successful sync and data-refreshed time, linking to it."""
    page = member.get("/overview").text
    card = re.search(rf'id="connection-{acme_connection}">(.*?)</section>', page, re.S)
    assert card
    text = card.group(1)
    assert f'href="/settings/integrations/connections/{acme_connection}"' in text
    assert "connected" in text and "Last successful sync" in text and "UTC" in text
    assert "Warning" not in text
