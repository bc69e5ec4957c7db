"""In headless Chromium: an admin creates a budget, sees it on the overview with actual and forecast, and its
alert on the Alerts page; screenshots to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.web.test_browser import PASSWORD, SHOTS, page, server_url  # noqa: F401  (fixtures)
from usageledger.web.formatting import format_money as money

pytestmark = pytest.mark.browser


def _shown(amount: str) -> str:
    return re.sub(r"<[^>]+>", "", str(money(Decimal(amount))))


def test_create_a_budget_see_it_on_the_overview_and_its_alert(page, accounts, acme_connection):  # noqa: F811
    """The form adds the budget; the overview's card shows the API's actual and forecast; Alerts lists the crossing."""
    page.goto("/login")
    page.fill("input[name=email]", accounts["acme_admin"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    org = page.request.get("/api/v1/overview").json()["organizations"][0]["id"]
    page.click("nav >> text=Budgets")
    page.wait_for_url("**/budgets")
    assert page.locator("#spend-limits tr.spend-limit").count() == 4
    page.select_option("#budget-subject-type", "organization")
    page.fill("#budget-subject-id", org)
    page.fill("#budget-amount", "250")
    page.fill("#budget-thresholds", "1,50,80,100")
    page.click("#new-budget button[type=submit]")
    page.wait_for_url("**/budgets")
    assert "new alert(s)" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "budgets-desktop.png"), full_page=True)

    budget = page.request.get("/api/v1/budgets").json()["budgets"][0]
    page.goto("/overview")
    card = page.locator("#budget-card")
    assert card.is_visible()
    row = card.locator(f"#budget-{budget['id']}")
    assert _shown(budget["actual_usd"]) in row.locator(".budget-actual").inner_text()
    forecast = row.locator(".budget-forecast").inner_text()
    assert budget["forecast"]["enough_data"] and _shown(budget["forecast"]["low_usd"]) in forecast
    assert _shown(budget["forecast"]["high_usd"]) in forecast
    page.screenshot(path=str(SHOTS / "overview-budget-card.png"), full_page=True)

    card.locator("a[href='/budgets']").click()
    page.wait_for_url("**/budgets")
    page.goto("/alerts")
    rows = page.locator("#alerts tr.alert-row")
    assert rows.count() >= 1
    assert "1 % of its 250.00 USD budget" in page.inner_text("#alerts")
    page.screenshot(path=str(SHOTS / "alerts-desktop.png"), full_page=True)


def test_the_budgets_and_alerts_pages_fit_a_phone(page, accounts, acme_connection):  # noqa: F811
    """At 390 px nothing overflows the screen sideways: wide tables scroll inside their own box."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/login")
    page.fill("input[name=email]", accounts["acme_admin"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    org = page.request.get("/api/v1/overview").json()["organizations"][0]["id"]
    page.request.post("/api/v1/budgets", data={"subject_type": "organization", "subject_id": org, "amount_usd": "100"},
                      headers={"x-csrf-token": _csrf(page)})  # fmt: skip
    for path in ("/budgets", "/alerts", "/overview"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    page.goto("/budgets")
    assert page.locator("#budgets tr[data-budget-id]").count() == 1
    page.screenshot(path=str(SHOTS / "budgets-phone.png"), full_page=True)


def _csrf(page) -> str:  # noqa: F811
    return page.get_attribute("input[name=csrf_token]", "value") or ""
