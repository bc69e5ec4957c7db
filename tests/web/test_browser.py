"""The web app in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), served by uvicorn.

Screenshots of the main pages go to test-artifacts/screenshots/ for a reviewer to look at.
"""

from __future__ import annotations

import csv
import io
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from usageledger.fake import FAKE_ADMIN_KEY
from usageledger.reports.usage import UsageQuery, query_usage
from usageledger.store.tables import connections, credentials

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    return None


@pytest.fixture
def server_url(app) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1, a free port, in a thread."""
    problem = _missing_browser()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem + "; browser tests are mandatory in CI")
        pytest.skip(problem)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none",
                            timeout_graceful_shutdown=1)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="usageledger-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def page(server_url):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)  # fmt: skip
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page
        context.close()
        browser.close()
        csp = [e for e in errors if "Content Security Policy" in e or "Refused" in e]
        assert not csp, csp


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_whole_admin_journey(page, app, engine, fake, settings):
    """First run, a bad key then a good one (progress, then rows), filter and group, CSV, sync now, a 429 in the
    event log, disconnect; the key never leaves the server and is gone from the database file."""
    # first run
    page.goto("/")
    assert page.url.endswith("/setup")
    _shot(page, "01-setup")
    page.fill("input[name=workspace]", "Acme Inc.")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_confirm]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/settings/integrations")
    assert page.locator("#provider-anthropic").is_visible()
    _shot(page, "02-integrations-empty")

    # a standard API key: message in place, nothing stored
    page.click("#provider-anthropic a.button")
    page.wait_for_url("**/anthropic/connect")
    _shot(page, "03-connect")
    page.fill("input[name=admin_key]", "sk-ant-api03-test-standard-key-00000000000000000")
    page.click("form.stack button[type=submit]")
    alert = page.locator("#connect-error")
    assert "standard API key" in alert.inner_text()
    assert page.input_value("input[name=admin_key]") == ""
    _shot(page, "04-connect-bad-key")
    with engine.connect() as conn:
        assert conn.execute(select(connections.c.id)).first() is None

    # a good key: the first sync runs with visible progress, then the rows show
    fake.faults.add("/v1/organizations/analytics/usage", "slow", times=3, delay=0.7)
    page.fill("input[name=admin_key]", FAKE_ADMIN_KEY)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/connections/\d+$"))
    detail_url = page.url
    progress = page.locator("#sync-progress")
    if progress.count():
        assert "days" in progress.inner_text() or "Starting" in progress.inner_text()
        _shot(page, "05-detail-syncing")
    page.wait_for_selector("#usage-table", timeout=30_000)
    assert page.locator("#sync-progress").count() == 0
    assert page.locator("svg.chart rect").count() > 10
    _shot(page, "06-detail")

    # filter and group the table
    model = page.locator("#usage-table tbody tr td:nth-child(2) a").first.inner_text()
    page.click("#pick-model summary")  # the model filter is a pick list of the stored models
    page.check(f"#pick-model input[value='{model}']")
    page.check("input[name=group_by][value=workspace]")
    page.select_option("select[name=metric]", "amount_usd")
    page.click("#usage-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*model="))
    models = page.locator("#usage-table tbody tr td:nth-child(3)").all_inner_texts()
    assert models and set(models) == {model}
    assert "Workspace" in page.locator("#usage-table thead").inner_text()
    _shot(page, "07-detail-filtered")

    # the CSV is what is shown: compare it with the reports' JSON for the same query
    with page.expect_download() as download_info:
        page.click("#csv")
    csv_text = Path(download_info.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    connection_id = int(detail_url.rsplit("/", 1)[1])
    with engine.connect() as conn:
        tenant_id = conn.execute(select(connections.c.tenant_id)).scalar_one()
        report = query_usage(
            conn,
            UsageQuery(
                tenant_id=tenant_id,
                connection_id=connection_id,
                group_by=("date", "workspace", "model"),
                filters={"model": [model]},
                with_cost=True,
                order_by="amount_usd",
                descending=True,
                newest_first=True,
            ),
        )  # the page's default order
    expected = [r.as_json(names=True) for r in report.rows]
    assert len(rows) == len(expected) > 0
    for got, want in zip(rows, expected, strict=True):
        for key, value in want.items():
            assert got[key] == ("" if value is None else str(value)), key

    # sync now, with the API answering 429 until the retries run out: the event log says so
    fake.faults.add("/v1/organizations/analytics/usage", "rate_limit", times=10, retry_after=0.01)
    page.goto(detail_url)
    with page.expect_navigation():  # the URL is already detail_url: wait for the POST's own redirect
        page.click("#sync-now")
    page.goto("about:blank")  # leave before the page's progress script reloads it when the sync ends
    app.state.services.syncs.join(30)
    fake.faults.clear()
    page.goto(detail_url + "/events")
    page.select_option("select[name=kind]", "rate_limit")
    page.click("form.row button[type=submit]")
    page.wait_for_url(re.compile(r".*kind=rate_limit"))
    assert page.locator("table.events tbody tr").count() >= 1
    assert "rate_limit" in page.locator("table.events").inner_text()
    details = page.locator("details.event-details").first
    assert not details.locator("dl").is_visible()  # closed until asked for
    details.locator("summary").click()
    assert "retry after seconds" in details.locator("dl").inner_text()
    _shot(page, "08-event-log-rate-limit")
    page.goto(detail_url)
    assert page.locator("#troubleshooting[open]").count() == 1
    _shot(page, "09-detail-troubleshooting")

    # a phone-sized look at the detail page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(detail_url)
    _shot(page, "10-detail-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # disconnect: confirmation, then the key is gone from the database file
    with engine.connect() as conn:
        sealed = conn.execute(select(credentials.c.ciphertext)).scalar_one()
    page.click("#disconnect")
    page.wait_for_url("**/disconnect")
    assert "deleted at once" in page.inner_text("main")
    _shot(page, "11-disconnect-confirm")
    page.click("button.danger")
    page.wait_for_url(detail_url)
    assert "disconnected" in page.inner_text("#state")
    with engine.connect() as conn:
        assert conn.execute(select(credentials.c.id)).first() is None
    files = [settings.home / "usageledger.db", settings.home / "usageledger.db-wal"]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert sealed not in raw and FAKE_ADMIN_KEY.encode() not in raw
    _shot(page, "12-detail-disconnected")


def test_member_sees_a_clear_403(page, app, engine, accounts, acme_connection):
    """A member signs in, reads the detail page without admin buttons, and gets a clear page for admin pages."""
    page.goto("/login")
    page.fill("input[name=email]", accounts["acme_member"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/overview")
    page.goto(f"/settings/integrations/connections/{acme_connection}")
    assert page.locator("#sync-now").count() == 0
    response = page.goto("/settings/integrations/anthropic/connect")
    assert response is not None and response.status == 403
    assert "Only workspace admins" in page.inner_text("main")
    _shot(page, "13-member-403")
