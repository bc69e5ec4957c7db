"""Today so far by hour: the overview's card and `GET /api/v1/overview/today`, from the synced hourly rows."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import ROUND_HALF_EVEN, Decimal

from usageledger.web.formatting import format_money


def _midnight() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def test_the_api_and_the_card_show_todays_hours_of_the_truth(member, fake, acme_connection):
    data = member.get("/api/v1/overview/today").json()
    midnight = _midnight()
    assert data["date"] == midnight.date().isoformat() and data["has_hourly_data"]
    assert data["hours"][0]["hour"] == midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
    truth = sum(
        (r.amount_cents.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
         for r in fake.truth_hourly_cost(midnight, midnight + dt.timedelta(days=1))),
        Decimal(0),
    ).scaleb(-2)  # fmt: skip
    assert Decimal(data["total_usd"]) == truth == sum(Decimal(h["cost_usd"]) for h in data["hours"])
    assert all(h["yesterday_cost_usd"] is not None for h in data["hours"])  # yesterday is kept by hour

    page = member.get("/overview").text
    card = re.search(r'<section class="card" id="today-by-hour">(.*?)</section>', page, re.S)
    assert card, "no Today by hour card"
    shown = html.unescape(re.sub(r"<[^>]+>", "", str(format_money(truth))))
    assert shown in html.unescape(re.sub(r"<[^>]+>", "", card.group(1)))
    assert "Yesterday, same hour" in card.group(1)


def test_an_unknown_organization_is_a_400_and_another_tenant_sees_none(member, outsider, acme_connection):
    answer = member.get("/api/v1/overview/today?organization=org-nobody")
    assert answer.status_code == 400 and "Unknown organization" in answer.json()["error"]["message"]
    theirs = outsider.get("/api/v1/overview/today").json()
    assert not theirs["has_hourly_data"] and theirs["total_usd"] == "0.00000000"


def test_no_hours_yet_says_so(member, accounts):
    page = member.get("/overview").text
    assert 'id="no-hourly"' in page and "the next sync fetches today by hour" in page
