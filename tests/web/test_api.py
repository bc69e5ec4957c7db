"""The JSON API: every route for both roles, anonymous and another workspace; one error envelope."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from usageledger.fake import FAKE_ADMIN_KEY
from usageledger.store.tables import access_tokens, connections, credentials

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def assert_error(response, status: int, type_: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == type_ and body["error"]["message"]


def _read_routes(cid: int) -> list[str]:
    return [
        "/api/v1/me",
        "/api/v1/connections",
        f"/api/v1/connections/{cid}",
        f"/api/v1/connections/{cid}/sync-runs",
        f"/api/v1/connections/{cid}/events",
        "/api/v1/events",
        f"/api/v1/usage?connection_id={cid}",
        f"/api/v1/cost?connection_id={cid}",
        f"/api/v1/usage?connection_id={cid}&format=csv",
    ]


def test_anonymous_gets_401_envelopes(anon, acme_connection):
    """Without a session or token every API route answers 401 in the envelope."""
    for path in _read_routes(acme_connection) + ["/api/v1/tokens"]:
        assert_error(anon.get(path), 401, "unauthorized")
    assert_error(anon.post(f"/api/v1/connections/{acme_connection}/sync"), 401, "unauthorized")
    assert_error(anon.delete(f"/api/v1/connections/{acme_connection}"), 401, "unauthorized")
    assert_error(anon.get("/api/v1/me", headers=bearer("ulpat_not-a-real-token")), 401, "unauthorized")
    assert_error(anon.get("/api/v1/me", headers={"authorization": "Basic abc"}), 401, "unauthorized")


@pytest.mark.parametrize("who", ["acme_admin", "acme_member"])
def test_both_roles_read_every_route(anon, tokens, who, acme_connection):
    """Admins and members read connections, runs, events, usage and cost with a token."""
    for path in _read_routes(acme_connection):
        response = anon.get(path, headers=bearer(tokens[who]))
        assert response.status_code == 200, (path, response.text)
    me = anon.get("/api/v1/me", headers=bearer(tokens[who])).json()
    assert me["role"] == who.split("_")[1]


def test_members_cannot_write(anon, engine, tokens, acme_connection):
    """Members get 403 forbidden on connect, sync, disconnect and tokens."""
    headers = bearer(tokens["acme_member"])
    assert_error(anon.post("/api/v1/connections", json={"admin_key": FAKE_ADMIN_KEY}, headers=headers),
                 403, "forbidden")  # fmt: skip
    assert_error(anon.post(f"/api/v1/connections/{acme_connection}/sync", headers=headers), 403, "forbidden")
    assert_error(anon.delete(f"/api/v1/connections/{acme_connection}", headers=headers), 403, "forbidden")
    assert_error(anon.get("/api/v1/tokens", headers=headers), 403, "forbidden")
    assert_error(anon.post("/api/v1/tokens", json={"name": "x"}, headers=headers), 403, "forbidden")
    assert _count(engine, credentials) == 1 and _count(engine, connections) == 1


def test_another_workspace_gets_404(anon, engine, tokens, acme_connection, globex_connection):
    """Another workspace's connection id is 404 on every route; lists and queries never include it."""
    headers = bearer(tokens["globex_admin"])
    for path in _read_routes(acme_connection)[2:5] + [
        f"/api/v1/usage?connection_id={acme_connection}",
        f"/api/v1/cost?connection_id={acme_connection}",
        f"/api/v1/events?connection_id={acme_connection}",
        f"/api/v1/usage?connection_id={acme_connection}&format=csv",
    ]:
        assert_error(anon.get(path, headers=headers), 404, "not_found")  # fmt: skip
    assert_error(anon.post(f"/api/v1/connections/{acme_connection}/sync", headers=headers), 404, "not_found")
    assert_error(anon.delete(f"/api/v1/connections/{acme_connection}", headers=headers), 404, "not_found")
    listed = anon.get("/api/v1/connections", headers=headers).json()["connections"]
    assert [c["id"] for c in listed] == [globex_connection]
    events = anon.get("/api/v1/events", headers=headers).json()["events"]
    assert {e["connection_id"] for e in events} == {globex_connection}
    # tenant-wide usage equals that workspace's own connection only
    mine = anon.get(f"/api/v1/usage?group_by=model&connection_id={globex_connection}", headers=headers).json()
    everything = anon.get("/api/v1/usage?group_by=model", headers=headers).json()
    assert mine["totals"] == everything["totals"]
    assert _count(engine, credentials) == 2


def test_connect_disconnect_and_sync_by_api(anon, app, engine, tokens):
    """Create (key in the body, never echoed), sync (202), 409 while running or disconnected, delete (204)."""
    headers = bearer(tokens["acme_admin"])
    bad = anon.post("/api/v1/connections", json={"admin_key": "sk-ant-api03-test-standard-0000000000000"},
                    headers=headers)  # fmt: skip
    assert_error(bad, 400, "credential_error")
    assert _count(engine, connections) == 0
    created = anon.post("/api/v1/connections", json={"admin_key": FAKE_ADMIN_KEY, "name": "API org"},
                        headers=headers)  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "API org" and body["key_hint"].startswith("sk-ant-admin01-…")
    assert FAKE_ADMIN_KEY not in created.text
    cid = body["id"]
    app.state.services.syncs.join(30)
    runs = anon.get(f"/api/v1/connections/{cid}/sync-runs?limit=1", headers=headers).json()
    assert runs["running"] is False and runs["runs"][0]["days_done"] == runs["runs"][0]["days_total"] > 0
    started = anon.post(f"/api/v1/connections/{cid}/sync", headers=headers)
    assert started.status_code == 202 and started.json()["runs_url"].endswith("/sync-runs")
    app.state.services.syncs.join(30)
    assert anon.delete(f"/api/v1/connections/{cid}?purge=true", headers=headers).status_code == 204
    assert _count(engine, credentials) == 0
    assert anon.get(f"/api/v1/connections/{cid}", headers=headers).json()["state"] == "disconnected"
    assert_error(anon.post(f"/api/v1/connections/{cid}/sync", headers=headers), 409, "conflict")
    assert all(FAKE_ADMIN_KEY.encode() not in b for b in anon.bodies)


def test_usage_and_cost_queries(anon, tokens, acme_connection):
    """Same group-by, filters and JSON keys as the CLI; paging; CSV; totals over the whole filtered set."""
    headers = bearer(tokens["acme_member"])
    usage = anon.get(f"/api/v1/usage?connection_id={acme_connection}&group_by=date,model&limit=5&offset=0",
                     headers=headers).json()  # fmt: skip
    assert len(usage["rows"]) == 5 and usage["total_rows"] > 5
    row = usage["rows"][0]
    assert {"date", "model", "input_tokens", "output_tokens", "cache_read_input_tokens",
            "cache_creation_input_tokens", "cache_creation_5m_input_tokens", "cache_creation_1h_input_tokens",
            "requests"} <= set(row)  # fmt: skip
    model = next(r["model"] for r in usage["rows"] if r["model"])
    only = anon.get(f"/api/v1/usage?group_by=model&model={model}", headers=headers).json()
    assert [r["model"] for r in only["rows"]] == [model]
    cost = anon.get("/api/v1/cost?group_by=month", headers=headers).json()
    assert all(isinstance(r["amount_usd"], str) for r in cost["rows"])
    csv_text = anon.get("/api/v1/usage?group_by=model&format=csv", headers=headers)
    assert csv_text.headers["content-type"].startswith("text/csv") and csv_text.text.startswith("model,")
    assert_error(anon.get("/api/v1/usage?group_by=colour", headers=headers), 400, "invalid_request")
    assert_error(anon.get("/api/v1/usage?since=yesterday", headers=headers), 422, "validation_error")
    assert_error(anon.get("/api/v1/usage?sort=nonsense", headers=headers), 400, "invalid_request")
    assert_error(anon.get("/api/v1/usage?limit=0", headers=headers), 422, "validation_error")


def test_events_filter_by_kind(anon, tokens, acme_connection):
    """The event log filters by kind."""
    headers = bearer(tokens["acme_member"])
    kinds = {e["kind"] for e in anon.get("/api/v1/events", headers=headers).json()["events"]}
    assert {"key_verified", "sync_started", "sync_finished"} <= kinds
    only = anon.get("/api/v1/events?kind=key_verified", headers=headers).json()["events"]
    assert only and {e["kind"] for e in only} == {"key_verified"}


def test_tokens_by_api(anon, engine, tokens):
    """Admins create (shown once, hashed at rest), list and revoke tokens."""
    headers = bearer(tokens["acme_admin"])
    created = anon.post("/api/v1/tokens", json={"name": "ci"}, headers=headers)
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    secret = created.json()["token"]
    with engine.connect() as conn:
        assert secret not in {h for (h,) in conn.execute(select(access_tokens.c.token_hash))}
    listed = anon.get("/api/v1/tokens", headers=headers).json()["tokens"]
    assert "token" not in listed[0] and "ci" in {t["name"] for t in listed}
    assert anon.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    assert anon.delete(f"/api/v1/tokens/{created.json()['id']}", headers=headers).status_code == 204
    assert_error(anon.get("/api/v1/me", headers=bearer(secret)), 401, "unauthorized")
    other = anon.get("/api/v1/tokens", headers=bearer(tokens["globex_admin"])).json()["tokens"]
    assert_error(anon.delete(f"/api/v1/tokens/{other[0]['id']}", headers=headers), 404, "not_found")


def test_session_auth_needs_the_csrf_header_for_writes(admin, acme_connection):
    """With the browser session, GETs work; POST/DELETE need the session's CSRF token in X-CSRF-Token."""
    assert admin.get("/api/v1/connections").status_code == 200
    assert_error(admin.post(f"/api/v1/connections/{acme_connection}/sync"), 403, "csrf_failed")
    token = CSRF_RE.search(admin.get("/settings/integrations").text).group(1)
    response = admin.post(f"/api/v1/connections/{acme_connection}/sync", headers={"x-csrf-token": token})
    assert response.status_code in (202, 409)


@pytest.mark.parametrize(
    ("method", "path", "status", "type_"),
    [
        ("get", "/api/v1/nope", 404, "not_found"),
        ("get", "/api/v1/connections/999999", 404, "not_found"),
        ("get", "/api/v1/connections/abc", 422, "validation_error"),
        ("put", "/api/v1/connections", 405, "method_not_allowed"),
        ("post", "/api/v1/tokens", 422, "validation_error"),
    ],
)
def test_one_error_envelope(anon, tokens, method, path, status, type_):
    """404, 405 and 422 use the same envelope as our own errors."""
    response = anon.request(method, path, headers=bearer(tokens["acme_admin"]))
    assert_error(response, status, type_)


def test_a_database_that_fails_is_a_503_that_says_so(
    anon, admin, tokens, acme_connection, monkeypatch, caplog
):
    """A database that is down, full or read-only answers 503 `database_unavailable` with what to do next,
    on the API and on a page; never the generic 500 of a bug, never the statement or its parameters."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    import usageledger.web.api
    import usageledger.web.pages_integrations

    def down(*_args, **_kwargs):
        raise OperationalError(
            "SELECT secret_parameter", {"p": "sealed"}, sqlite3.OperationalError("disk I/O error")
        )

    monkeypatch.setattr(usageledger.web.api, "connection_status", down)
    monkeypatch.setattr(usageledger.web.pages_integrations, "get_connection", down)
    response = anon.get("/api/v1/connections", headers=bearer(tokens["acme_admin"]))
    assert_error(response, 503, "database_unavailable")
    assert "disk I/O error" in response.json()["error"]["message"]
    page = admin.get(f"/settings/integrations/connections/{acme_connection}/events")
    assert page.status_code == 503 and "The database could not be used: disk I/O error" in page.text
    for body in (response.text, page.text, caplog.text):
        assert "secret_parameter" not in body and "sealed" not in body
    assert caplog.text.count("could not be used: disk I/O error") == 2  # the operator sees it in the log


def test_a_connection_closed_under_a_request_is_a_503_too(anon, tokens, monkeypatch):
    """psycopg's InterfaceError (a connection closed under us) is the database being unavailable, not a bug."""
    import psycopg
    from sqlalchemy.exc import InterfaceError

    import usageledger.web.api

    def closed(*_args, **_kwargs):
        raise InterfaceError("SELECT 1", None, psycopg.InterfaceError("the connection is closed"))

    monkeypatch.setattr(usageledger.web.api, "connection_status", closed)
    response = anon.get("/api/v1/connections", headers=bearer(tokens["acme_admin"]))
    assert_error(response, 503, "database_unavailable")
    assert "the connection is closed" in response.json()["error"]["message"]


def test_openapi_documents_the_api(anon):
    """/openapi.json lists every API route with bearer auth; /docs serves Swagger UI from the package."""
    schema = anon.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/connections", "/api/v1/connections/{connection_id}", "/api/v1/connections/{connection_id}/sync",
            "/api/v1/connections/{connection_id}/sync-runs", "/api/v1/usage", "/api/v1/cost",
            "/api/v1/events", "/api/v1/tokens"} <= paths  # fmt: skip
    assert not any(p.startswith("/settings") for p in paths)
    docs = anon.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert anon.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
