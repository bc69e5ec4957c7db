"""Fixtures for the fake Admin API: one organization served on loopback per module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import anthropic
import httpx
import pytest

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, RunningFake, serve_in_thread

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def fake() -> FakeOrganization:
    """A small deterministic organization whose clock says 2026-11-25."""
    return FakeOrganization(seed=7, rows_per_day=40, today=TODAY)


@pytest.fixture(scope="module")
def running(fake: FakeOrganization) -> Iterator[RunningFake]:
    """The fake served in a daemon thread."""
    with serve_in_thread(fake) as served:
        yield served


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "fake" in request.fixturenames:
        request.getfixturevalue("fake").faults.clear()


@pytest.fixture(scope="module")
def client(running: RunningFake) -> Iterator[anthropic.Anthropic]:
    """The official SDK pointed at the fake, without retries."""
    with anthropic.Anthropic(api_key=FAKE_ADMIN_KEY, base_url=running.url, max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def http(running: RunningFake) -> Iterator[httpx.Client]:
    """A plain HTTP client sending the admin key."""
    with httpx.Client(base_url=running.url, headers={"x-api-key": FAKE_ADMIN_KEY}, timeout=30) as plain:
        yield plain
