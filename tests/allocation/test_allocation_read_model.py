"""The allocation read model on SQLite and PostgreSQL: every micro-cent of the reported total is allocated,
the rounded rows add up to the rounded total, and Unallocated rows say why."""

# ruff: noqa: F811  (the database fixtures come from conftest and are used as arguments)

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from identity_helpers import add_person, add_team
from sqlalchemy import Engine

from usageledger.errors import UsageError
from usageledger.models import (
    ACTOR,
    ActorDimensions,
    ActorInfo,
    ApiKeyInfo,
    CostRecord,
    Dimensions,
    Directory,
    UserInfo,
    Window,
    WorkspaceInfo,
)
from usageledger.reports.allocation import ALLOCATION_DIMENSIONS, allocate, plan_cents, plan_spread
from usageledger.reports.ownership_rules import (
    DELETED_USER,
    FEDERATED_IDENTITY,
    NO_API_KEY,
    NO_IDENTITY,
    NO_OWNER,
    NO_TEAM,
)
from usageledger.reports.periods import resolve_period
from usageledger.store import (
    WindowWriter,
    add_event,
    ensure_default_tenant,
    insert_connection,
    start_sync_run,
    upsert_actors,
    upsert_directory,
)
from usageledger.store.accounts import create_user
from usageledger.store.ownership import Editor, set_owner

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
MARCH = resolve_period("2026-03", None, None, today=dt.date(2026, 3, 31))
ORG = "org-demo"
# (actor kind, actor id, workspace, product, cents): amounts with sub-cent parts, so rounding matters.
ACTOR_SPEND = [
    ("user_actor", "user_ada", "wrk_a", "claude_code", "10.333333"),
    ("user_actor", "user_ada", "wrk_a", "chat", "0.333333"),
    ("api_actor", "key_bob", "wrk_a", "messages_api", "7.666667"),
    ("api_actor", "key_old", "wrk_b", "messages_api", "1.000005"),
    ("service_account_actor", "svac_1", "wrk_b", "messages_api", "3.141593"),
    ("federated_actor", "gcp:1:sub", "wrk_b", "messages_api", "2.718282"),
    (None, None, "wrk_b", "claude_code", "0.500001"),
    ("user_actor", "user_gone", "wrk_a", "chat", "4.499999"),
]


def _write(conn, connection_id: int, daily: list[CostRecord], actor: list[CostRecord]) -> None:
    window = Window(D1, D2 + dt.timedelta(days=1))
    run = start_sync_run(conn, connection_id, "manual", window.start, window.end, 2)
    writer = WindowWriter(conn, connection_id, run, window)
    writer.write_usage([])
    writer.write_cost(daily)
    writer.finish()
    if actor:
        writer = WindowWriter(conn, connection_id, run, window, grain=ACTOR)
        writer.write_usage([])
        writer.write_cost(actor)
        writer.finish()


def _seed(
    engine: Engine,
    connection_id: int,
    extra_actor_cents: str | None = None,
    extra_daily: tuple[CostRecord, ...] = (),
) -> dict[str, int]:
    """Both grains of one organization (the same money, split two ways), its directory, people and teams."""
    daily, actor = [], []
    for i, (kind, actor_id, workspace, product, cents) in enumerate(ACTOR_SPEND):
        day = D1 if i % 2 else D2
        actor.append(CostRecord(day, ActorDimensions(ORG, kind, actor_id, product, "claude-x", workspace, None),
                                Decimal(cents), Decimal(cents) * 2))  # fmt: skip
        key = actor_id if kind == "api_actor" else None
        daily.append(CostRecord(day, Dimensions(ORG, workspace, key, "claude-x", f"tier{i}", None, None, None),
                                Decimal(cents), Decimal(cents) * 2))  # fmt: skip
    if extra_actor_cents:
        actor.append(CostRecord(D1, ActorDimensions(ORG, "user_actor", "user_ada", "cowork", "m", "wrk_a", None),
                                Decimal(extra_actor_cents)))  # fmt: skip
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        _write(conn, connection_id, [*daily, *extra_daily], actor)
        upsert_directory(conn, connection_id, Directory(
            workspaces=[WorkspaceInfo("wrk_a", "Alpha"), WorkspaceInfo("wrk_b", "Beta")],
            api_keys=[ApiKeyInfo("key_bob", "Bob's key", "wrk_a", created_by_id="user_bob", created_by_type="user"),
                      ApiKeyInfo("key_old", "Old key", "wrk_b", created_by_id="user_left", created_by_type="user")],
            users=[UserInfo("user_ada", "ada@example.com", "Ada"), UserInfo("user_bob", "BOB@example.com", "Bob")],
        ))  # fmt: skip
        upsert_actors(conn, connection_id, {ActorInfo("user_actor", "user_ada", "ada@example.com", "Ada"): D2,
                                            ActorInfo("user_actor", "user_gone", None, "Deleted User", True): D2})  # fmt: skip
        platform = add_team(conn, tenant, "Platform", "CC-1")
        research = add_team(conn, tenant, "Research", None)
        ada = add_person(conn, tenant, "ada@example.com", "Ada", team_ids=(platform, research))
        bob = add_person(conn, tenant, "bob@example.com", "Bob", cost_center="CC-BOB")
    return {"tenant": tenant, "platform": platform, "research": research, "ada": ada, "bob": bob}


def _total_cents() -> Decimal:
    return sum((Decimal(c) for *_, c in ACTOR_SPEND), Decimal(0))


@pytest.mark.parametrize("by", list(ALLOCATION_DIMENSIONS))
def test_allocation_adds_up_to_the_reported_total(engine: Engine, connection_id: int, by: str) -> None:
    """By every dimension: micro-cents sum to the daily grain's total; the cent rows sum to the cent total."""
    ids = _seed(engine, connection_id)
    with engine.connect() as conn:
        found = allocate(conn, ids["tenant"], by, MARCH)
    assert found.balanced and found.imbalance_note is None
    assert found.total_microcents == int(_total_cents() * 1_000_000)
    assert sum(r.amount_microcents for r in found.rows) == found.total_microcents
    assert sum((r.amount_usd for r in found.rows), Decimal(0)) == found.total_usd
    assert found.total_usd == (_total_cents() / 100).quantize(Decimal("0.01"))


def test_allocation_by_team_and_person_with_reasons(engine: Engine, connection_id: int) -> None:
    """Ada's usage goes to her first team by name; Bob's key to Bob; the rest to Unallocated, per reason."""
    ids = _seed(engine, connection_id)
    with engine.connect() as conn:
        by_team = {r.key: r for r in allocate(conn, ids["tenant"], "team", MARCH).rows}
        by_person = {r.key: r for r in allocate(conn, ids["tenant"], "person", MARCH).rows}
        by_cc = {r.key: r for r in allocate(conn, ids["tenant"], "cost_center", MARCH).rows}
    assert by_team[str(ids["platform"])].amount_microcents == 10_666_666  # Ada: 10.333333 + 0.333333 cents
    assert by_person[str(ids["bob"])].amount_microcents == 7_666_667
    assert by_cc["CC-BOB"].amount_microcents == 7_666_667 and by_cc["CC-1"].amount_microcents == 10_666_666
    reasons = {r.reason for r in by_person.values() if r.unallocated}
    assert reasons == {NO_OWNER, "owner not in the directory", FEDERATED_IDENTITY, NO_IDENTITY, DELETED_USER}
    assert by_person[f"unallocated:{DELETED_USER}"].label == f"Unallocated: {DELETED_USER}"


def test_an_owner_override_moves_spend_out_of_unallocated(engine: Engine, connection_id: int) -> None:
    """Owning the service account and workspace Beta leaves only what no owner can place and Bob's teamless key."""
    ids = _seed(engine, connection_id)
    with engine.begin() as conn:
        editor = Editor(create_user(conn, ids["tenant"], "admin@example.com", "pw-long-enough-1", "admin"),
                        "admin@example.com")  # fmt: skip
        set_owner(conn, ids["tenant"], "service_account", "svac_1", team_id=ids["research"], editor=editor)
        set_owner(conn, ids["tenant"], "workspace", "wrk_b", person_id=ids["ada"], editor=editor)
    with engine.connect() as conn:
        found = allocate(conn, ids["tenant"], "team", MARCH)
    unallocated = {r.reason: r.amount_microcents for r in found.rows if r.unallocated}
    assert unallocated == {DELETED_USER: 4_499_999, NO_TEAM: 7_666_667}  # Bob is in no team
    assert found.balanced


def test_a_connection_without_actor_grain_is_allocated_from_the_daily_grain(engine: Engine) -> None:
    """Classic connection: each API key is an api_actor; spend without a key is 'no API key'."""
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        classic = insert_connection(conn, tenant_id=tenant, name="Classic", provider="anthropic",
                                    base_url="http://fake.test", organization_id="org-c", organization_name="C",
                                    key_hint="…", source="classic")  # fmt: skip
        _write(conn, classic, [
            CostRecord(D1, Dimensions("org-c", "wrk_c", None, "m"), Decimal("1.25")),
            CostRecord(D1, Dimensions("org-c", "wrk_c", "key_c", "m"), Decimal("2.5")),
        ], [])  # fmt: skip
    with engine.connect() as conn:
        found = allocate(conn, tenant, "team", MARCH, organization="org-c")
    assert {r.reason: r.amount_microcents for r in found.rows} == {NO_API_KEY: 1_250_000, NO_OWNER: 2_500_000}
    assert found.balanced


def test_an_actor_grain_that_disagrees_is_said_and_points_at_the_mismatch_event(
    engine: Engine, connection_id: int
) -> None:
    ids = _seed(engine, connection_id, extra_actor_cents="2.5")
    with engine.begin() as conn:
        event = add_event(conn, tenant_id=ids["tenant"], connection_id=connection_id, kind="mismatch",
                          level="warning", message="The actor grain does not add up")  # fmt: skip
    with engine.connect() as conn:
        found = allocate(conn, ids["tenant"], "person", MARCH)
    assert not found.balanced
    assert found.allocated_microcents - found.total_microcents == 2_500_000
    assert found.imbalance_note is not None and f"#{event}" in found.imbalance_note


def test_bad_dimension_and_unknown_organization_are_sentences(engine: Engine, connection_id: int) -> None:
    with engine.connect() as conn:
        with pytest.raises(UsageError, match="choose from team"):
            allocate(conn, 1, "planet", MARCH)
        with pytest.raises(UsageError, match="No connected organization"):
            allocate(conn, 1, "team", MARCH, organization="org-nope")


@pytest.mark.parametrize(
    "amounts",
    [[1_500_000, 1_500_000, 1_000_001], [333_333] * 3, [-1_400_000, 2_700_000, 999_999], [0], [], [7]],
)
def test_largest_remainder_cents_add_up_to_the_rounded_total(amounts: list[int]) -> None:
    cents = plan_cents(amounts)
    """Each amount moves by less than a cent, and the cents add up to the sum rounded half-even."""
    assert sum(cents) == (Decimal(sum(amounts)) / 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    assert all(abs(c * 1_000_000 - a) < 1_000_000 for c, a in zip(cents, amounts, strict=True))


def test_the_grains_rounding_gap_is_spread_so_the_allocation_still_adds_up(
    engine: Engine, connection_id: int
) -> None:
    """Rows are rounded to micro-cents one by one: a gap of a micro-cent per row is rounding, not a mismatch."""
    # One more daily row of a micro-cent, which the actor grain rounded away.
    extra = CostRecord(D1, Dimensions(ORG, "wrk_a", None, "claude-x", "extra"), Decimal("0.000001"))
    ids = _seed(engine, connection_id, extra_daily=(extra,))
    with engine.connect() as conn:
        found = allocate(conn, ids["tenant"], "team", MARCH)
    assert found.balanced and found.total_microcents == int(_total_cents() * 1_000_000) + 1


@pytest.mark.parametrize(
    ("amounts", "extra"), [([5, 5, 0], 3), ([10, -4, 2], -2), ([0, 0], 1), ([1_000_000, 1], 7), ([3], 0)]
)
def test_spreading_a_gap_lands_every_micro_cent(amounts: list[int], extra: int) -> None:
    spread = plan_spread(amounts, extra)
    assert sum(spread) == sum(amounts) + extra
    assert all(abs(s - a) <= abs(extra) for s, a in zip(spread, amounts, strict=True))
