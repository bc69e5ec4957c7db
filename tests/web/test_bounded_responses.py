"""Bounded responses: the API pages with a capped limit and a cursor, CSVs stream in bounded memory and
let go of their connection when the client leaves, signed-in responses are never cached, and CSV
cells cannot start a spreadsheet formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
from decimal import Decimal

import anyio
import pytest
from sqlalchemy import Engine, func, select

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.models import Dimensions, UsageRecord, Window
from usageledger.store.tables import usage_rows
from usageledger.web.exports import csv_cell, open_usage_csv
from usageledger.web.params import UsageParams

FINEST = ("date", "organization", "workspace", "api_key", "model", "service_tier", "context_window")
BIG_DAYS, BIG_ROWS_PER_DAY = 32, 300


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def fill(engine: Engine, tenant_id: int, days: int = BIG_DAYS, rows_per_day: int = BIG_ROWS_PER_DAY) -> int:
    """A connection of `tenant_id` holding the fake's ground truth for `days` days, written as a sync would."""
    start = dt.date(2026, 1, 1)
    end = start + dt.timedelta(days=days)
    fake = FakeOrganization(seed=11, rows_per_day=rows_per_day, today=end)
    with engine.begin() as conn:
        connection_id = store.insert_connection(
            conn, tenant_id=tenant_id, name="Big org", provider="anthropic", base_url="http://127.0.0.1:1",
            organization_id=fake.organization.id, organization_name=fake.organization.name,
            key_hint="sk-ant-admin01-…test", source="analytics",
        )  # fmt: skip
        store.upsert_directory(conn, connection_id, fake.directory)
        run_id = store.start_sync_run(conn, connection_id, "connect", start, end, days)
        writer = store.WindowWriter(conn, connection_id, run_id, Window(start, end))
        writer.write_usage(fake.truth_usage(start, end))
        writer.write_cost(fake.truth_cost(start, end))
        writer.finish()
    return connection_id


def _stored_rows(engine: Engine, connection_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(usage_rows).where(usage_rows.c.connection_id == connection_id)
        ).scalar_one()


# --- API paging -------------------------------------------------------------------------------------------


def test_api_pages_have_a_default_size_and_a_maximum(anon, tokens, acme_connection):
    """Without `limit` a page holds at most 1,000 rows; more than 10,000 a page is refused, not served."""
    headers = bearer(tokens["acme_member"])
    for route in ("usage", "cost"):
        body = anon.get(f"/api/v1/{route}?group_by=date,model", headers=headers).json()
        assert body["limit"] == 1000 and len(body["rows"]) <= 1000
        too_many = anon.get(f"/api/v1/{route}?limit=10001", headers=headers)
        assert too_many.status_code == 422 and "10000" in too_many.text


@pytest.mark.parametrize("route", ["usage", "cost"])
def test_following_next_cursor_reads_every_row_once(anon, tokens, acme_connection, route):
    """Pages chained by `next_cursor` hold exactly the rows of the unpaged query, in order, with the same totals."""
    headers = bearer(tokens["acme_member"])
    query = f"/api/v1/{route}?group_by=date,workspace,model&sort=model"
    whole = anon.get(f"{query}&limit=10000", headers=headers).json()
    assert whole["next_cursor"] is None and len(whole["rows"]) == whole["total_rows"] > 20
    seen, pages, cursor = [], 0, ""
    while True:
        page = anon.get(f"{query}&limit=7{cursor}", headers=headers).json()
        pages += 1
        assert page["totals"] == whole["totals"] and page["total_rows"] == whole["total_rows"]
        seen += page["rows"]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == whole["rows"]
    assert pages == -(-whole["total_rows"] // 7)


def test_offset_still_pages(anon, tokens, acme_connection):
    """`offset` keeps working for callers that count rows themselves."""
    headers = bearer(tokens["acme_member"])
    whole = anon.get("/api/v1/usage?group_by=date,model", headers=headers).json()["rows"]
    page = anon.get("/api/v1/usage?group_by=date,model&limit=5&offset=5", headers=headers).json()
    assert page["rows"] == whole[5:10] and page["offset"] == 5


@pytest.mark.parametrize(
    ("replay", "message"),
    [
        ("/api/v1/usage?group_by=model", "another query"),
        ("/api/v1/usage?group_by=date,model&sort=output_tokens", "another query"),
        ("/api/v1/usage?group_by=date,model&model=claude-sonnet-4-5", "another query"),
        ("/api/v1/cost?group_by=date,model", "another query"),
        ("/api/v1/usage?group_by=date,model&offset=3", "not both"),
    ],
)
def test_a_cursor_replayed_against_another_query_is_a_clear_400(
    anon, tokens, acme_connection, replay, message
):
    """A cursor carries its query's fingerprint: other filters, grouping, sort or route get 400, never other rows."""
    headers = bearer(tokens["acme_member"])
    first = anon.get("/api/v1/usage?group_by=date,model&limit=3", headers=headers).json()
    response = anon.get(f"{replay}&cursor={first['next_cursor']}", headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request"
    assert message in response.json()["error"]["message"]


@pytest.mark.parametrize("cursor", ["garbage", "eyJ2IjoxfQ", "eyJ2IjoxLCJvIjotNSwicSI6IngifQ", "%FF%FE"])
def test_a_forged_cursor_is_a_clear_400(anon, tokens, acme_connection, cursor):
    """Cursors this server did not issue (bad base64, missing fields, negative offset) are refused plainly."""
    response = anon.get(f"/api/v1/usage?cursor={cursor}", headers=bearer(tokens["acme_member"]))
    assert response.status_code == 400, response.text
    assert "drop `cursor`" in response.json()["error"]["message"]


# --- streamed CSV ------------------------------------------------------------------------------------------


@pytest.fixture
def big_database(database_url: str, tmp_path) -> tuple[Engine, int, int]:
    """SQLite or PostgreSQL holding 32 days × 300 fake rows a day: (engine, tenant id, connection id)."""
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    engine = store.create_engine_for(settings)
    store.migrate(engine)
    with engine.begin() as conn:
        tenant_id = store.ensure_default_tenant(conn)
    connection_id = fill(engine, tenant_id)
    yield engine, tenant_id, connection_id
    engine.dispose()


def _export_peak(engine: Engine, tenant_id: int, params: UsageParams) -> tuple[int, int, int]:
    """(pieces of text, body bytes, peak Python memory) of one export read to its end."""
    tracemalloc.start()
    try:
        pieces = body_bytes = 0
        for piece in open_usage_csv(engine, tenant_id, params, chunk_rows=250):
            pieces += 1
            body_bytes += len(piece.encode())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return pieces, body_bytes, peak


def test_csv_memory_does_not_grow_with_the_range(big_database):
    """The export reads 250 rows at a time: four times the range gives four times the CSV, not a bigger peak.

    (Before, the whole body and every row object were held at once: memory grew with the range.)"""
    engine, tenant_id, connection_id = big_database
    whole = UsageParams(connection_id=connection_id, group_by=FINEST)
    quarter = whole.replaced(until=dt.date(2026, 1, BIG_DAYS // 4))
    _export_peak(
        engine, tenant_id, quarter
    )  # warm the statement caches, so both runs below measure rows only
    small_pieces, small_body, small_peak = _export_peak(engine, tenant_id, quarter)
    pieces, body, peak = _export_peak(engine, tenant_id, whole)
    assert body > 3 * small_body and pieces > 3 * small_pieces > 3
    assert peak < 1.5 * small_peak, (peak, small_peak)
    assert engine.pool.checkedout() == 0  # each stream gave its connection back when it ended


def test_a_closed_csv_stream_gives_its_connection_back(big_database):
    """Closing an export mid-way (what a route does when the client leaves) returns its connection at once."""
    engine, tenant_id, connection_id = big_database
    stream = open_usage_csv(engine, tenant_id, UsageParams(connection_id=connection_id, group_by=FINEST))
    assert engine.pool.checkedout() == 1
    next(stream), next(stream)
    stream.close()
    assert engine.pool.checkedout() == 0
    with pytest.raises(StopIteration):
        next(stream)


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
def test_a_client_leaving_mid_download_releases_the_connection(app, engine, accounts, tokens, spec_version):
    """Through the whole app: the client disconnects after the first piece of a large CSV; the download stops
    early and the export's database connection is back in the pool when the response ends."""
    connection_id = fill(engine, accounts["acme_admin"].tenant_id)
    received: list[bytes] = []
    first_piece = anyio.Event()
    path = "/api/v1/usage"
    query = f"connection_id={connection_id}&format=csv&group_by={','.join(FINEST)}"
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": spec_version}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"testserver"), *[(k.encode(), v.encode()) for k, v in
                                                 bearer(tokens["acme_member"]).items()]],
    }  # fmt: skip
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await first_piece.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        elif message["type"] == "http.response.body":
            if received and spec_version == "2.4":
                raise OSError("client went away")  # how a 2.4 server reports a closed socket
            received.append(message["body"])
            first_piece.set()
            await anyio.sleep(0)

    async def call() -> None:
        try:
            await app(scope, receive, send)
        except Exception:  # the server would log ClientDisconnect; the client is gone either way
            pass

    anyio.run(call)
    body = b"".join(received)
    rows = _stored_rows(engine, connection_id)
    assert body.startswith(b"date,organization_id") and 0 < body.count(b"\n") < rows / 2
    assert engine.pool.checkedout() == 0


def test_csv_download_still_has_every_row(admin, engine, accounts):
    """Streaming changes how, not what: the page's CSV holds every group the query has, not one page of them."""
    connection_id = fill(engine, accounts["acme_admin"].tenant_id, days=10, rows_per_day=150)
    base = f"/settings/integrations/connections/{connection_id}"
    response = admin.get(f"{base}/usage.csv?group_by={','.join(FINEST)}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    groups = admin.get(f"/api/v1/usage?connection_id={connection_id}&group_by={','.join(FINEST)}&limit=1")
    assert len(lines) == groups.json()["total_rows"] > 1000
    assert engine.pool.checkedout() == 0


# --- no-store ---------------------------------------------------------------------------------------------


def test_every_response_but_static_assets_says_no_store(anon, admin, tokens, acme_connection):
    """Pages, API JSON, CSV, redirects, errors and the docs all send `Cache-Control: no-store`; assets may cache."""
    base = f"/settings/integrations/connections/{acme_connection}"
    api = bearer(tokens["acme_member"])
    responses = {
        "page": admin.get(base),
        "integrations": admin.get("/settings/integrations"),
        "events page": admin.get(f"{base}/events"),
        "page csv": admin.get(f"{base}/usage.csv"),
        "api json": anon.get("/api/v1/usage", headers=api),
        "api cost": anon.get("/api/v1/cost", headers=api),
        "api csv": anon.get("/api/v1/usage?format=csv", headers=api),
        "redirect": anon.get(base),
        "sign-in page": anon.get("/login"),
        "page 404": admin.get("/settings/integrations/connections/999999"),
        "api 401": anon.get("/api/v1/me"),
        "api 400": anon.get("/api/v1/usage?group_by=colour", headers=api),
        "openapi": anon.get("/openapi.json"),
        "docs": anon.get("/docs"),
    }
    for name, response in responses.items():
        assert response.headers.get("cache-control") == "no-store", name
    assert responses["redirect"].status_code == 303 and responses["page 404"].status_code == 404
    for asset in ("/static/app.css", "/docs/assets/swagger-ui-bundle.js"):
        response = anon.get(asset)
        assert response.status_code == 200 and "cache-control" not in response.headers, asset


# --- CSV formula guard ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("x")'])
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(text):
    """A leading =, +, -, @, tab or carriage return is neutralised with a leading apostrophe."""
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("claude-sonnet-4-5", "claude-sonnet-4-5"), ("a-b", "a-b"), (-5, -5), (Decimal("-1.50"), "-1.50"), (Decimal("2E-8"), "0.00000002"),
     (0, 0), (None, "")],
)  # fmt: skip
def test_plain_text_and_numbers_pass_unchanged(value, expected):
    """Ordinary names and numbers (negative ones too) pass unguarded, Decimals in plain notation; None is empty."""
    assert csv_cell(value) == expected


def test_a_hostile_model_name_reaches_the_csv_neutralised(admin, engine, accounts, acme_connection):
    """End to end: a stored model named like a formula arrives in the downloaded CSV with the apostrophe."""
    day = dt.date(2026, 1, 2)
    record = UsageRecord(day=day, dims=Dimensions(organization_id="org-x", model="-2+3+cmd|' /C calc'!A0"),
                         uncached_input_tokens=7, requests=1)  # fmt: skip
    with engine.begin() as conn:
        run_id = store.start_sync_run(conn, acme_connection, "manual", day, day + dt.timedelta(days=1), 1)
        writer = store.WindowWriter(conn, acme_connection, run_id, Window(day, day + dt.timedelta(days=1)))
        writer.write_usage([record])
        writer.write_cost([])
        writer.finish()
    base = f"/settings/integrations/connections/{acme_connection}"
    text = admin.get(f"{base}/usage.csv?group_by=model&since=2026-01-02&until=2026-01-02").text
    models = [row["model"] for row in csv.DictReader(io.StringIO(text))]
    assert models == ["'-2+3+cmd|' /C calc'!A0"]
