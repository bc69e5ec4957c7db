"""The fake's second grain, actor x product x model x workspace x speed, read with the SDK's own models."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import anthropic
import pytest
from anthropic.types.beta.organization import (
    BetaAnalyticsAPIActor,
    BetaAnalyticsFederatedActor,
    BetaAnalyticsReportUserActor,
    BetaAnalyticsServiceAccountActor,
)
from anthropic.types.beta.organization.analytics import BetaAnalyticsCostItem, BetaAnalyticsUsageItem

from usageledger.fake import FakeOrganization
from usageledger.fake.actors import DELETED_USER_NAME

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 15)
ACTOR_GROUP_BY = ["actor", "product", "model", "workspace_id", "speed"]


def _tokens(usage) -> int:
    return (
        usage.uncached_input_tokens
        + usage.output_tokens
        + usage.cache_read_input_tokens
        + usage.cache_creation.ephemeral_5m_input_tokens
        + usage.cache_creation.ephemeral_1h_input_tokens
    )


def _actor_key(actor) -> tuple[str | None, str | None]:
    """The actor as the store keeps it: kind and id (None, None when the server shows none)."""
    if actor is None:
        return (None, None)
    if isinstance(actor, BetaAnalyticsReportUserActor):
        return ("user_actor", actor.user_id)
    if isinstance(actor, BetaAnalyticsServiceAccountActor):
        return ("service_account_actor", actor.service_account_id)
    if isinstance(actor, BetaAnalyticsAPIActor):
        return ("api_actor", actor.api_key_id)
    assert isinstance(actor, BetaAnalyticsFederatedActor)
    provider = actor.provider
    return ("federated_actor", f"{provider.type}:{provider.project_number}:{actor.subject}")


@pytest.fixture(scope="module")
def usage_rows(client: anthropic.Anthropic) -> list[BetaAnalyticsUsageItem]:
    """Every daily row of the actor grain over two weeks, paged 100 at a time by the SDK."""
    return list(
        client.beta.organization.analytics.usage.list(
            starting_at=f"{START}T00:00:00Z",
            ending_at=f"{END}T00:00:00Z",
            time_bucket_width="1d",
            limit=100,
            order_by="time",
            order="asc",
            group_by=ACTOR_GROUP_BY,
        )
    )


def test_actor_rows_parse_and_match_the_truth(
    usage_rows: list[BetaAnalyticsUsageItem], fake: FakeOrganization
) -> None:
    """Summed per stored key (null actors as one), the SDK's rows equal the fake's actor-grain truth."""
    assert usage_rows and all(isinstance(r, BetaAnalyticsUsageItem) for r in usage_rows)
    stored: dict[tuple, int] = defaultdict(int)
    for r in usage_rows:
        g = r.group
        stored[(r.starting_at.date(), *_actor_key(g.actor), g.product, g.model, g.workspace_id, g.speed)] += (
            _tokens(r.usage)
        )
    truth = {
        (t.day, *t.dims[1:]): t.uncached_input_tokens
        + t.output_tokens
        + t.cache_read_input_tokens
        + t.cache_creation_5m_input_tokens
        + t.cache_creation_1h_input_tokens
        for t in fake.truth_actor_usage(START, END)
    }
    assert dict(stored) == truth


def test_both_grains_add_up_to_the_same_days(
    usage_rows: list[BetaAnalyticsUsageItem], fake: FakeOrganization
) -> None:
    """Per day, the actor grain's tokens and requests equal the daily grain's."""
    by_actor: Counter[tuple[dt.date, str]] = Counter()
    for r in usage_rows:
        by_actor[(r.starting_at.date(), "tokens")] += _tokens(r.usage)
        by_actor[(r.starting_at.date(), "requests")] += r.usage.requests or 0
    daily: Counter[tuple[dt.date, str]] = Counter()
    for t in fake.truth_usage(START, END):
        daily[(t.day, "tokens")] += (
            t.uncached_input_tokens
            + t.output_tokens
            + t.cache_read_input_tokens
            + t.cache_creation_5m_input_tokens
            + t.cache_creation_1h_input_tokens
        )
        daily[(t.day, "requests")] += t.requests or 0
    assert by_actor == daily


def test_identities_the_server_cannot_show_are_separate_null_rows(
    usage_rows: list[BetaAnalyticsUsageItem],
) -> None:
    """Some day holds two or more rows with `actor: null` and identical visible dimensions."""
    null_rows = Counter(
        (r.starting_at, r.group.product, r.group.model, r.group.workspace_id, r.group.speed)
        for r in usage_rows
        if r.group.actor is None
    )
    assert null_rows and max(null_rows.values()) >= 2


def test_every_kind_of_actor_appears(usage_rows: list[BetaAnalyticsUsageItem]) -> None:
    """Users, service accounts, federated identities, API keys and null actors all have usage."""
    kinds = {type(r.group.actor) for r in usage_rows}
    assert kinds >= {
        BetaAnalyticsReportUserActor,
        BetaAnalyticsServiceAccountActor,
        BetaAnalyticsFederatedActor,
        BetaAnalyticsAPIActor,
        type(None),
    }


def test_deleted_users_are_shown_as_deleted(
    usage_rows: list[BetaAnalyticsUsageItem], fake: FakeOrganization
) -> None:
    """A removed user's usage names "Deleted User", has no email and is not in /users."""
    deleted = [
        r.group.actor
        for r in usage_rows
        if isinstance(r.group.actor, BetaAnalyticsReportUserActor) and r.group.actor.deleted
    ]
    assert deleted
    listed = {u.id for u in fake.directory.users}
    assert all(a.name == DELETED_USER_NAME and a.email_address is None for a in deleted)
    assert all(a.user_id not in listed for a in deleted)
    shown = [r.group.actor for r in usage_rows if isinstance(r.group.actor, BetaAnalyticsReportUserActor)]
    assert any(a.email_address and not a.deleted for a in shown)


def test_code_execution_has_no_product(usage_rows: list[BetaAnalyticsUsageItem]) -> None:
    """Rows without a model (code execution spans) report `product: null`; the others name a product."""
    assert any(r.group.model is None for r in usage_rows)
    assert all((r.group.product is None) == (r.group.model is None) for r in usage_rows)


def test_keys_created_by_service_accounts_and_removed_users(
    client: anthropic.Anthropic, fake: FakeOrganization
) -> None:
    """Some keys were created by a service account, some by a user /users no longer lists."""
    keys = list(client.organization.api_keys.list(limit=100))
    listed = {u.id for u in fake.directory.users}
    assert any(k.created_by.type == "service_account" for k in keys)
    assert any(k.created_by.type == "user" and k.created_by.id not in listed for k in keys)


def test_actor_cost_fans_out_by_cost_and_token_type(
    client: anthropic.Anthropic, fake: FakeOrganization
) -> None:
    """Actor-grain cost with cost_type and token_type parses, has null requests, and sums to the truth."""
    rows = list(
        client.beta.organization.analytics.cost.list(
            starting_at=f"{START}T00:00:00Z",
            ending_at=f"{END}T00:00:00Z",
            time_bucket_width="1d",
            limit=200,
            group_by=[*ACTOR_GROUP_BY, "cost_type", "token_type"],
        )
    )
    assert all(isinstance(r, BetaAnalyticsCostItem) and r.cost.requests is None for r in rows)
    assert {r.group.cost_type for r in rows} >= {"tokens", "web_search", "code_execution"}
    per_day: Counter[dt.date] = Counter()
    for r in rows:
        per_day[r.starting_at.date()] += Decimal(r.cost.amount)
    truth: Counter[dt.date] = Counter()
    for t in fake.truth_actor_cost(START, END):
        truth[t.day] += t.amount_cents
    assert per_day == truth


def test_products_filter(client: anthropic.Anthropic) -> None:
    """`products[]` keeps only that product's rows; an unknown product is a 400."""
    rows = list(
        client.beta.organization.analytics.usage.list(
            starting_at=f"{START}T00:00:00Z",
            ending_at=f"{END}T00:00:00Z",
            time_bucket_width="1d",
            limit=100,
            group_by=["product"],
            products=["claude_code"],
        )
    )
    assert rows and {r.group.product for r in rows} == {"claude_code"}
    with pytest.raises(anthropic.BadRequestError):
        client.beta.organization.analytics.usage.list(
            starting_at=f"{START}T00:00:00Z",
            products=["no_such_product"],  # type: ignore[list-item]
        )
