"""A team's cost center in allocation (SQLite and PostgreSQL): spend a team owns (an owner override naming
the team, an application's team) lands on the team's cost center once an admin sets it, leaves the "no cost
center" Unallocated row by exactly that amount, and the rows still add up to the organization's total."""

# ruff: noqa: F811  (the database fixtures come from conftest and are used as arguments)

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, select
from test_allocation_read_model import MARCH, _seed, _total_cents

from usageledger.reports.allocation import Allocation, allocate
from usageledger.reports.ownership_rules import NO_COST_CENTER
from usageledger.store.accounts import create_user
from usageledger.store.identity_events import TEAM_CHANGED
from usageledger.store.ownership import Editor, create_application, set_owner
from usageledger.store.tables import events
from usageledger.store.teams import set_team_cost_center

SERVICE_ACCOUNT_MICROCENTS = 3_141_593  # svac_1's spend in the seed
OLD_KEY_MICROCENTS = 1_000_005  # key_old's: its creator left, so the key has no owner


def _by_cost_center(engine: Engine, tenant: int) -> tuple[dict[str, int], Allocation]:
    with engine.connect() as conn:
        found = allocate(conn, tenant, "cost_center", MARCH)
    return {r.key: r.amount_microcents for r in found.rows}, found


def test_spend_a_team_owns_lands_on_the_teams_cost_center_to_the_cent(engine: Engine, connection_id: int):
    ids = _seed(engine, connection_id)
    tenant, research = ids["tenant"], ids["research"]
    with engine.begin() as conn:
        editor = Editor(create_user(conn, tenant, "admin@example.com", "pw-long-enough-1", "admin"),
                        "admin@example.com")  # fmt: skip
        set_owner(conn, tenant, "service_account", "svac_1", team_id=research, editor=editor)
        create_application(conn, tenant, "Batch jobs", team_id=research, resources=[("api_key", "key_old")],
                           editor=editor)  # fmt: skip
    before, _ = _by_cost_center(engine, tenant)
    assert "CC-R" not in before
    team_owned = SERVICE_ACCOUNT_MICROCENTS + OLD_KEY_MICROCENTS
    assert before[f"unallocated:{NO_COST_CENTER}"] == team_owned  # Research has no cost center yet

    with engine.begin() as conn:
        set_team_cost_center(conn, tenant, research, "CC-R", editor=editor)
    after, found = _by_cost_center(engine, tenant)
    assert after["CC-R"] == team_owned
    assert f"unallocated:{NO_COST_CENTER}" not in after
    assert after["CC-1"] == before["CC-1"] and after["CC-BOB"] == before["CC-BOB"]  # people's stay theirs
    assert found.balanced
    assert sum(after.values()) == found.total_microcents == int(_total_cents() * 1_000_000)
    assert sum((r.amount_usd for r in found.rows), Decimal(0)) == found.total_usd
    assert found.total_usd == (_total_cents() / 100).quantize(Decimal("0.01"))


def test_a_team_owner_of_a_workspace_charges_its_cost_center_and_clearing_it_undoes_that(
    engine: Engine, connection_id: int
):
    """Workspace Beta owned by Research: its unowned spend (key_old, svac_1, federated, null actor) moves."""
    ids = _seed(engine, connection_id)
    tenant, research = ids["tenant"], ids["research"]
    with engine.begin() as conn:
        editor = Editor(None, "demo")
        set_owner(conn, tenant, "workspace", "wrk_b", team_id=research, editor=editor)
        set_team_cost_center(conn, tenant, research, "  CC-R  ", editor=editor)
    charged, found = _by_cost_center(engine, tenant)
    assert charged["CC-R"] == 1_000_005 + 3_141_593 + 2_718_282 + 500_001
    assert found.balanced
    with engine.begin() as conn:
        set_team_cost_center(conn, tenant, research, "", editor=editor)
        set_team_cost_center(conn, tenant, research, None, editor=editor)  # already clear: no event
        logged = conn.execute(select(events.c.message).where(events.c.kind == TEAM_CHANGED)
                              .order_by(events.c.id)).scalars().all()  # fmt: skip
    cleared, found = _by_cost_center(engine, tenant)
    assert "CC-R" not in cleared and sum(cleared.values()) == found.total_microcents
    assert logged == [
        "demo changed the cost center of the team Research: none → CC-R.",
        "demo changed the cost center of the team Research: CC-R → none.",
    ]
