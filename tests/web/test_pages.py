"""The pages: who sees what, the connect flow, the detail page, CSV, disconnect, and workspace isolation."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from usageledger.fake import FAKE_ADMIN_KEY
from usageledger.reports.usage import UsageQuery, query_usage
from usageledger.store.tables import connections, credentials

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client, path="/settings/integrations") -> str:
    return CSRF_RE.search(client.get(path).text).group(1)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _pages(cid: int) -> list[str]:
    base = f"/settings/integrations/connections/{cid}"
    return [
        "/settings/integrations",
        base,
        f"{base}/events",
        f"{base}/usage.csv",
        f"{base}?group_by=workspace",
    ]


def _admin_pages(cid: int) -> list[str]:
    base = f"/settings/integrations/connections/{cid}"
    return ["/settings/integrations/anthropic/connect", f"{base}/disconnect", "/settings/users"]


def test_anonymous_is_sent_to_sign_in(anon, acme_connection):
    """Every page but sign-in redirects an anonymous visitor to the sign-in page (and back afterwards)."""
    for path in _pages(acme_connection) + _admin_pages(acme_connection):
        response = anon.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2F"), path
    assert anon.get("/login").status_code == 200


@pytest.mark.parametrize("role", ["admin", "member"])
def test_both_roles_read_every_page(request, role, acme_connection):
    """Admins and members read integrations, the detail page, the event log and the CSV."""
    client = request.getfixturevalue(role)
    for path in _pages(acme_connection):
        assert client.get(path).status_code == 200, path
    assert client.get("/").headers["location"] == "/overview"


def test_members_cannot_connect_sync_or_disconnect(member, engine, acme_connection):
    """Members get 403 with a clear page for every admin action, and nothing changes."""
    token = _csrf(member)
    base = f"/settings/integrations/connections/{acme_connection}"
    for path in _admin_pages(acme_connection):
        response = member.get(path)
        assert response.status_code == 403, path
        assert "Only workspace admins" in response.text
    for path, data in (
        ("/settings/integrations/anthropic/connect", {"admin_key": FAKE_ADMIN_KEY}),
        (f"{base}/sync", {}),
        (f"{base}/disconnect", {"purge": "yes"}),
        ("/settings/tokens", {"name": "mine"}),
        ("/settings/users", {"email": "x@example.com", "password": "long enough pw", "role": "admin"}),
    ):
        response = member.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 403, path
    assert _count(engine, connections) == 1 and _count(engine, credentials) == 1
    page = member.get(base).text
    assert "Sync now" not in page and 'id="disconnect"' not in page


def test_another_workspace_sees_404_everywhere(outsider, engine, acme_connection):
    """A guessed connection id of another workspace is 404 (not 403) on every page, form and CSV."""
    token = _csrf(outsider)
    for path in _pages(acme_connection)[1:] + [
        f"/settings/integrations/connections/{acme_connection}/disconnect"
    ]:
        assert outsider.get(path).status_code == 404, path
    base = f"/settings/integrations/connections/{acme_connection}"
    assert outsider.post(f"{base}/sync", data={"csrf_token": token}).status_code == 404
    assert outsider.post(f"{base}/disconnect", data={"csrf_token": token}).status_code == 404
    assert _count(engine, credentials) == 1
    assert "Acme org" not in outsider.get("/settings/integrations").text


@pytest.mark.parametrize(
    ("key", "kind", "message"),
    [
        ("sk-ant-api03-test-standard-key-000000000000000000", None, "standard API key"),
        ("not a key at all", None, "Admin API key"),
        ("sk-ant-admin01-test-revoked-key-0000000000000000", "revoked", "Admin"),
        ("sk-ant-admin01-test-no-usage-scope-000000000000", "no_usage_scope", "usage"),
    ],
)
def test_connect_with_a_bad_key_explains_and_stores_nothing(admin, engine, fake, key, kind, message):
    """Standard, malformed, revoked and scope-less keys each get a message in place; nothing is stored."""
    if kind:
        fake.add_key(key, kind)
    response = admin.post("/settings/integrations/anthropic/connect",
                          data={"csrf_token": _csrf(admin), "admin_key": key})  # fmt: skip
    assert response.status_code == 400
    alert = re.search(r'role="alert" id="connect-error">([^<]+)<', response.text)
    assert alert and message.lower() in alert.group(1).lower()
    assert key not in response.text
    assert _count(engine, connections) == 0 and _count(engine, credentials) == 0


def test_connect_with_a_good_key_starts_the_first_sync(admin, app, engine):
    """A good key is stored, the first sync runs in the background, and the detail page shows it; the key never
    appears in any response."""
    response = admin.post("/settings/integrations/anthropic/connect",
                          data={"csrf_token": _csrf(admin), "admin_key": FAKE_ADMIN_KEY, "name": "Main org"})  # fmt: skip
    assert response.status_code == 303
    detail = response.headers["location"]
    assert re.fullmatch(r"/settings/integrations/connections/\d+", detail)
    page = admin.get(detail).text
    assert "Main org" in page and "Connected" in page
    app.state.services.syncs.join(30)
    page = admin.get(detail).text
    assert 'id="usage-table"' in page and "<svg" in page
    assert "sk-ant-admin01-…" in page  # the hint only
    admin.get(detail + "/usage.csv")
    admin.get("/api/v1/connections")
    assert all(FAKE_ADMIN_KEY.encode() not in body for body in admin.bodies)


def test_detail_page_shows_every_field(admin, acme_connection):
    """Organization, key hint, sync times, data-refreshed-at, source, rows and range, actions and troubleshooting."""
    page = admin.get(f"/settings/integrations/connections/{acme_connection}").text
    for text in ("Anthropic organization", "Admin key", "Last sync started", "Last sync finished",
                 "Last sync succeeded", "Data refreshed at (API)", "Source in use", "Rows stored",
                 "Date range stored", "Sync now", "Disconnect", "Troubleshooting", "Latest events",
                 "Usage and Cost Analytics API", "Download CSV"):  # fmt: skip
        assert text in page, text
    assert FAKE_ADMIN_KEY not in page


def test_csv_is_exactly_the_table_query(admin, engine, accounts, acme_connection):
    """The CSV has the page's filters, grouping and order, with names beside ids, and agrees with the reports."""
    query = (
        "group_by=date,workspace,model&model=claude-sonnet-4-5,claude-opus-4-1&sort=input_tokens&desc=true"
    )
    base = f"/settings/integrations/connections/{acme_connection}"
    response = admin.get(f"{base}/usage.csv?{query}")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    with engine.connect() as conn:
        report = query_usage(conn, UsageQuery(
            tenant_id=accounts["acme_admin"].tenant_id, connection_id=acme_connection,
            group_by=("date", "workspace", "model"), filters={"model": ["claude-sonnet-4-5", "claude-opus-4-1"]},
            order_by="input_tokens", descending=True))  # fmt: skip
    expected = [r.as_json(names=True) for r in report.rows]
    assert len(rows) == len(expected) == report.total_rows
    for got, want in zip(rows, expected, strict=True):
        assert got["date"] == want["date"] and got["model"] == want["model"]
        assert got["workspace_name"] == (want["workspace_name"] or "")
        assert int(got["input_tokens"]) == want["input_tokens"]
    assert list(rows[0])[:4] == ["date", "workspace_id", "workspace_name", "model"]
    page = admin.get(f"{base}?{query}").text
    assert "usage.csv?" in page and "claude-opus-4-1" in page


def test_detail_page_filters_sort_and_pages(admin, acme_connection):
    """Group-by, filters, sorting and pagination are plain GET parameters; bad ones get a clear 400."""
    base = f"/settings/integrations/connections/{acme_connection}"
    page = admin.get(f"{base}?group_by=date,workspace,api_key,model").text
    assert "page 1 of" in page and "Next ›" in page
    assert admin.get(f"{base}?group_by=date,workspace,api_key,model&page=2").status_code == 200
    for metric in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
                   "requests", "amount_usd"):  # fmt: skip
        assert "<svg" in admin.get(f"{base}?metric={metric}").text
    bad = admin.get(f"{base}?group_by=colour")
    assert bad.status_code == 400 and "group_by" in bad.text
    assert admin.get(f"{base}?since=2026-05-02&until=2026-05-01").status_code == 400
    assert admin.get(f"{base}?sort=nonsense").status_code == 400
    empty = admin.get(f"{base}?model=no-such-model").text
    assert "No usage matches these dates and filters" in empty


def test_sync_now_and_event_log(admin, app, fake, acme_connection):
    """Sync now starts a sync; a forced 429 shows in the event log, filterable by kind."""
    base = f"/settings/integrations/connections/{acme_connection}"
    fake.faults.add("/v1/organizations/analytics/usage", "rate_limit", times=5, retry_after=0.01)
    response = admin.post(f"{base}/sync", data={"csrf_token": _csrf(admin)})
    assert response.status_code == 303 and response.headers["location"] == base
    app.state.services.syncs.join(30)
    log = admin.get(f"{base}/events?kind=rate_limit").text
    assert "rate_limit" in log and "No events" not in log
    others = admin.get(f"{base}/events?kind=key_verified").text
    assert "key_verified" in others and ">rate_limit<" not in others


def test_the_event_log_shows_each_events_details_as_people_read_them(admin, app, fake, acme_connection):
    """What the JSON API returns as `details` is in the log too, under the message, nested objects as
    labelled lines; an event without details has no Details toggle."""
    base = f"/settings/integrations/connections/{acme_connection}"
    fake.faults.add("/v1/organizations/analytics/usage", "rate_limit", times=2, retry_after=0.01)
    admin.post(f"{base}/sync", data={"csrf_token": _csrf(admin)})
    app.state.services.syncs.join(30)
    finished = admin.get(f"{base}/events?kind=sync_finished").text
    assert '<details class="event-details">' in finished
    assert "<dt>in flight · peak</dt>" in finished and "<dt>directory · read</dt>" in finished
    assert re.search(r"<dt>usage rows</dt><dd>\d+</dd>", finished)  # separators: the formatter's own test
    limited = admin.get(f"{base}/events?kind=rate_limit").text
    assert "<dt>retry after seconds</dt>" in limited and "<dt>path</dt>" in limited
    verified = admin.get(f"{base}/events?kind=key_verified").text
    assert "key_verified" in verified and "event-details" not in verified


def test_disconnect_deletes_the_key(admin, engine, acme_connection):
    """The confirmation explains; disconnecting deletes the credential at once and keeps usage unless purged."""
    base = f"/settings/integrations/connections/{acme_connection}"
    confirm = admin.get(f"{base}/disconnect").text
    assert "deleted at once" in confirm and "revoke it in the Anthropic Console" in confirm
    response = admin.post(f"{base}/disconnect", data={"csrf_token": _csrf(admin)})
    assert response.status_code == 303
    assert _count(engine, credentials) == 0
    page = admin.get(base).text
    assert "disconnected" in page and "Sync now" not in page and 'id="usage-table"' in page


def test_disconnect_with_purge_removes_usage(admin, engine, acme_connection):
    """Purge also deletes the synced rows."""
    base = f"/settings/integrations/connections/{acme_connection}"
    admin.post(f"{base}/disconnect", data={"csrf_token": _csrf(admin), "purge": "yes"})
    page = admin.get(base).text
    assert "No usage stored yet" in page


def test_users_and_tokens_page(admin, member, accounts, login):
    """Admins add users and create tokens (shown once); the new user can sign in."""
    token = _csrf(admin, "/settings/users")
    added = admin.post("/settings/users", data={"csrf_token": token, "email": "new@example.com",
                                                 "password": "another long pw", "role": "member"})  # fmt: skip
    assert added.status_code == 303
    created = admin.post("/settings/tokens", data={"csrf_token": token, "name": "finance export"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    secret = re.search(r'id="new-token">([^<]+)<', created.text).group(1)
    assert secret.startswith("ulpat_")
    again = admin.get("/settings/users").text
    assert "finance export" in again and secret not in again
    assert admin.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"}).json()["email"] == (
        accounts["acme_admin"].email
    )
    token_id = re.search(r'action="/settings/tokens/(\d+)/delete"', again).group(1)
    assert admin.post(f"/settings/tokens/{token_id}/delete", data={"csrf_token": token}).status_code == 303
    assert admin.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"}).status_code == 401


def test_empty_integrations_page_says_what_to_do(admin, member):
    """Without connections, the Anthropic card offers Connect to admins and explains to members."""
    assert "not connected" in admin.get("/settings/integrations").text
    assert 'href="/settings/integrations/anthropic/connect"' in admin.get("/settings/integrations").text
    assert "Only admins can connect Anthropic" in member.get("/settings/integrations").text


def test_connect_page_explains_and_links_to_the_console(admin):
    """The connect page says what is needed, links to the Console's admin keys page, and uses a password field."""
    page = admin.get("/settings/integrations/anthropic/connect").text
    assert "https://console.anthropic.com/settings/admin-keys" in page
    assert 'type="password" name="admin_key"' in page
    assert "never makes model calls" in page and "prompts or completions" in page
