"""The Notifications page in headless Chromium: add a Slack destination, send a test, delete it."""

# ruff: noqa: F811  (fixtures are imported and used as arguments)

from __future__ import annotations

import pytest

from tests.web.conftest import _clean_fake, accounts, app, engine, fake, running_fake, settings  # noqa: F401
from tests.web.test_browser import PASSWORD, _shot, page, server_url  # noqa: F401

pytestmark = pytest.mark.browser
SECRET_PATH = "/services/T7/B7/browser-slack-secret-path"


def test_an_admin_adds_tests_and_deletes_a_slack_destination(page, accounts, receiver):
    """From the nav link to a delivered test; the URL never shows again, and the row goes on delete."""
    page.goto("/login")
    page.fill("input[name=email]", accounts["acme_admin"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/overview")
    page.click("nav >> text=Notifications")
    page.wait_for_url("**/settings/destinations")
    page.select_option("select[name=kind]", "slack")
    page.fill("input[name=name]", "#finops")
    page.fill("input[name=secret]", receiver.url + SECRET_PATH)
    page.click("text=Add destination")
    page.wait_for_url("**/settings/destinations")
    assert "Destination “#finops” added" in page.locator(".flash").inner_text()
    assert "http://127.0.0.1/…" in page.locator("table").first.inner_text()
    page.click("text=Send test")
    page.wait_for_url("**/settings/destinations")
    assert "Test delivered to “#finops”" in page.locator(".flash").inner_text()
    assert receiver.received and receiver.received[0].path == SECRET_PATH
    _shot(page, "notifications-destinations")
    assert "browser-slack-secret-path" not in page.content()
    page.click("button:has-text('Delete')")
    page.wait_for_url("**/settings/destinations")
    assert "No destinations yet" in page.content()
