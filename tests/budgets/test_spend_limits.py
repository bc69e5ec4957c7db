"""Anthropic's spend limits: the fake serves them as the SDK models them, a sync stores them, a refusal is an
event and never a failed sync (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest
from anthropic.types.beta.organization import BetaSpendLimit
from sqlalchemy import create_engine, select

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, serve_in_thread
from usageledger.store.spend_limits import anthropic_spend_limits


@pytest.fixture(scope="module")
def sdk() -> Iterator[tuple[FakeOrganization, anthropic.Anthropic]]:
    fake = FakeOrganization(seed=5, rows_per_day=10)
    with (
        serve_in_thread(fake) as served,
        anthropic.Anthropic(api_key=FAKE_ADMIN_KEY, base_url=served.url, max_retries=0) as client,
    ):
        yield fake, client


def test_the_sdk_parses_every_limit_across_pages(sdk) -> None:
    """Two a page, the SDK's pager walks all four; amounts are minor-unit strings or null; the filter works."""
    fake, client = sdk
    limits = list(client.beta.organization.spend_limits.list(limit=2))
    assert all(isinstance(limit, BetaSpendLimit) for limit in limits)
    assert [limit.id for limit in limits] == [item["id"] for item in fake.spend_limits.limits]
    assert {limit.scope.type for limit in limits} == {"organization", "usage_tier", "workspace"}
    organization = next(limit for limit in limits if limit.scope.type == "organization")
    assert (organization.amount, organization.currency, organization.period) == ("5000000", "USD", "monthly")
    assert any(limit.amount is None for limit in limits)  # a workspace limit without a numeric cap
    workspaces = list(client.beta.organization.spend_limits.list(scope_type=["workspace"]))
    assert {w.scope.type for w in workspaces} == {"workspace"} and len(workspaces) == 2


@pytest.mark.parametrize(
    ("mode", "error", "code"),
    [("forbidden", anthropic.PermissionDeniedError, None),
     ("unsupported", anthropic.BadRequestError, "organization_type_not_supported")],
)  # fmt: skip
def test_refusals_are_the_sdks_errors(sdk, mode, error, code) -> None:
    """403 for a key that may not read them; 400 organization_type_not_supported outside the preview."""
    fake, client = sdk
    fake.spend_limits.mode = mode
    try:
        with pytest.raises(error) as caught:
            list(client.beta.organization.spend_limits.list())
    finally:
        fake.spend_limits.mode = "console"
    assert caught.value.error_code == code


def _stored(url: str) -> set[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            t = anthropic_spend_limits
            return set(conn.execute(select(t.c.id, t.c.scope_type, t.c.scope_id, t.c.amount_minor)).all())
    finally:
        engine.dispose()


def _expected(fake: FakeOrganization) -> set[tuple]:
    return {
        (item["id"], item["scope"]["type"], item["scope"].get("workspace_id", ""),
         None if item["amount"] is None else int(item["amount"]))
        for item in fake.spend_limits.limits
    }  # fmt: skip


def test_a_sync_stores_the_limits_as_listed(fake, connected, cli_env) -> None:
    """After the first sync the stored limits are the fake's, amounts in minor units (cents)."""
    assert _stored(cli_env["USAGELEDGER_DATABASE_URL"]) == _expected(fake)


@pytest.mark.parametrize("mode", ["forbidden", "unsupported"])
def test_a_refused_read_is_an_event_the_sync_succeeds_and_the_stored_limits_stay(
    fake, connected, cli, cli_env, mode
) -> None:
    """403 or organization_type_not_supported: exit 0, one spend_limits_skipped event, the limits kept."""
    fake.spend_limits.mode = mode
    result = cli("sync")
    assert result.exit_code == 0, result.err
    events = [e for e in cli("events", "--json").json() if e["kind"] == "spend_limits_skipped"]
    assert len(events) == 1 and events[0]["level"] == "info"
    assert "sync went on" in events[0]["message"]
    assert _stored(cli_env["USAGELEDGER_DATABASE_URL"]) == _expected(fake)
    statuses = [e["kind"] for e in cli("events", "--json").json()]
    assert "sync_failed" not in statuses


def test_enterprise_scopes_and_a_malformed_amount() -> None:
    """User, RBAC group and seat tier scopes keep their id; a non-integer amount is a malformed page."""
    from usageledger.anthropic.spend_limits import parse_spend_limit
    from usageledger.errors import MalformedResponseError

    base = {"id": "spl_1", "currency": "usd", "period": "weekly", "is_enabled": True, "amount": "1250"}
    for scope, scope_id in (({"type": "user", "user_id": "user_1"}, "user_1"),
                            ({"type": "rbac_group", "rbac_group_id": "rbac_1"}, "rbac_1"),
                            ({"type": "seat_tier", "seat_tier": "premium"}, "premium"),
                            ({"type": "organization"}, "")):  # fmt: skip
        limit = parse_spend_limit({**base, "scope": scope})
        assert (limit.scope_type, limit.scope_id, limit.amount_minor, limit.currency) == (
            scope["type"],
            scope_id,
            1250,
            "USD",
        )
    with pytest.raises(MalformedResponseError):
        parse_spend_limit({**base, "amount": "12.50", "scope": {"type": "organization"}})
