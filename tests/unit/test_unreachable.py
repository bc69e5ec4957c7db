"""A failed connection names the address actually used and the way to change it that works (issue 8, item 15)."""

from __future__ import annotations

import httpx2
import pytest

from usageledger.anthropic import AdminApiClient
from usageledger.config import Settings
from usageledger.errors import SyncStoppedError, UpstreamError

KEY = "sk-ant-admin01-fake-test-key-abcdefghijklmnopqrstuvwxyz"


def _refuse(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("connection refused", request=request)


def _client(base_url: str | None, before_call=None) -> AdminApiClient:
    settings = Settings(anthropic_base_url="http://setting.test", max_retries=0)
    http = httpx2.Client(transport=httpx2.MockTransport(_refuse))
    return AdminApiClient(settings, KEY, http_client=http, base_url=base_url, before_call=before_call)


def test_at_connect_the_message_names_the_setting_and_its_address():
    """Connecting uses USAGELEDGER_ANTHROPIC_BASE_URL: the message names its value and the variable."""
    with pytest.raises(UpstreamError) as caught:
        _client(None).get_organization()
    assert "at http://setting.test for /v1/organizations/me" in caught.value.message
    assert "USAGELEDGER_ANTHROPIC_BASE_URL" in caught.value.message
    assert "disconnect" not in caught.value.message


def test_in_a_sync_the_message_names_the_stored_address_and_how_to_change_it():
    """A connection keeps its address: the message names it (without any password) and says reconnect."""
    with pytest.raises(UpstreamError) as caught:
        _client("http://user:hunter2@stored.test:8443").get_organization()
    message = caught.value.message
    assert "at http://stored.test:8443 for" in message and "hunter2" not in message
    assert "disconnect and connect again with USAGELEDGER_ANTHROPIC_BASE_URL" in message


def test_before_call_can_stop_the_client_before_any_request():
    """The sync's permit runs before each call; when it raises, no request is sent."""
    sent: list[httpx2.Request] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, json={})

    def stop() -> None:
        raise SyncStoppedError("Sync stopped: the connection was disconnected.")

    settings = Settings(max_retries=0)
    http = httpx2.Client(transport=httpx2.MockTransport(record))
    client = AdminApiClient(settings, KEY, http_client=http, base_url="http://x.test", before_call=stop)
    with pytest.raises(SyncStoppedError):
        client.get_organization()
    assert sent == []
