"""The detail page in real headless Chromium: presets, inline range problems, a chart that follows the table,
the phone layout, the skip link; screenshots of the detail and connect pages at 1440x900 and 390x844."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.web.test_browser import PASSWORD, _shot, page, server_url  # noqa: F401 (fixtures)
from usageledger.reports.periods import resolve_period

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _sign_in(page, email: str) -> None:  # noqa: F811
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/overview")


@pytest.fixture
def detail(page, accounts, acme_connection):  # noqa: F811
    """A signed-in admin on the synced connection's detail page, at desktop size."""
    page.set_viewport_size(DESKTOP)
    _sign_in(page, accounts["acme_admin"].email)
    page.goto(f"/settings/integrations/connections/{acme_connection}")
    page.wait_for_selector("#usage-table")
    return page


def _table_days(page) -> set[dt.date]:  # noqa: F811
    cells = page.locator("#usage-table tbody tr td:nth-child(1)").all_inner_texts()
    return {dt.date.fromisoformat(cell.split()[0]) for cell in cells}


def test_a_preset_changes_the_range(detail):
    """Picking "Last 7 days" and Apply shows exactly those days, and fills Since/Until with them."""
    period = resolve_period("7d", None, None, today=dt.datetime.now(dt.UTC).date())
    detail.select_option("#period", "7d")
    detail.click("#usage-filters button[type=submit]")
    detail.wait_for_url(re.compile(r".*period=7d"))
    assert detail.input_value("#since") == period.start.isoformat()
    assert detail.input_value("#until") == period.last_day.isoformat()
    days = _table_days(detail)
    assert days and min(days) >= period.start and max(days) <= period.last_day
    detail.select_option("#period", "all")
    detail.click("#usage-filters button[type=submit]")
    detail.wait_for_url(re.compile(r".*period=all"))
    assert min(_table_days(detail)) < period.start  # every stored day again
    detail.fill("#since", period.start.isoformat())  # typing a day picks the custom range
    assert detail.input_value("#period") == "custom"


def test_a_reversed_range_keeps_the_filters_and_says_so_beside_them(detail):
    """Custom days typed the wrong way round: the page stays, with the days, the chosen model and the grouping,
    and a message beside the dates."""
    model = detail.locator("#usage-table tbody tr td:nth-child(2) a").first.inner_text()
    detail.fill("#since", "2026-11-20")
    detail.fill("#until", "2026-11-10")
    detail.click("#pick-model summary")
    detail.check(f"#pick-model input[value='{model}']")
    detail.check("input[name=group_by][value=workspace]")
    with detail.expect_navigation() as navigation:
        detail.click("#usage-filters button[type=submit]")
    assert navigation.value is not None and navigation.value.status == 400
    message = detail.locator("#range-error")
    assert message.is_visible() and "swap" in message.inner_text()
    assert detail.input_value("#since") == "2026-11-20" and detail.input_value("#until") == "2026-11-10"
    assert detail.is_checked(f"#pick-model input[value='{model}']")
    assert detail.is_checked("input[name=group_by][value=workspace]")
    assert detail.locator("#usage-table").is_visible() and detail.locator("h1").count() == 1
    _shot(detail, "h8-detail-reversed-range")


def _legend(page) -> list[str]:  # noqa: F811
    return page.locator(".chart-legend li").all_inner_texts()


def test_the_chart_series_follow_the_group_by(detail):
    """Grouped by service tier the chart's series are the tiers of the table; by model, the models."""
    detail.uncheck("input[name=group_by][value=model]")
    detail.check("input[name=group_by][value=service_tier]")
    detail.click("#usage-filters button[type=submit]")
    detail.wait_for_url(re.compile(r".*group_by=service_tier"))
    tiers = {t or "(none)" for t in detail.locator("#usage-table tbody tr td:nth-child(2)").all_inner_texts()}
    tiers = {"(none)" if t == "—" else t for t in tiers}
    series = [s for s in _legend(detail) if not s.startswith("Provisional")]
    assert set(series) == tiers and len(series) == len(tiers)
    assert "by service tier" in (detail.locator("svg.chart-wide").get_attribute("aria-label") or "")
    detail.uncheck("input[name=group_by][value=service_tier]")
    detail.check("input[name=group_by][value=model]")
    detail.click("#usage-filters button[type=submit]")
    detail.wait_for_url(re.compile(r".*group_by=model(&|$|#)"))
    models = [s for s in _legend(detail) if not s.startswith("Provisional")]
    assert "Server tools (no model)" in models or any(m.startswith("claude-") for m in models)
    assert set(models) & {"priority", "standard", "batch"} == set()
    hidden = detail.locator(".visually-hidden:has(#chart-table)").bounding_box()  # read aloud, 1px on screen
    assert hidden is not None and hidden["width"] <= 1 and hidden["height"] <= 1
    assert detail.locator("#chart-table thead th").count() == len(models) + 3


def test_desktop_and_phone_screens(detail, acme_connection):
    """At 1440x900 the spend, the state, the events and the start of the usage fit the first screen; at 390x844
    the filters are one line, the phone chart shows, and the rest of the filters open on demand."""
    assert detail.locator("#summary").bounding_box()["y"] < 300
    usage = detail.locator("#usage").bounding_box()
    assert usage["y"] < DESKTOP["height"], "the usage section starts on the first screen"
    detail.screenshot(path=str(_path("h8-detail-desktop-first-screen")))
    _shot(detail, "h8-detail-desktop")
    detail.locator("#usage-chart").screenshot(path=str(_path("h8-detail-desktop-chart")))
    detail.goto("/settings/integrations/anthropic/connect")
    _shot(detail, "h8-connect-desktop")

    detail.set_viewport_size(PHONE)
    detail.goto(f"/settings/integrations/connections/{acme_connection}")
    line = [
        detail.locator(s).bounding_box() for s in ("#period", ".more-toggle", "#usage-filters button.primary")
    ]
    assert all(box is not None for box in line)
    assert max(b["y"] for b in line) - min(b["y"] for b in line) < 12, line  # one line
    assert all(b["x"] + b["width"] <= PHONE["width"] for b in line)
    assert not detail.locator(".more-filters").is_visible()
    assert (
        detail.locator("svg.chart-narrow").is_visible() and not detail.locator("svg.chart-wide").is_visible()
    )
    assert detail.locator("svg.chart-narrow").bounding_box()["height"] > 250  # usable height
    width = detail.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width}px)"
    detail.screenshot(path=str(_path("h8-detail-phone-first-screen")))
    _shot(detail, "h8-detail-phone")
    detail.locator("#usage").screenshot(path=str(_path("h8-detail-phone-usage")))
    detail.check("#more-filters")
    assert detail.locator(".more-filters").is_visible()
    detail.select_option("#period", "custom")
    assert detail.locator("#since").is_visible()
    _shot(detail, "h8-detail-phone-filters-open")
    detail.goto("/settings/integrations/anthropic/connect")
    _shot(detail, "h8-connect-phone")


def test_the_skip_link_is_the_first_stop_and_visible(detail):
    """Tab from the top reaches "Skip to content" first, shown with a focus ring; it leads to the main content."""
    detail.goto(detail.url)
    detail.keyboard.press("Tab")
    focused = detail.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    box = detail.locator(".skip-link").bounding_box()
    assert box is not None and box["x"] >= 0
    outline = detail.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    detail.keyboard.press("Enter")
    assert detail.url.endswith("#main")


def _path(name: str):
    from tests.web.test_browser import SHOTS

    return SHOTS / f"{name}.png"
