"""Several fake organizations behind one URL, told apart by the admin key (the demo's second organization)."""

from __future__ import annotations

import anthropic
import pytest

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, FakeOrganizations, serve_in_thread

SECOND_KEY = "sk-ant-admin01-fake-test-key-second-org-0000000000000"


@pytest.fixture(scope="module")
def running():
    first = FakeOrganization(seed=7, rows_per_day=10)
    second = FakeOrganization(seed=8, rows_per_day=10, name="Globex Fake Labs", admin_key=SECOND_KEY)
    with serve_in_thread(FakeOrganizations(first, second)) as served:
        yield served, first, second


def test_each_key_reads_its_own_organization(running):
    """The SDK sees a different organization (id and name) for each key."""
    served, first, second = running
    seen = {}
    for key in (FAKE_ADMIN_KEY, SECOND_KEY):
        with anthropic.Anthropic(api_key=key, base_url=served.url, max_retries=0) as client:
            seen[key] = client.organization.retrieve()
    assert (seen[FAKE_ADMIN_KEY].id, seen[FAKE_ADMIN_KEY].name) == (
        first.organization.id,
        first.organization.name,
    )
    assert (seen[SECOND_KEY].id, seen[SECOND_KEY].name) == (second.organization.id, "Globex Fake Labs")
    assert first.organization.id != second.organization.id


def test_a_key_of_neither_organization_is_rejected(running):
    served, _, _ = running
    with anthropic.Anthropic(
        api_key="sk-ant-admin01-fake-unknown-000000000000000", base_url=served.url, max_retries=0
    ) as c:
        with pytest.raises(anthropic.AuthenticationError):
            c.organization.retrieve()


def test_the_second_key_is_not_valid_on_the_first_organization():
    """Keys belong to one organization: the first one alone refuses the second's key."""
    first = FakeOrganization(seed=7, rows_per_day=10)
    assert SECOND_KEY not in first.keys and FAKE_ADMIN_KEY in first.keys
