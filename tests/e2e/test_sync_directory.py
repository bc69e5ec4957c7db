"""The directory a sync stores: members of workspaces and RBAC groups, and keys' creators and expiry.

The real CLI (or `run_sync`) against the fake on loopback, on SQLite and PostgreSQL; what was stored is read
straight from the database and compared with the fake's own directory.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import Engine, create_engine, select

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization
from usageledger.store.tables import (
    anthropic_api_keys,
    anthropic_rbac_group_members,
    anthropic_rbac_groups,
    anthropic_workspace_members,
)
from usageledger.sync import run_sync

RBAC = "/v1/organizations/rbac_groups"


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> FakeOrganization:
    """A small organization; `rbac_groups` (indirect parameter) makes it an Enterprise one."""
    return FakeOrganization(seed=11, rows_per_day=20, rbac_groups=getattr(request, "param", False))


@pytest.fixture
def db(cli_env) -> Iterator[Engine]:
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


def _rows(db: Engine, table, *columns: str) -> set[tuple]:
    with db.connect() as conn:
        return {tuple(r) for r in conn.execute(select(*(table.c[c] for c in columns))).all()}


def _members(db: Engine) -> set[tuple]:
    return _rows(db, anthropic_workspace_members, "workspace_id", "user_id", "workspace_role")


def _skipped(cli) -> list[dict]:
    return [e for e in cli("events", "--json").json() if e["kind"] == "directory_skipped"]


def _live_members(fake: FakeOrganization) -> set[tuple]:
    return set(fake.members)


@pytest.mark.parametrize("fake", [True], indirect=True)
def test_an_enterprise_sync_stores_members_groups_and_keys_as_listed(fake, connected, db, cli):
    """Members of every live workspace, RBAC groups and their members, key creators and expiry; no skip."""
    assert _members(db) == _live_members(fake) and _members(db)
    assert _rows(db, anthropic_rbac_groups, "id", "name") == {(g, n) for g, n, _ in fake.rbac_groups}
    assert _rows(db, anthropic_rbac_group_members, "rbac_group_id", "user_id", "email") == {
        (g, u, e) for g, u, e, _ in fake.rbac_members
    }
    keys = _rows(db, anthropic_api_keys, "id", "created_by_id", "created_by_type", "expires_at")
    assert keys == {(k.id, k.created_by_id, k.created_by_type, k.expires_at) for k in fake.directory.api_keys}
    assert any(k[1] is None for k in keys) and any(k[3] is not None for k in keys)
    assert _skipped(cli) == []


def test_a_console_org_skips_rbac_groups_with_one_event_per_sync(fake, connected, db, cli):
    """RBAC groups answer 403: each sync succeeds, stores members, and writes exactly one info event."""
    assert _members(db) == _live_members(fake)
    assert _rows(db, anthropic_rbac_groups, "id") == set()
    (event,) = _skipped(cli)
    assert event["level"] == "info"
    assert RBAC in event["message"] and "403" in event["message"] and "Enterprise" in event["message"]
    assert cli("sync").exit_code == 0
    assert len(_skipped(cli)) == 2  # one per sync, not one per call


def _members_refused(upstream_url: str) -> httpx2.Client:
    """Forwards to the fake, but answers 403 for every workspace's members."""
    upstream = httpx2.Client(base_url=upstream_url)

    def handler(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path.startswith("/v1/organizations/workspaces/") and path.endswith("/members"):
            body = {"type": "error", "error": {"type": "permission_error", "message": "no"}}
            return httpx2.Response(403, json=body, headers={"request-id": "req_members"})
        answer = upstream.request(request.method, str(request.url), headers=request.headers)
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-length", "content-encoding")}
        return httpx2.Response(answer.status_code, headers=headers, content=answer.content)

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def test_a_removed_member_disappears_and_a_refused_list_keeps_what_was_stored(
    fake, running_fake, connected, db, cli
):
    """Next sync: a member removed upstream is gone. A sync refused the members keeps them, in one event."""
    removed = fake.members.pop(0)
    assert cli("sync").exit_code == 0
    assert removed not in _members(db) and _members(db) == _live_members(fake)

    before = _members(db)
    fake.members.clear()  # were the list read, every member would go
    settings = Settings()
    engine = store.create_engine_for(settings)
    try:
        run_sync(settings, engine, connected, http_client=_members_refused(running_fake.url))
    finally:
        engine.dispose()
    assert _members(db) == before
    events = _skipped(cli)
    assert len(events) == 3  # connect, sync, this sync: one each
    latest = max(events, key=lambda e: e["id"])
    assert "/members" in latest["message"] and RBAC in latest["message"]
    assert latest["level"] == "warning"  # members refused is more than the usual Console answer


def test_the_fake_key_connects_and_syncs_with_the_directory_calls_counted(fake, connected, cli):
    """The directory costs 3 + one call per live workspace + one RBAC call on a Console organization."""
    live = sum(1 for w in fake.workspaces if w.archived_at is None)
    member_calls = sum(n for path, n in fake.calls.items() if path.endswith("/members"))
    assert member_calls == live
    assert fake.calls[RBAC] == 1
    assert FAKE_ADMIN_KEY not in cli("events", "--json").out
