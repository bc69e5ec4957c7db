"""The client classifies every HTTP failure once, at the edge, and observes retries and rate limits."""

from __future__ import annotations

import json

import httpx2
import pytest

from usageledger.anthropic import AdminApiClient
from usageledger.anthropic.directory import fetch_organization
from usageledger.config import Settings
from usageledger.errors import (
    EndpointUnavailableError,
    InvalidKeyError,
    MalformedResponseError,
    PermissionDeniedError,
    RateLimitedError,
    UpstreamError,
)

KEY = "sk-ant-admin01-fake-test-key-abcdefghijklmnopqrstuvwxyz"


def _error(status: int, kind: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    body = {"type": "error", "error": {"type": kind, "message": f"fake {kind}"}}
    return httpx2.Response(status, json=body, headers={"request-id": "req_fake_1", **(headers or {})})


def _client(handler, **settings) -> AdminApiClient:
    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return AdminApiClient(
        Settings(max_retries=settings.pop("max_retries", 2), **settings),
        KEY,
        http_client=http,
        base_url="http://fake.test",
    )


@pytest.mark.parametrize(
    ("status", "kind", "error", "exit_code"),
    [
        (401, "authentication_error", InvalidKeyError, 3),
        (403, "permission_error", PermissionDeniedError, 4),
        (404, "not_found_error", EndpointUnavailableError, 4),
        (400, "invalid_request_error", UpstreamError, 5),
        (500, "api_error", UpstreamError, 5),
        (529, "overloaded_error", UpstreamError, 5),
    ],
)
def test_statuses_become_our_errors_with_exit_codes_and_request_ids(status, kind, error, exit_code):
    """Every failure maps to one error class carrying its exit code and the request id; never the key."""
    client = _client(lambda request: _error(status, kind), max_retries=0)
    with pytest.raises(error) as caught:
        fetch_organization(client)
    assert caught.value.exit_code == exit_code
    assert caught.value.request_id == "req_fake_1"
    assert KEY not in caught.value.message


def test_the_key_is_sent_explicitly_as_a_bearer_token():
    """The SDK (2.10.0) sends the key we pass as `Authorization: Bearer`, not `x-api-key` as the API notes say."""
    seen = {}

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen["key"] = request.headers.get("authorization")
        return httpx2.Response(200, json={"id": "org_fake", "name": "Fake Org", "type": "organization"})

    assert fetch_organization(_client(handler)).name == "Fake Org"
    assert seen["key"] == f"Bearer {KEY}"


def test_retry_after_is_honoured_then_the_call_succeeds_and_the_429_is_noted():
    """Two 429s with a tiny retry-after, then success: three attempts counted, two notices kept."""
    answers = iter([_error(429, "rate_limit_error", {"retry-after-ms": "5"})] * 2)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return next(answers, httpx2.Response(200, json={"id": "org_fake", "name": "Fake Org"}))

    client = _client(handler, max_retries=3)
    assert fetch_organization(client).id == "org_fake"
    assert client.calls == 3
    notices = client.take_rate_limits()
    assert [n.retry_after for n in notices] == [0.005, 0.005]
    assert client.take_rate_limits() == []


def test_a_429_storm_gives_up_after_the_retries_with_exit_code_5():
    client = _client(lambda r: _error(429, "rate_limit_error", {"retry-after-ms": "1"}), max_retries=2)
    with pytest.raises(RateLimitedError) as caught:
        fetch_organization(client)
    assert caught.value.exit_code == 5
    assert client.calls == 3


def test_an_hour_long_retry_after_fails_at_once_instead_of_sleeping():
    """A retry-after beyond the bound is not slept through: one attempt, then RateLimitedError."""
    client = _client(lambda r: _error(429, "rate_limit_error", {"retry-after": "3600"}), max_retries=5)
    with pytest.raises(RateLimitedError) as caught:
        fetch_organization(client)
    assert client.calls == 1
    assert caught.value.retry_after == 3600


def test_a_malformed_body_is_a_malformed_response_error():
    client = _client(lambda r: httpx2.Response(200, content=b'{"id": "org_fake", "na'))
    with pytest.raises(MalformedResponseError):
        fetch_organization(client)


def test_a_connection_failure_is_an_upstream_error():
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    with pytest.raises(UpstreamError, match="Could not reach"):
        fetch_organization(_client(handler, max_retries=0))


def test_analytics_requests_carry_the_beta_header_and_bracket_arrays():
    """The analytics call sends the beta header, group_by[] in brackets and limit 1000."""
    seen = {}

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen["beta"] = request.headers.get("anthropic-beta")
        seen["query"] = (
            request.url.query.decode() if isinstance(request.url.query, bytes) else str(request.url.query)
        )
        return httpx2.Response(200, content=json.dumps({"data": [], "has_more": False}).encode())

    client = _client(handler)
    client.get_analytics_page(
        "usage", {"starting_at": "2026-03-01T00:00:00Z", "group_by": ["model", "workspace_id"], "limit": 1000}
    )
    assert "analytics-usage-cost-2026-08-24" in seen["beta"]
    assert "group_by%5B%5D=model" in seen["query"] or "group_by[]=model" in seen["query"]
    assert "limit=1000" in seen["query"]
