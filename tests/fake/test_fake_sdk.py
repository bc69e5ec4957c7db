"""The official SDK (2.10.0) parses every endpoint of the fake with its own models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import anthropic
from anthropic.types import OrganizationInfo
from anthropic.types.beta.organization.analytics import BetaAnalyticsCostItem, BetaAnalyticsUsageItem
from anthropic.types.organization import APIKey, OrganizationUser, Workspace

from usageledger.fake import FakeOrganization

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 8)


def _tokens(usage) -> int:
    return (
        usage.uncached_input_tokens
        + usage.output_tokens
        + usage.cache_read_input_tokens
        + usage.cache_creation.ephemeral_5m_input_tokens
        + usage.cache_creation.ephemeral_1h_input_tokens
    )


def test_organization_me(client: anthropic.Anthropic, fake: FakeOrganization) -> None:
    """/me parses as OrganizationInfo and names the fake's organization."""
    info = client.organization.retrieve()
    assert isinstance(info, OrganizationInfo)
    assert (info.id, info.name, info.type) == (fake.organization.id, fake.organization.name, "organization")


def test_directory_lists_page_through_everything(client: anthropic.Anthropic, fake: FakeOrganization) -> None:
    """Workspaces, API keys and users auto-paginate (limit 3) to the whole directory."""
    workspaces = list(
        client.organization.workspaces.list(include_default=True, include_archived=True, limit=3)
    )
    keys = list(client.organization.api_keys.list(limit=3))
    users = list(client.organization.users.list(limit=3))
    assert all(isinstance(w, Workspace) for w in workspaces)
    assert all(isinstance(k, APIKey) for k in keys)
    assert all(isinstance(u, OrganizationUser) for u in users)
    assert [w.id for w in workspaces] == [w.id for w in fake.directory.workspaces]
    assert [k.id for k in keys] == [k.id for k in fake.directory.api_keys]
    assert [u.id for u in users] == [u.id for u in fake.directory.users]
    assert len(keys) >= 10 and len(workspaces) >= 4


def test_default_and_archived_workspaces_are_opt_in(
    client: anthropic.Anthropic, fake: FakeOrganization
) -> None:
    """Without include_default/include_archived the default and archived workspaces are left out."""
    listed = {w.id for w in client.organization.workspaces.list()}
    assert fake.default_workspace_id not in listed
    assert all(w.archived_at is None for w in client.organization.workspaces.list())
    assert len(listed) == len(fake.directory.workspaces) - 2


def test_analytics_usage_auto_pagination_matches_truth(
    client: anthropic.Anthropic, fake: FakeOrganization
) -> None:
    """Every daily row of the full grouping, across pages, sums to the ground truth."""
    pages = client.beta.organization.analytics.usage.list(
        starting_at=f"{START}T00:00:00Z",
        ending_at=f"{END}T00:00:00Z",
        time_bucket_width="1d",
        limit=37,
        group_by=["workspace_id", "api_key_id", "model", "service_tier", "context_window"],
    )
    rows = list(pages)
    assert all(isinstance(r, BetaAnalyticsUsageItem) for r in rows)
    truth = fake.truth_usage(START, END)
    assert sum(_tokens(r.usage) for r in rows) == sum(
        t.uncached_input_tokens
        + t.output_tokens
        + t.cache_read_input_tokens
        + t.cache_creation_5m_input_tokens
        + t.cache_creation_1h_input_tokens
        for t in truth
    )
    assert sum(r.usage.requests or 0 for r in rows) == sum(t.requests or 0 for t in truth)
    assert sum(r.usage.server_tool_use.web_search_requests for r in rows) == sum(
        t.web_search_requests for t in truth
    )
    assert pages.data_refreshed_at is not None and pages.data_refreshed_at.tzinfo is not None


def test_analytics_cost_auto_pagination_matches_truth(
    client: anthropic.Anthropic, fake: FakeOrganization
) -> None:
    """Cost rows parse, amounts are decimal strings in cents, and they sum to the truth."""
    rows = list(
        client.beta.organization.analytics.cost.list(
            starting_at=f"{START}T00:00:00Z",
            ending_at=f"{END}T00:00:00Z",
            time_bucket_width="1d",
            limit=50,
            group_by=["workspace_id", "model"],
        )
    )
    assert all(isinstance(r, BetaAnalyticsCostItem) and r.cost.currency == "USD" for r in rows)
    truth = fake.truth_cost(START, END)
    assert sum(Decimal(r.cost.amount) for r in rows) == sum(t.amount_cents for t in truth)
    assert sum(Decimal(r.cost.list_amount) for r in rows) == sum(t.list_amount_cents for t in truth)
    assert all(Decimal(r.cost.list_amount) >= Decimal(r.cost.amount) > 0 for r in rows)


def test_classic_endpoints_parse(client: anthropic.Anthropic, fake: FakeOrganization) -> None:
    """The classic report endpoints answer buckets the SDK's generic client reads."""
    usage = client.get(
        "/v1/organizations/usage_report/messages",
        cast_to=object,
        options={
            "params": {
                "starting_at": f"{START}T00:00:00Z",
                "ending_at": f"{END}T00:00:00Z",
                "group_by": ["model"],
                "limit": 31,
            }
        },
    )
    cost = client.get(
        "/v1/organizations/cost_report",
        cast_to=object,
        options={
            "params": {"starting_at": f"{START}T00:00:00Z", "ending_at": f"{END}T00:00:00Z", "limit": 31}
        },
    )
    assert isinstance(usage, dict) and isinstance(cost, dict)
    assert len(usage["data"]) == len(cost["data"]) == 7 and usage["has_more"] is False
    assert usage["data"][0]["starting_at"] == f"{START}T00:00:00Z"
    assert usage["data"][0]["ending_at"] == f"{START + dt.timedelta(days=1)}T00:00:00Z"
    total = sum(r["uncached_input_tokens"] for b in usage["data"] for r in b["results"])
    assert total == sum(t.uncached_input_tokens for t in fake.truth_usage(START, END))
