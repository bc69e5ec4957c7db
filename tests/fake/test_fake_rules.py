"""Every rule the fake enforces like the real API: auth, the beta header, ranges, limits, cursors."""

from __future__ import annotations

import httpx
import pytest

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization

BETA = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}

USAGE = "/v1/organizations/analytics/usage"
COST = "/v1/organizations/analytics/cost"
CLASSIC_USAGE = "/v1/organizations/usage_report/messages"
CLASSIC_COST = "/v1/organizations/cost_report"
WEEK = {"starting_at": "2026-03-01T00:00:00Z", "ending_at": "2026-03-08T00:00:00Z"}


def _error(response: httpx.Response, status: int, error_type: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type
    assert response.headers["request-id"]
    return str(body["error"]["message"])


@pytest.fixture(scope="module", autouse=True)
def _keys(fake: FakeOrganization) -> None:
    fake.add_key("sk-ant-admin01-fake-revoked", "revoked")
    fake.add_key("sk-ant-admin01-fake-noscope", "no_usage_scope")
    fake.add_key("sk-ant-admin01-fake-noanalytics", "analytics_off")
    fake.add_key("sk-ant-admin01-fake-second-admin", "admin")


@pytest.mark.parametrize(
    ("key", "path", "status", "error_type"),
    [
        (None, "/v1/organizations/me", 401, "authentication_error"),
        ("sk-ant-admin01-fake-unknown", "/v1/organizations/me", 401, "authentication_error"),
        ("sk-ant-admin01-fake-revoked", "/v1/organizations/me", 401, "authentication_error"),
        ("sk-ant-api03-fake-standard-key", "/v1/organizations/me", 401, "authentication_error"),
        ("sk-ant-api03-fake-standard-key", USAGE, 401, "authentication_error"),
        ("sk-ant-admin01-fake-noscope", USAGE, 403, "permission_error"),
        ("sk-ant-admin01-fake-noscope", COST, 403, "permission_error"),
        ("sk-ant-admin01-fake-noscope", CLASSIC_USAGE, 403, "permission_error"),
        ("sk-ant-admin01-fake-noscope", CLASSIC_COST, 403, "permission_error"),
        ("sk-ant-admin01-fake-noanalytics", USAGE, 403, "permission_error"),
        ("sk-ant-admin01-fake-noanalytics", COST, 403, "permission_error"),
    ],
)
def test_auth_failures(running, key: str | None, path: str, status: int, error_type: str) -> None:
    """Missing, unknown, revoked and standard keys get 401; keys without the scope get 403."""
    headers = {**BETA, **({"x-api-key": key} if key else {})}
    response = httpx.get(running.url + path, params=WEEK, headers=headers)
    _error(response, status, error_type)


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("sk-ant-admin01-fake-noscope", "/v1/organizations/me"),
        ("sk-ant-admin01-fake-noscope", "/v1/organizations/api_keys"),
        ("sk-ant-admin01-fake-noanalytics", CLASSIC_USAGE),
        ("sk-ant-admin01-fake-noanalytics", CLASSIC_COST),
        ("sk-ant-admin01-fake-second-admin", USAGE),
    ],
)
def test_limited_keys_still_reach_what_they_may(running, key: str, path: str) -> None:
    """no_usage_scope keys read /me and the directory; analytics_off keys read the classic reports."""
    response = httpx.get(running.url + path, params=WEEK, headers={**BETA, "x-api-key": key})
    assert response.status_code == 200, response.text
    assert response.headers["request-id"]


def test_bearer_authorization_is_accepted(running) -> None:
    """The SDK sends the key as `Authorization: Bearer`; the fake accepts it like x-api-key."""
    response = httpx.get(
        running.url + "/v1/organizations/me", headers={"authorization": f"Bearer {FAKE_ADMIN_KEY}"}
    )
    assert response.status_code == 200


def test_unknown_path_is_404(http: httpx.Client) -> None:
    """A path the API does not have answers 404 not_found_error in the envelope."""
    _error(http.get("/v1/organizations/nothing-here"), 404, "not_found_error")


@pytest.mark.parametrize(
    ("path", "params", "fragment"),
    [
        (USAGE, {"ending_at": "2026-03-08T00:00:00Z"}, "starting_at"),
        (USAGE, {"starting_at": "yesterday"}, "RFC 3339"),
        (USAGE, {"starting_at": "2026-03-01T00:00:00"}, "timezone"),
        (USAGE, {"starting_at": "2025-12-31T00:00:00Z", "ending_at": "2026-01-05T00:00:00Z"}, "2026-01-01"),
        (USAGE, {"starting_at": "2026-12-01T00:00:00Z"}, "365"),
        (USAGE, {"starting_at": "2026-03-01T00:00:00Z", "time_bucket_width": "1d"}, "ending_at"),
        (USAGE, {"starting_at": "2026-03-01T00:00:00Z", "ending_at": "2026-04-02T00:00:00Z"}, "31 days"),
        (USAGE, {**WEEK, "ending_at": "2026-02-01T00:00:00Z"}, "after starting_at"),
        (USAGE, {**WEEK, "time_bucket_width": "1w"}, "time_bucket_width"),
        (USAGE, {**WEEK, "time_bucket_width": "1m"}, "1d"),
        (USAGE, {**WEEK, "limit": "0"}, "limit"),
        (USAGE, {**WEEK, "limit": "1001"}, "limit"),
        (USAGE, {**WEEK, "limit": "many"}, "limit"),
        (USAGE, {**WEEK, "group_by[]": "colour"}, "group_by"),
        (USAGE, {**WEEK, "group_by[]": "cost_type"}, "group_by"),
        (
            USAGE,
            {
                **WEEK,
                "group_by[]": ["model", "workspace_id", "api_key_id", "service_tier", "speed", "product"],
            },
            "at most 5",
        ),
        (USAGE, {**WEEK, "order_by": "amount"}, "order_by"),
        (COST, {**WEEK, "order_by": "total_tokens"}, "order_by"),
        (USAGE, {**WEEK, "order": "sideways"}, "order"),
        (USAGE, {**WEEK, "service_tiers[]": "gold"}, "service_tiers"),
        (USAGE, {**WEEK, "context_windows[]": "1M+"}, "context_windows"),
        (USAGE, {**WEEK, "page": "not-a-cursor"}, "page"),
        (CLASSIC_USAGE, {"limit": "3"}, "starting_at"),
        (CLASSIC_USAGE, {**WEEK, "limit": "32"}, "limit"),
        (CLASSIC_USAGE, {**WEEK, "group_by[]": "description"}, "group_by"),
        (CLASSIC_USAGE, {**WEEK, "group_by[]": "speed"}, "fast-mode"),
        (CLASSIC_USAGE, {**WEEK, "bucket_width": "1h"}, "1d"),
        (CLASSIC_USAGE, {**WEEK, "page": "page_%%%"}, "page"),
        (CLASSIC_COST, {**WEEK, "group_by[]": "model"}, "group_by"),
        (CLASSIC_COST, {**WEEK, "bucket_width": "1h"}, "bucket_width"),
    ],
)
def test_invalid_requests_are_400(http: httpx.Client, path: str, params: dict, fragment: str) -> None:
    """Each invalid parameter is a 400 invalid_request_error whose message names the problem."""
    message = _error(http.get(path, params=params, headers=BETA), 400, "invalid_request_error")
    assert fragment.lower() in message.lower()


@pytest.mark.parametrize("path", [USAGE, COST])
def test_analytics_requires_the_beta_header(http: httpx.Client, path: str) -> None:
    """Without `anthropic-beta: analytics-usage-cost-2026-08-24` the analytics endpoints answer 400."""
    message = _error(http.get(path, params=WEEK), 400, "invalid_request_error")
    assert "analytics-usage-cost-2026-08-24" in message
    ok = http.get(
        path, params=WEEK, headers={"anthropic-beta": "other-beta, analytics-usage-cost-2026-08-24"}
    )
    assert ok.status_code == 200


def test_cursor_of_another_query_is_rejected(http: httpx.Client) -> None:
    """A page cursor only works with the parameters that produced it."""
    first = http.get(USAGE, params={**WEEK, "group_by[]": "model", "limit": 2}, headers=BETA).json()
    assert first["has_more"]
    other = http.get(
        USAGE,
        params={**WEEK, "group_by[]": "api_key_id", "limit": 2, "page": first["next_page"]},
        headers=BETA,
    )
    assert "different query" in _error(other, 400, "invalid_request_error")
    same = http.get(
        USAGE, params={**WEEK, "group_by[]": "model", "limit": 5, "page": first["next_page"]}, headers=BETA
    )
    assert same.status_code == 200


def test_limit_defaults_to_20(http: httpx.Client) -> None:
    """Without `limit` an analytics page has 20 rows; a classic page has 7 daily buckets."""
    page = http.get(
        USAGE, params={**WEEK, "time_bucket_width": "1d", "group_by[]": "api_key_id"}, headers=BETA
    ).json()
    assert len(page["data"]) == 20 and page["has_more"] is True
    classic = http.get(CLASSIC_USAGE, params={"starting_at": "2026-03-01T00:00:00Z"}).json()
    assert (
        len(classic["data"]) == 7 and classic["has_more"] is True and classic["next_page"].startswith("page_")
    )


def test_ungrouped_range_is_one_row_rounded_to_the_hour(http: httpx.Client) -> None:
    """Without time_bucket_width one row covers the range, its bounds rounded down to the hour."""
    params = {"starting_at": "2026-03-01T00:30:00Z", "ending_at": "2026-03-08T05:45:10+00:00"}
    page = http.get(USAGE, params=params, headers=BETA).json()
    assert len(page["data"]) == 1 and page["has_more"] is False and page["next_page"] is None
    row = page["data"][0]
    assert (row["starting_at"], row["ending_at"]) == ("2026-03-01T00:00:00Z", "2026-03-08T05:00:00Z")
    assert all(value is None for value in row["group"].values())
    assert page["data_refreshed_at"].endswith("Z")


def test_filters_narrow_the_rows(http: httpx.Client, fake: FakeOrganization) -> None:
    """models[], service_tiers[] and api_key_ids[] keep only matching rows."""
    params = {
        **WEEK,
        "time_bucket_width": "1d",
        "group_by[]": ["model", "service_tier"],
        "limit": 1000,
        "models[]": ["claude-sonnet-4-5", "claude-haiku-4-5"],
        "service_tiers[]": "standard",
    }
    rows = http.get(USAGE, params=params, headers=BETA).json()["data"]
    assert rows and {r["group"]["model"] for r in rows} <= {"claude-sonnet-4-5", "claude-haiku-4-5"}
    assert {r["group"]["service_tier"] for r in rows} == {"standard"}
    key = fake.directory.api_keys[0].id
    keyed = http.get(
        USAGE, params={**WEEK, "api_key_ids[]": key, "group_by[]": "api_key_id"}, headers=BETA
    ).json()
    assert [r["group"]["api_key_id"] for r in keyed["data"]] in ([key], [])


def test_classic_reports_default_workspace_as_null(http: httpx.Client, fake: FakeOrganization) -> None:
    """Classic results carry workspace_id null for the default workspace; analytics use its real id."""
    params = {**WEEK, "group_by[]": "workspace_id", "limit": 31}
    classic = http.get(CLASSIC_USAGE, params=params).json()
    workspaces = {r["workspace_id"] for b in classic["data"] for r in b["results"]}
    assert None in workspaces and fake.default_workspace_id not in workspaces
    analytics = http.get(USAGE, params={**WEEK, "group_by[]": "workspace_id"}, headers=BETA).json()
    assert fake.default_workspace_id in {r["group"]["workspace_id"] for r in analytics["data"]}
