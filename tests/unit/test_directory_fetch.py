"""fetch_directory: the required lists, then the optional ones, which a 403/404 skips and a 401 never does."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx2
import pytest

from usageledger.anthropic import AdminApiClient, fetch_directory
from usageledger.config import Settings
from usageledger.errors import InvalidKeyError, MalformedResponseError
from usageledger.models import RbacGroup, RbacGroupMember, SkippedEndpoint, WorkspaceMember

KEY = "sk-ant-admin01-fake-test-key-abcdefghijklmnopqrstuvwxyz"
PREFIX = "/v1/organizations"
WORKSPACES = [
    {"id": "wrk_live", "name": "Live", "archived_at": None},
    {"id": "wrk_old", "name": "Old", "archived_at": "2026-06-15T12:00:00Z"},
]
Answer = Callable[[httpx2.Request], httpx2.Response | None]
_calls_lock = threading.Lock()  # the lists are asked from several threads


def _list(data: list[dict]) -> httpx2.Response:
    last = data[-1].get("id") or data[-1].get("user_id") if data else None
    return httpx2.Response(200, json={"data": data, "has_more": False, "first_id": None, "last_id": last})


def _error(status: int, kind: str) -> httpx2.Response:
    body = {"type": "error", "error": {"type": kind, "message": f"fake {kind}"}}
    return httpx2.Response(status, json=body, headers={"request-id": f"req_{status}"})


def _rbac_pages(request: httpx2.Request) -> httpx2.Response:
    """Two groups on two PageCursor pages; each group has one member."""
    path = request.url.path
    if path.endswith("/members"):
        group = path.split("/")[-2]
        member = {"user_id": f"user_{group}", "email": f"{group}@x.test", "rbac_group_id": group}
        return httpx2.Response(200, json={"data": [member], "next_page": None})
    if request.url.params.get("page") == "p2":
        return httpx2.Response(200, json={"data": [{"id": "grp_b", "name": "B"}], "next_page": None})
    return httpx2.Response(200, json={"data": [{"id": "grp_a", "name": "A"}], "next_page": "p2"})


def _client(calls: Counter[str], override: Answer | None = None, max_in_flight: int = 4) -> AdminApiClient:
    def handler(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        with _calls_lock:
            calls[path] += 1
        assert request.url.params.get("limit") == "1000"  # every list asks for its largest page
        answer = override(request) if override else None
        if answer is not None:
            return answer
        if path == f"{PREFIX}/workspaces":
            return _list(WORKSPACES)
        if path in (f"{PREFIX}/api_keys", f"{PREFIX}/users"):
            return _list([])
        if path.startswith(f"{PREFIX}/workspaces/"):
            ws = path.split("/")[-2]
            return _list([{"user_id": "user_a", "workspace_id": ws, "workspace_role": "workspace_admin"}])
        if path.startswith(f"{PREFIX}/rbac_groups"):
            return _rbac_pages(request)
        raise AssertionError(f"unexpected call {path}")

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    settings = Settings(max_retries=0, max_in_flight=max_in_flight)
    return AdminApiClient(settings, KEY, http_client=http, base_url="http://fake.test")


def test_every_list_is_read_with_members_of_live_workspaces_only() -> None:
    """Members of the live workspace (not the archived one), both RBAC pages and each group's members."""
    calls: Counter[str] = Counter()
    directory = fetch_directory(_client(calls))
    assert directory.workspace_members == [WorkspaceMember("wrk_live", "user_a", "workspace_admin")]
    assert directory.rbac_groups == [RbacGroup("grp_a", "A"), RbacGroup("grp_b", "B")]
    assert directory.rbac_group_members == [
        RbacGroupMember("grp_a", "user_grp_a", "grp_a@x.test"),
        RbacGroupMember("grp_b", "user_grp_b", "grp_b@x.test"),
    ]
    assert directory.skipped == []
    assert f"{PREFIX}/workspaces/wrk_old/members" not in calls
    assert calls[f"{PREFIX}/rbac_groups"] == 2
    assert sum(calls.values()) == 3 + 1 + 2 + 2  # required lists, one workspace, two group pages, two groups


@pytest.mark.parametrize(("status", "kind"), [(403, "permission_error"), (404, "not_found_error")])
def test_refused_rbac_groups_are_skipped_and_the_rest_is_read(status: int, kind: str) -> None:
    """A Console organization's 403 (or a 404): RBAC lists are None, noted once, members still read."""
    calls: Counter[str] = Counter()

    def refuse(request: httpx2.Request) -> httpx2.Response | None:
        return _error(status, kind) if request.url.path.startswith(f"{PREFIX}/rbac_groups") else None

    directory = fetch_directory(_client(calls, refuse))
    assert directory.rbac_groups is None and directory.rbac_group_members is None
    assert directory.skipped == [SkippedEndpoint(f"{PREFIX}/rbac_groups", status, f"req_{status}")]
    assert directory.workspace_members == [WorkspaceMember("wrk_live", "user_a", "workspace_admin")]
    assert calls[f"{PREFIX}/rbac_groups"] == 1


def test_refused_members_stop_after_the_first_workspace() -> None:
    """One 403 on a workspace's members skips members for this sync: the same key would be refused again."""
    calls: Counter[str] = Counter()
    two_live = [{"id": f"wrk_{i}", "name": str(i), "archived_at": None} for i in range(2)]

    def refuse(request: httpx2.Request) -> httpx2.Response | None:
        if request.url.path == f"{PREFIX}/workspaces":
            return _list(two_live)
        if request.url.path.endswith("/members") and "/workspaces/" in request.url.path:
            return _error(403, "permission_error")
        return None

    directory = fetch_directory(_client(calls, refuse))
    assert directory.workspace_members is None
    assert [s.path for s in directory.skipped] == [f"{PREFIX}/workspaces/{{workspace_id}}/members"]
    assert sum(n for path, n in calls.items() if path.endswith("/members") and "/workspaces/" in path) == 1
    assert directory.rbac_groups is not None


def test_a_401_on_an_optional_list_is_still_a_credential_failure() -> None:
    """A key revoked mid-directory is not skipped as 'not allowed': the sync fails as a credential error."""

    def revoke(request: httpx2.Request) -> httpx2.Response | None:
        return _error(401, "authentication_error") if request.url.path.endswith("/members") else None

    with pytest.raises(InvalidKeyError):
        fetch_directory(_client(Counter(), revoke))


def test_a_repeated_rbac_cursor_is_an_error_not_a_loop() -> None:
    """A PageCursor that hands back the cursor it was given stops with MalformedResponseError."""

    def loop(request: httpx2.Request) -> httpx2.Response | None:
        if request.url.path == f"{PREFIX}/rbac_groups":
            return httpx2.Response(200, json={"data": [{"id": "g", "name": "G"}], "next_page": "same"})
        return None

    with pytest.raises(MalformedResponseError):
        fetch_directory(_client(Counter(), loop))


def test_a_member_without_a_user_id_is_a_malformed_page() -> None:
    """An entry missing a required field is a clear error, never a KeyError."""

    def broken(request: httpx2.Request) -> httpx2.Response | None:
        if "/workspaces/" in request.url.path:
            return _list([{"workspace_id": "wrk_live", "workspace_role": "workspace_user", "id": "x"}])
        return None

    with pytest.raises(MalformedResponseError, match="user_id"):
        fetch_directory(_client(Counter(), broken))


def test_a_cursor_page_without_data_is_malformed() -> None:
    """`{"next_page": null}` alone is not an empty page."""

    def empty(request: httpx2.Request) -> httpx2.Response | None:
        if request.url.path == f"{PREFIX}/rbac_groups":
            return httpx2.Response(200, content=json.dumps({"next_page": None}).encode())
        return None

    with pytest.raises(MalformedResponseError):
        fetch_directory(_client(Counter(), empty))


def test_the_lists_are_asked_side_by_side_with_the_same_calls() -> None:
    """The required lists and the RBAC groups at once, then the first live workspace's members, then the
    others' at once: 4 rounds of latency instead of 11, and not one call more."""
    lock = threading.Lock()
    in_flight, peaks = [0], []
    live = [{"id": f"wrk_{i}", "name": str(i), "archived_at": None} for i in range(4)]

    def slow(request: httpx2.Request) -> httpx2.Response | None:
        with lock:
            in_flight[0] += 1
            peaks.append(in_flight[0])
        time.sleep(0.2)
        with lock:
            in_flight[0] -= 1
        return _list(live) if request.url.path == f"{PREFIX}/workspaces" else None

    calls: Counter[str] = Counter()
    started = time.monotonic()
    directory = fetch_directory(_client(calls, slow, max_in_flight=8))
    elapsed = time.monotonic() - started
    assert sum(calls.values()) == 3 + 4 + 2 + 2  # as one after another: lists, members, RBAC pages, groups
    assert directory.workspace_members is not None and len(directory.workspace_members) == 4
    assert max(peaks) >= 4  # the three lists and the RBAC groups were in flight together
    assert elapsed < 8 * 0.2  # one call after another would take 11 × 0.2 s
