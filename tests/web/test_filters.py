"""The detail page's filters and chart: named periods, inline problems, pick lists, series that follow the table.

The connection here holds 70 days, so this month, last month and the same days of last month all have usage.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import Engine, select, union, update

from usageledger.config import Settings
from usageledger.reports.choices import stored_values
from usageledger.reports.periods import (
    PERIOD_PRESETS,
    comparable_previous,
    first_provisional_day,
    resolve_period,
)
from usageledger.reports.series import (
    MAX_SERIES,
    ChartData,
    ChartSeries,
    plan_bucket,
    query_series,
)
from usageledger.reports.usage import UsageQuery, query_cost, query_usage
from usageledger.store.tables import MONTHLY_ROLLUPS, cost_rollups, cost_rows, usage_rollups, usage_rows
from usageledger.web.charts import SERIES_PALETTE, plan_colours, series_colour

BACKFILL_DAYS = 70
FILTERS = ("organization", "workspace", "api_key", "model", "service_tier", "context_window")
ERROR_PAGE = '<main id="main" class="narrow">'  # error.html's main; the detail page never renders it


@pytest.fixture
def settings(tmp_path, secret_key: str, running_fake) -> Settings:
    return Settings(home=tmp_path, secret_key=secret_key, anthropic_base_url=running_fake.url,
                    backfill_days=BACKFILL_DAYS, max_retries=1, lookback_days=3)  # fmt: skip


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class _Page(HTMLParser):
    """What the tests read from a page: every element's attributes, and the chart's hidden table as rows."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.chart_rows: list[list[str]] = []
        self._in_chart_table = False
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag == "table" and attributes.get("id") == "chart-table":
            self._in_chart_table = True
        elif self._in_chart_table and tag == "tr":
            self.chart_rows.append([])
        elif self._in_chart_table and tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_chart_table = False
        elif self._in_chart_table and tag in ("th", "td") and self._cell is not None:
            self.chart_rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def value_of(self, element_id: str) -> str:
        return next(a.get("value", "") for t, a in self.elements if a.get("id") == element_id)

    def checked(self, name: str) -> set[str]:
        return {
            a["value"] for t, a in self.elements if t == "input" and a.get("name") == name and "checked" in a
        }

    def choices(self, name: str) -> set[str]:
        return {a["value"] for t, a in self.elements if t == "input" and a.get("name") == name}

    def selected(self, select_id: str) -> str:
        inside, found = False, ""
        for tag, attrs in self.elements:
            if tag == "select":
                inside = attrs.get("id") == select_id
            elif inside and tag == "option" and "selected" in attrs:
                found = attrs["value"]
        return found


def _detail(client, cid: int, query: str = "") -> tuple[int, _Page, str]:
    response = client.get(f"/settings/integrations/connections/{cid}?{query}")
    return response.status_code, _Page(response.text), response.text


def _table_days(text: str) -> set[dt.date]:
    return {dt.date.fromisoformat(d) for d in re.findall(r"<tr>\s*<td>(\d{4}-\d{2}-\d{2})", text)}


@pytest.mark.parametrize("preset", list(PERIOD_PRESETS))
def test_a_preset_sets_the_days_of_the_table(admin, acme_connection, preset):
    """Each named period fills Since/Until with its days and the table holds only those days."""
    period = resolve_period(preset, None, None, today=_today())
    status, page, text = _detail(admin, acme_connection, f"period={preset}&group_by=date")
    assert status == 200 and page.selected("period") == preset
    assert page.value_of("since") == period.start.isoformat()
    assert page.value_of("until") == period.last_day.isoformat()
    days = _table_days(text)
    assert days and all(period.start <= d <= period.last_day for d in days)
    assert f"usage.csv?period={preset}" in text  # the CSV keeps the named period


def test_a_reversed_range_keeps_the_filters_and_explains_inline(admin, acme_connection):
    """A reversed range is a message beside the dates (400); the page, the typed days and every filter stay."""
    query = "period=custom&since=2026-11-20&until=2026-11-10&model=claude-sonnet-4-5&group_by=date,workspace&sort=requests"
    status, page, text = _detail(admin, acme_connection, query)
    assert status == 400 and ERROR_PAGE not in text
    message = re.search(r'id="range-error">([^<]+)<', text)
    assert message and "swap" in message.group(1) and "2026-11-20" in message.group(1)
    assert page.value_of("since") == "2026-11-20" and page.value_of("until") == "2026-11-10"
    assert page.selected("period") == "custom"
    assert page.checked("model") == {"claude-sonnet-4-5"}
    assert page.checked("group_by") == {"date", "workspace"}
    assert 'id="usage-table"' in text and 'aria-invalid="true"' in text


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("period=custom&since=2026-13-45", "range-error", "'2026-13-45' is not a day"),
        ("since=yesterday", "range-error", "YYYY-MM-DD"),
        ("period=fortnight", "range-error", "Unknown period 'fortnight'"),
        ("group_by=date,colour", "group-error", "colour"),
        ("sort=nonsense", "sort-error", "'nonsense'"),
    ],
)
def test_bad_input_is_explained_beside_its_field(admin, acme_connection, query, field, words):
    """Bad days, an unknown period, group or sort: a plain message beside the field, never the error page
    or a raw validation message."""
    status, _, text = _detail(admin, acme_connection, query)
    assert status == 400 and ERROR_PAGE not in text
    message = re.search(rf'id="{field}">([^<]+)<', text)
    assert message and words in unescape(message.group(1))
    assert "Input should be" not in text and "Invalid request" not in text
    assert 'id="usage-table"' in text


def test_the_api_takes_a_period_and_refuses_bad_ranges_with_the_envelope(admin, acme_connection):
    """/api/v1/usage: period=7d equals its days; a reversed range, an unknown period, or a period with days is a
    400 envelope."""
    period = resolve_period("7d", None, None, today=_today())
    named = admin.get("/api/v1/usage?period=7d&group_by=date,model").json()
    days = admin.get(f"/api/v1/usage?since={period.start}&until={period.last_day}&group_by=date,model").json()
    assert named["rows"] == days["rows"] and named["total_rows"] > 0
    for query in ("since=2026-05-02&until=2026-05-01", "period=fortnight", "period=7d&since=2026-05-01"):
        response = admin.get(f"/api/v1/usage?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["type"] == "invalid_request"


def _stored(engine: Engine, connection_id: int, column: str) -> set[str]:
    """Read from the base rows, not the rollups the pick lists read: two roads to the same values."""
    query = union(
        select(usage_rows.c[column]).where(usage_rows.c.connection_id == connection_id),
        select(cost_rows.c[column]).where(cost_rows.c.connection_id == connection_id),
    )
    with engine.connect() as conn:
        return {value for (value,) in conn.execute(query)} - {""}


def test_pick_lists_hold_exactly_the_stored_values_of_this_workspace(admin, outsider, engine, acme_connection,
                                                                     globex_connection):  # fmt: skip
    """Each filter lists exactly the values stored for this connection (names beside ids); another workspace's
    values never show."""
    with engine.begin() as conn:  # Globex's data uses a model nobody else has
        monthly = [t for tables in MONTHLY_ROLLUPS.values() for t in tables.values()]
        for table in (usage_rows, cost_rows, *usage_rollups.values(), *cost_rollups.values(), *monthly):
            if "model" not in table.c:  # the per-key rollup has no model
                continue
            conn.execute(update(table).where(table.c.connection_id == globex_connection,
                                             table.c.model == "claude-sonnet-4-5").values(model="globex-only-model"))  # fmt: skip
    _, page, text = _detail(admin, acme_connection)
    columns = {"organization": "organization_id", "workspace": "workspace_id", "api_key": "api_key_id",
               "model": "model", "service_tier": "service_tier", "context_window": "context_window"}  # fmt: skip
    for field in FILTERS:
        assert page.choices(field) == _stored(engine, acme_connection, columns[field]), field
    assert "globex-only-model" not in text and "claude-sonnet-4-5" in page.choices("model")
    _, theirs, _ = _detail(outsider, globex_connection)
    assert "globex-only-model" in theirs.choices("model") and "claude-sonnet-4-5" not in theirs.choices(
        "model"
    )
    workspace_labels = re.findall(r'name="workspace" value="([^"]+)"[^>]*> ([^<]+) <span class="id">', text)
    assert workspace_labels and all(label.strip() != value for value, label in workspace_labels)


def _legend(text: str) -> dict[str, str]:
    """The chart's legend: series label → its colour."""
    found = re.findall(
        r'<li><svg class="swatch"[^>]*><rect [^>]*fill="(#[0-9a-f]{6})"/></svg>([^<]+)</li>', text
    )
    return {unescape(label): colour for colour, label in found}


def test_the_chart_follows_the_group_by(admin, engine, accounts, acme_connection):
    """The chart's series are the table's groups (top ones, then Other), per day, and they add up to the table."""
    tenant = accounts["acme_admin"].tenant_id
    for group_by, field in (("date,model", "model"), ("date,service_tier", "service_tier"),
                            ("date,api_key,model", None)):  # fmt: skip
        _, page, text = _detail(admin, acme_connection, f"group_by={group_by}&period=30d")
        with engine.connect() as conn:
            since = resolve_period("30d", None, None, today=_today()).start
            groups = query_usage(conn, UsageQuery(tenant_id=tenant, connection_id=acme_connection, since=since,
                                                  group_by=tuple(group_by.split(",")[1:]), with_cost=True,
                                                  order_by="amount_usd", descending=True))  # fmt: skip
        header = page.chart_rows[0]
        assert header[0] == "Day" and header[-2:] == ["Total", "Status"]
        series = header[1:-2]
        if groups.total_rows <= MAX_SERIES:
            assert field is not None
            none = "Server tools (no model)" if field == "model" else "(none)"
            assert series == [getattr(r, field) or none for r in groups.rows]
        else:
            assert (
                len(series) == MAX_SERIES
                and series[-1] == f"Other ({groups.total_rows - MAX_SERIES + 1} more)"
            )
        cells = [row[1:-2] for row in page.chart_rows[1:]]
        total = sum(Decimal(c.strip("$").replace(",", "")) for row in cells for c in row)
        assert abs(total - groups.totals.amount_usd) < Decimal("0.01") * len(cells) * len(series)
        assert list(_legend(text)) == series
    _, page, _ = _detail(admin, acme_connection, "group_by=date")
    assert page.chart_rows[0][1:-2] == ["All cost"]


def test_other_is_the_rest_of_each_bucket_exactly(engine, accounts, acme_connection):
    """With more groups than series, the top ones plus Other equal each bucket's total to the micro-cent."""
    tenant = accounts["acme_admin"].tenant_id
    with engine.connect() as conn:
        query = UsageQuery(tenant_id=tenant, connection_id=acme_connection)
        data = query_series(conn, query, metric="amount_usd", dimensions=("api_key", "model"), bucket="day")
        by_day = query_cost(
            conn, UsageQuery(tenant_id=tenant, connection_id=acme_connection, group_by=("date",))
        )
    assert data.series[-1].is_other and data.folded_groups > 0
    for row in by_day.rows:
        assert row.date is not None
        assert sum((s.values.get(row.date, Decimal(0)) for s in data.series), Decimal(0)) == row.amount_usd


def test_a_model_keeps_its_colour_across_metrics_and_pages(admin, engine, accounts, acme_connection):
    """A model's legend colour is the same for cost and tokens, grouped alone or with others, filtered or not."""
    seen: dict[str, set[str]] = {}
    for query in ("metric=amount_usd", "metric=output_tokens", "metric=requests&period=7d",
                  "model=claude-sonnet-4-5&model=claude-haiku-4-5"):  # fmt: skip
        _, _, text = _detail(admin, acme_connection, f"group_by=date,model&{query}")
        for label, colour in _legend(text).items():
            seen.setdefault(label, set()).add(colour)
    assert len(seen) >= 2 and all(len(colours) == 1 for colours in seen.values()), seen
    with engine.connect() as conn:
        known = [*stored_values(conn, "model", tenant_id=accounts["acme_admin"].tenant_id), ""]
    assert seen["claude-sonnet-4-5"] == {plan_colours(_chart_of(["claude-sonnet-4-5"]), known)[0]}


def test_two_series_never_share_a_colour():
    """When two keys hash to one colour, the later key takes the next free one; the first keeps its own."""
    keys = [f"model-{i}" for i in range(40)]
    first = keys[0]
    clash = next(k for k in keys[1:] if series_colour(k) == series_colour(first))
    colours = plan_colours(_chart_of([clash, first]))
    assert colours[1] == series_colour(first) and colours[0] != colours[1]
    assert set(colours.values()) <= set(SERIES_PALETTE)


def _chart_of(keys: list[str]) -> ChartData:
    return ChartData("amount_usd", "day", ("model",), [], [ChartSeries((k,), k, {}) for k in keys], {})


def test_planned_colours_do_not_depend_on_what_the_chart_shows():
    """Planned over every stored value, a series has one colour whichever others share the chart."""
    known = [f"model-{i}" for i in range(len(SERIES_PALETTE))]
    full = plan_colours(_chart_of(known), known)
    assert len(set(full.values())) == len(known)
    for subset in (known[:2], known[3:], known[::3], list(reversed(known[1:5]))):
        part = plan_colours(_chart_of(subset), known)
        assert [part[i] for i in range(len(subset))] == [full[known.index(k)] for k in subset]


@pytest.mark.parametrize(
    ("group_by", "days", "bucket"),
    [(("date", "model"), 92, "day"), (("date", "model"), 93, "month"), (("month", "model"), 10, "month"),
     (("date", "month"), 200, "month"), (("model",), 31, "day")],
)  # fmt: skip
def test_long_ranges_are_drawn_month_by_month(group_by, days, bucket):
    """Up to about a quarter the chart is daily; longer, or a table grouped by month alone, monthly."""
    first = dt.date(2026, 1, 1)
    assert plan_bucket(group_by, first, first + dt.timedelta(days=days - 1)) == bucket


def test_provisional_days_are_marked_in_the_table_and_the_chart(admin, acme_connection):
    """Days still inside the re-fetch lookback say "provisional" in the table and in the chart's table."""
    first = first_provisional_day(_today(), 3)
    _, page, text = _detail(admin, acme_connection, "group_by=date&period=30d")
    marked = {
        dt.date.fromisoformat(d)
        for d in re.findall(r"<td>(\d{4}-\d{2}-\d{2}) <span class=\"badge provisional\"", text)
    }
    assert marked and marked == {d for d in _table_days(text) if d >= first}
    status = {row[0]: row[-1] for row in page.chart_rows[1:]}
    for day in (first - dt.timedelta(days=1), first, _today()):
        assert status[f"{day.strftime('%b')} {day.day}"] == ("provisional" if day >= first else "final")
    assert f"Days from {first.isoformat()} on are <strong>provisional</strong>" in text


def test_the_first_screen_shows_this_and_last_months_spend(admin, engine, accounts, acme_connection):
    """This month to date, last month, and the change against the same days of last month, from the read model."""
    tenant, today = accounts["acme_admin"].tenant_id, _today()
    this = resolve_period("this-month", None, None, today=today)
    last = resolve_period("last-month", None, None, today=today)
    same = comparable_previous(this)

    def cost(p) -> Decimal:
        with engine.connect() as conn:
            q = UsageQuery(tenant_id=tenant, connection_id=acme_connection, since=p.start, until=p.last_day)
            return query_cost(conn, q).totals.amount_usd

    now, before, whole = cost(this), cost(same), cost(last)
    assert now > 0 and before > 0
    _, _, text = _detail(admin, acme_connection)
    tiles = text[text.index('id="summary"') : text.index('id="connection-facts"')]
    assert f"${now.quantize(Decimal('0.01')):,}" in tiles and f"${whole.quantize(Decimal('0.01')):,}" in tiles
    change = ((now - before) * 100 / before).copy_abs().quantize(Decimal("0.1"))
    assert f'{"▲" if now > before else "▼"} <span class="share"' in tiles and f"{change}%" in tiles


def test_the_event_panel_is_a_short_list_with_a_link_to_the_log(admin, app, fake, acme_connection):
    """At most five events, each on one line with the whole message in its title, and a link to the full log."""
    base = f"/settings/integrations/connections/{acme_connection}"
    for _ in range(3):  # more events than the panel shows
        admin.post(f"{base}/sync", data={"csrf_token": admin.csrf()})
        app.state.services.syncs.join(30)
    _, _, text = _detail(admin, acme_connection)
    panel = text[text.index('id="events-panel"') : text.index('id="troubleshooting"')]
    items = re.findall(r'<span class="event-message" title="([^"]+)">([^<]+)</span>', panel)
    assert 0 < len(items) <= 5
    assert all(
        unescape(title) == unescape(shown) for title, shown in items
    )  # the whole message, on hover too
    assert f'href="{base}/events" id="event-log-link"' in panel
    assert re.search(r'class="level-tag">(ℹ Info|⚠ Warning|✖ Error)<', panel)


def test_every_control_has_a_label(admin, acme_connection):
    """Each input and select of the page is named by a <label> (wrapping it or pointing at it)."""
    text = admin.get(f"/settings/integrations/connections/{acme_connection}").text
    page = _Page(text)
    labelled_ids = {a["for"] for t, a in page.elements if t == "label" and "for" in a}
    controls = re.findall(r"(<label[^>]*>(?:(?!</label>).)*?)?<(input|select)([^>]*)>", text, re.S)
    for wrapped, _, attributes in controls:
        if 'type="hidden"' in attributes:
            continue
        own_id = re.search(r'id="([^"]+)"', attributes)
        assert wrapped or (own_id and own_id.group(1) in labelled_ids), attributes


def test_skip_link_and_docs_link_back(admin):
    """Every page starts with a skip link to the main content; the API docs link back to the app."""
    page = admin.get("/settings/integrations").text
    assert page.index('class="skip-link" href="#main"') < page.index("<header") and '<main id="main"' in page
    docs = admin.get("/docs").text
    assert 'href="/">‹ Back to usageledger</a>' in docs
