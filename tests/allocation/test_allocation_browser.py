"""Assigning an owner from the Unallocated page in real headless Chromium: the row leaves Unallocated."""

# ruff: noqa: F811  (the web and browser fixtures are imported and used as arguments)

from __future__ import annotations

import re

import pytest
from identity_helpers import add_person, add_team

from tests.web.conftest import (  # noqa: F401
    _clean_fake,
    accounts,
    acme_connection,
    app,
    engine,
    fake,
    running_fake,
    settings,
)
from tests.web.test_browser import PASSWORD, SHOTS, page, server_url  # noqa: F401

pytestmark = pytest.mark.browser


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_an_admin_assigns_an_owner_from_the_unallocated_page(page, engine, accounts, acme_connection, fake):
    """Pick a team in the first row's picker, Assign: the row is gone, a message says so, the total is kept."""
    with engine.begin() as conn:
        tenant = accounts["acme_admin"].tenant_id
        add_team(conn, tenant, "Platform", "CC-9")
        add_person(conn, tenant, fake.users[0]["email"], "First User")
    _sign_in(page, accounts["acme_admin"].email)
    before = page.request.get("/api/v1/allocation?by=team&period=30d").json()
    page.goto("/allocation/unallocated?period=30d")
    first = page.locator("#fix-table tbody tr").first
    subject = first.get_attribute("data-subject")
    assert subject
    rows_before = page.locator("#fix-table tbody tr").count()
    page.screenshot(path=str(SHOTS / "allocation-unallocated.png"), full_page=True)
    first.locator("select[name=owner]").select_option(label="Platform")
    first.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/allocation/unallocated\?period=30d$"))
    assert "Owner set for" in page.inner_text(".flash")
    assert page.locator(f'#fix-table tbody tr[data-subject="{subject}"]').count() == 0
    assert page.locator("#fix-table tbody tr").count() == rows_before - 1
    after = page.request.get("/api/v1/allocation?by=team&period=30d").json()
    assert after["total_usd"] == before["total_usd"] and after["balanced"]
    platform = [r for r in after["rows"] if r["label"] == "Platform"]
    assert platform and platform[0]["amount_usd"] != "0.00"

    page.goto("/allocation?by=team&period=30d")
    assert page.locator("#allocation-table tbody tr", has_text="Platform").count() == 1
    page.screenshot(path=str(SHOTS / "allocation-by-team.png"), full_page=True)


def test_a_member_sees_unallocated_read_only(page, accounts, acme_connection):
    _sign_in(page, accounts["acme_member"].email)
    page.goto("/allocation/unallocated?period=30d")
    assert page.locator("#fix-table tbody tr").count() > 0
    assert page.locator("form.assign-owner").count() == 0
    assert "Only admins assign owners" in page.inner_text("#unallocated")
