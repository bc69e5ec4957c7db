"""Every fault kind the plan can inject, and the call counter."""

from __future__ import annotations

import json
import time

import anthropic
import httpx
import pytest

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization

BETA = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
USAGE = "/v1/organizations/analytics/usage"
PARAMS = {
    "starting_at": "2026-03-01T00:00:00Z",
    "ending_at": "2026-03-08T00:00:00Z",
    "group_by[]": "api_key_id",
    "limit": 2,
}


@pytest.mark.parametrize(
    ("kind", "status", "error_type"),
    [
        ("rate_limit", 429, "rate_limit_error"),
        ("server_error", 500, "api_error"),
        ("overloaded", 529, "overloaded_error"),
    ],
)
def test_error_faults(
    http: httpx.Client, fake: FakeOrganization, kind: str, status: int, error_type: str
) -> None:
    """Error faults answer their status and envelope `times` times, then the endpoint recovers."""
    fake.faults.add(USAGE, kind, times=2, retry_after=1.5)
    for _ in range(2):
        response = http.get(USAGE, params=PARAMS, headers=BETA)
        assert response.status_code == status
        assert response.json()["error"]["type"] == error_type and response.headers["request-id"]
    if kind == "rate_limit":
        assert (response.headers["retry-after"], response.headers["retry-after-ms"]) == ("2", "1500")
    assert http.get(USAGE, params=PARAMS, headers=BETA).status_code == 200


def test_sdk_retries_through_a_rate_limit(running, fake: FakeOrganization) -> None:
    """The SDK's own retry honours the fake's 429 and then succeeds."""
    fake.faults.add("/v1/organizations/me", "rate_limit", times=1, retry_after=0.01)
    fake.calls.reset()
    with anthropic.Anthropic(
        api_key="sk-ant-admin01-fake-demo-key-0000000000000000000000", base_url=running.url, max_retries=2
    ) as client:
        assert client.organization.retrieve().id == fake.organization.id
    assert fake.calls["/v1/organizations/me"] == 2


def test_slow_fault_delays_then_answers(http: httpx.Client, fake: FakeOrganization) -> None:
    """A slow fault waits `delay` seconds before a normal answer."""
    fake.faults.add("/v1/organizations/me", "slow", delay=0.3)
    started = time.monotonic()
    assert http.get("/v1/organizations/me").status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("kind", ["truncated", "bad_json"])
def test_broken_bodies(http: httpx.Client, fake: FakeOrganization, kind: str) -> None:
    """truncated and bad_json answer 200 with a body that is not valid JSON."""
    fake.faults.add(USAGE, kind)
    response = http.get(USAGE, params=PARAMS, headers=BETA)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_repeated_cursor_on_reports(http: httpx.Client, fake: FakeOrganization) -> None:
    """repeated_cursor hands back the cursor that was sent (or one to the same first page)."""
    first = http.get(USAGE, params=PARAMS, headers=BETA).json()
    fake.faults.add(USAGE, "repeated_cursor", times=2)
    again = http.get(USAGE, params={**PARAMS, "page": first["next_page"]}, headers=BETA).json()
    assert again["next_page"] == first["next_page"] and again["has_more"] is True
    looped = http.get(USAGE, params=PARAMS, headers=BETA).json()
    replay = http.get(USAGE, params={**PARAMS, "page": looped["next_page"]}, headers=BETA).json()
    assert replay["data"] == first["data"]
    fake.faults.add("/v1/organizations/cost_report", "repeated_cursor")
    classic = http.get("/v1/organizations/cost_report", params={"starting_at": "2026-03-01T00:00:00Z"}).json()
    assert classic["has_more"] is True
    resent = http.get(
        "/v1/organizations/cost_report",
        params={"starting_at": "2026-03-01T00:00:00Z", "page": classic["next_page"]},
    ).json()
    assert resent["data"][0]["starting_at"] == "2026-03-01T00:00:00Z"


def test_repeated_cursor_on_directory(http: httpx.Client, fake: FakeOrganization) -> None:
    """On a directory list, repeated_cursor repeats the after_id that was sent as last_id."""
    first = http.get("/v1/organizations/api_keys", params={"limit": 2}).json()
    fake.faults.add("/v1/organizations/api_keys", "repeated_cursor")
    page = http.get("/v1/organizations/api_keys", params={"limit": 2, "after_id": first["last_id"]}).json()
    assert page["last_id"] == first["last_id"] and page["has_more"] is True


def test_missing_field_drops_has_more(http: httpx.Client, fake: FakeOrganization) -> None:
    """missing_field answers a page without `has_more`."""
    fake.faults.add(USAGE, "missing_field")
    page = http.get(USAGE, params=PARAMS, headers=BETA).json()
    assert "has_more" not in page and "data" in page


def test_faults_match_by_prefix_and_clear(http: httpx.Client, fake: FakeOrganization) -> None:
    """A prefix covers every path below it; clear() forgets pending faults; unknown kinds are refused."""
    fake.faults.add("/v1/organizations/analytics", "server_error", times=5)
    assert http.get(USAGE, params=PARAMS, headers=BETA).status_code == 500
    assert http.get("/v1/organizations/me").status_code == 200
    fake.faults.clear()
    assert http.get(USAGE, params=PARAMS, headers=BETA).status_code == 200
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake.faults.add(USAGE, "gremlins")


def test_calls_count_every_request_per_path(http: httpx.Client, fake: FakeOrganization) -> None:
    """`calls` counts requests per path, failed ones included, and resets."""
    fake.calls.reset()
    fake.faults.add("/v1/organizations/users", "server_error")
    http.get("/v1/organizations/users")
    http.get("/v1/organizations/users")
    http.get("/v1/organizations/me")
    assert fake.calls == {"/v1/organizations/users": 2, "/v1/organizations/me": 1}
    fake.calls.reset()
    assert sum(fake.calls.values()) == 0


def test_latency_delays_every_request(http: httpx.Client, fake: FakeOrganization) -> None:
    """With a latency set, even a directory call answers only after it; clear() takes it away."""
    fake.faults.set_capacity(latency=0.2)
    started = time.monotonic()
    assert http.get("/v1/organizations/me").status_code == 200
    assert time.monotonic() - started >= 0.2
    fake.faults.clear()
    assert fake.faults.latency == 0.0 and fake.faults.max_in_flight is None


def test_the_fakes_own_work_on_a_request_counts_within_its_latency(
    http: httpx.Client, fake: FakeOrganization
) -> None:
    """A distant API's latency includes its servers' work: a request the fake spends 0.3 s on (a `slow`
    fault stands for a page that is long to build) is answered 0.5 s after it arrived, not 0.8 s; the
    plan counts how long its answers took."""
    fake.faults.set_capacity(latency=0.5)
    fake.faults.add("/v1/organizations/me", "slow", delay=0.3)
    started = time.monotonic()
    assert http.get("/v1/organizations/me").status_code == 200
    took = time.monotonic() - started
    assert 0.5 <= took < 0.75
    assert fake.faults.answered == 1
    assert 0.5 <= fake.faults.slowest_answer <= took
    assert fake.faults.mean_answer_seconds() == fake.faults.slowest_answer


def test_requests_above_the_in_flight_cap_get_429_with_retry_after(running, fake: FakeOrganization) -> None:
    """Cap 2, five requests at once: two are answered, three turned away at once with retry-after."""
    import concurrent.futures

    fake.faults.set_capacity(latency=0.3, max_in_flight=2, retry_after=1.5)

    def get(_: int) -> httpx.Response:
        with httpx.Client(base_url=running.url, headers={"x-api-key": FAKE_ADMIN_KEY}, timeout=30) as one:
            return one.get("/v1/organizations/me")

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(get, range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429, 429, 429]
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert (refused.headers["retry-after"], refused.headers["retry-after-ms"]) == ("2", "1500")
    assert fake.faults.peak_in_flight == 2 and fake.faults.turned_away == 3 and fake.faults.in_flight == 0


def test_capacity_values_are_checked() -> None:
    """A negative latency or a cap below one is a mistake in the test, said at once."""
    plan = FakeOrganization(seed=1, rows_per_day=1).faults
    with pytest.raises(ValueError, match="latency"):
        plan.set_capacity(latency=-1)
    with pytest.raises(ValueError, match="max_in_flight"):
        plan.set_capacity(max_in_flight=0)
