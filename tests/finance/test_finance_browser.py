"""Closing a month against an entered invoice amount in real headless Chromium: the difference is explained."""

# ruff: noqa: F811  (the browser fixtures are imported and used as arguments)

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.web.test_browser import PASSWORD, SHOTS, page, server_url  # noqa: F401

pytestmark = pytest.mark.browser


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_an_admin_closes_last_month_against_a_lower_invoice(page, accounts, acme_connection, last_month):
    """Enter an invoice $25 below the reported cost, close: the month is closed, -$25.00 shown, credits named."""
    _sign_in(page, accounts["acme_admin"].email)
    page.goto("/finance/months")
    page.click(f'#months-table tr[data-month="{last_month}"] a')
    page.wait_for_url(re.compile(rf".*/finance/months/{last_month}$"))
    card = page.locator("section.org-month").first
    reported = Decimal(card.locator("td.reported").get_attribute("data-usd"))
    invoiced = (reported - 25).quantize(Decimal("0.01"))
    card.locator("input[name=invoiced_usd]").fill(str(invoiced))
    card.locator("button", has_text="Save invoiced amount").click()
    page.wait_for_url(re.compile(rf".*/finance/months/{last_month}$"))
    assert "Invoiced amount saved" in page.inner_text(".flash")
    card = page.locator("section.org-month").first
    card.locator("button", has_text=f"Close {last_month}").click()
    page.wait_for_url(re.compile(rf".*/finance/months/{last_month}$"))
    assert page.inner_text("#month-state") == "closed"
    card = page.locator("section.org-month").first
    gap = (reported - invoiced).quantize(Decimal("0.01"))  # $25, give or take the reported cost's sub-cents
    assert card.locator("td.difference").inner_text() == f"-${gap:,}"
    assert "before credits" in card.locator('li[data-reason="credits"]').inner_text()
    assert card.locator("button", has_text=f"Reopen {last_month}").count() == 1
    page.screenshot(path=str(SHOTS / "finance-month-closed.png"), full_page=True)
