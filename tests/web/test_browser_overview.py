"""The overview in real headless Chromium at desktop and phone sizes; screenshots to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.web.test_browser import PASSWORD, SHOTS, page, server_url  # noqa: F401  (fixtures)
from usageledger.web.formatting import format_money as money

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _sign_in(page, email: str) -> None:  # noqa: F811
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _shown(amount: str) -> str:
    return re.sub(r"<[^>]+>", "", str(money(Decimal(amount))))


def test_overview_at_desktop_size(page, accounts, acme_connection):  # noqa: F811
    """The figures equal the API's; a preset changes the range; a reversed range keeps the filters with a message."""
    page.set_viewport_size(DESKTOP)
    _sign_in(page, accounts["acme_member"].email)
    page.goto("/")
    page.wait_for_url("**/overview")
    data = page.request.get("/api/v1/overview").json()
    assert _shown(data["cost_usd"]) in page.inner_text("#tile-cost .value")
    assert _shown(data["previous_cost_usd"]) in page.inner_text("#tile-previous .value")
    assert _shown(data["last_month"]["cost_usd"]) in page.inner_text("#tile-last-month .value")
    assert page.input_value("#since") == data["period"]["since"]
    assert page.locator("#daily svg.cost-chart g.day").count() == len(data["daily"])
    assert page.locator("#daily svg.cost-chart g.day.provisional").count() == sum(
        d["provisional"] for d in data["daily"]
    )
    page.screenshot(path=str(SHOTS / "overview-desktop.png"), full_page=True)

    # the exact amount is on hover, and keyboard users get a skip link with a visible focus ring
    assert page.get_attribute("#tile-cost .value span", "title") in (None, f"${Decimal(data['cost_usd']):,f}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

    # a preset changes the range
    page.select_option("#period", "7d")
    page.click("#overview-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*period=7d"))
    seven = page.request.get("/api/v1/overview?period=7d").json()
    assert page.input_value("#since") == seven["period"]["since"]
    assert page.locator("#daily svg.cost-chart g.day").count() == 7

    # a reversed range: the message sits beside the filters, which keep what was typed
    page.select_option("#period", "custom")
    page.fill("#since", "2026-11-20")
    page.fill("#until", "2026-11-01")
    with page.expect_response(re.compile(r".*/overview\?.*")) as answer:
        page.click("#overview-filters button[type=submit]")
    assert answer.value.status == 400
    assert "swap the two days" in page.inner_text("#range-error")
    assert (page.input_value("#since"), page.input_value("#until")) == ("2026-11-20", "2026-11-01")
    assert page.locator("#overview-filters #range-error").is_visible()
    page.screenshot(path=str(SHOTS / "overview-desktop-reversed-range.png"), full_page=True)


def test_overview_at_phone_size(page, accounts, acme_connection):  # noqa: F811
    """On a phone the filters are one line, nothing overflows the screen sideways, and custom days appear on demand."""
    page.set_viewport_size(PHONE)
    _sign_in(page, accounts["acme_member"].email)
    page.goto("/overview")
    tops = [
        page.locator(sel).bounding_box()["y"]
        for sel in ("#period", "#organization", "#overview-filters button")
    ]
    assert max(tops) - min(tops) < 12, tops
    assert not page.locator("#since").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SHOTS / "overview-phone.png"), full_page=True)
    page.select_option("#period", "custom")
    assert page.locator("#since").is_visible() and page.locator("#until").is_visible()
