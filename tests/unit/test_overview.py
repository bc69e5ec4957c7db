"""The overview read model on hand-made rows: headline figures, top 5 with shares, organizations, provisional days."""

# ruff: noqa: F811  (the database fixtures are imported from tests/store and used as arguments)

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))

from store_db_fixtures import cost, engine, pg_database_url, usage  # noqa: E402, F401

from usageledger.errors import UsageError  # noqa: E402
from usageledger.models import ApiKeyInfo, Directory, Window, WorkspaceInfo  # noqa: E402
from usageledger.reports.overview import build_overview  # noqa: E402
from usageledger.reports.overview_json import overview_json  # noqa: E402
from usageledger.reports.periods import resolve_period  # noqa: E402
from usageledger.store import (  # noqa: E402
    WindowWriter,
    ensure_default_tenant,
    insert_connection,
    start_sync_run,
    update_connection,
    upsert_directory,
)
from usageledger.store.tables import tenants  # noqa: E402

TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
D = dt.date


def _connect(engine: Engine, org: str, tenant_id: int | None = None) -> int:
    with engine.begin() as conn:
        tenant = tenant_id or ensure_default_tenant(conn)
        cid = insert_connection(conn, tenant_id=tenant, name=f"{org} connection", provider="anthropic",
                                base_url="http://fake.test", organization_id=org, organization_name=f"{org} Inc.",
                                key_hint="sk-ant-admin01-…fake", source="analytics")  # fmt: skip
        update_connection(conn, cid, state="connected", last_sync_succeeded_at=NOW - dt.timedelta(hours=1))
    return cid


def _write(engine: Engine, cid: int, usages: list, costs: list) -> None:
    days = [r.day for r in usages + costs]
    window = Window(min(days), max(days) + dt.timedelta(days=1))
    with engine.begin() as conn:
        run = start_sync_run(conn, cid, "manual", window.start, window.end, window.days)
        writer = WindowWriter(conn, cid, run, window)
        writer.write_usage(usages)
        writer.write_cost(costs)
        writer.finish()


def _daily_cost(org: str, start: dt.date, days: int, cents: str, **dims: str | None) -> list:
    return [cost(start + dt.timedelta(days=i), organization_id=org, cents=cents, **dims) for i in range(days)]


def _overview(engine: Engine, period: str = "this-month", **kwargs):
    with engine.connect() as conn:
        tenant = ensure_default_tenant(conn)
        chosen = resolve_period(period, None, None, today=TODAY)
        return build_overview(conn, tenant_id=tenant, period=chosen, today=TODAY, now=NOW, **kwargs)


@pytest.fixture
def two_orgs(engine: Engine) -> tuple[int, int]:
    """Org A spends $1 a day since 1 October; org B $2 a day from 1 November; one usage row with cache reads."""
    a, b = _connect(engine, "org-a"), _connect(engine, "org-b")
    _write(engine, a, [usage(D(2026, 11, 3), model="claude-sonnet-4-5", organization_id="org-a")],
           _daily_cost("org-a", D(2026, 10, 1), 51, "100"))  # fmt: skip
    _write(engine, b, [usage(D(2026, 11, 3), model="claude-mystery-9", organization_id="org-b")],
           _daily_cost("org-b", D(2026, 11, 1), 20, "200", model="claude-b"))  # fmt: skip
    return a, b


def test_headline_figures_compare_month_to_date_with_the_same_days_last_month(engine, two_orgs):
    """1–20 November against 1–20 October: $60 against $20 (+200 %), list price twice the cost, last month $31."""
    o = _overview(engine)
    assert (o.period.start, o.period.last_day) == (D(2026, 11, 1), D(2026, 11, 20))
    assert (o.previous.start, o.previous.last_day) == (D(2026, 10, 1), D(2026, 10, 20))
    assert o.cost == Decimal(60) and o.list_cost == Decimal(120) and o.discount == Decimal(60)
    assert o.previous_cost == Decimal(20) and o.change_pct == Decimal(200)
    assert o.last_month_cost == Decimal(31)
    assert o.forecast.spent == Decimal(60) and o.forecast.complete_spent == Decimal(57)
    assert o.forecast.low == o.forecast.high == Decimal(57) + 11 * Decimal(3)


def test_one_organization_filters_every_figure(engine, two_orgs):
    """Filtered to org B: only its $2 a day, its connection's card, and no organization column or table."""
    o = _overview(engine, organization="org-b")
    assert o.cost == Decimal(40) and o.previous_cost == 0 and o.change_pct is None
    assert [c.organization_name for c in o.connections] == ["org-b Inc."]
    assert [t.dimension for t in o.top] == ["model", "workspace", "api_key"]
    assert not any(t.show_organization for t in o.top)
    assert [r.key for r in o.top[0].rows] == ["claude-b"]


def test_tables_that_mix_organizations_carry_an_organization_column(engine, two_orgs):
    """With two organizations every top table names the organization of each row, and organizations get a table."""
    o = _overview(engine)
    assert [t.dimension for t in o.top] == ["model", "workspace", "api_key", "organization"]
    assert all(t.show_organization for t in o.top[:3])
    models = o.top[0]
    assert [(r.key, r.organization_name) for r in models.rows] == [("claude-b", "org-b Inc."),
                                                                   ("claude-test", "org-a Inc.")]  # fmt: skip
    orgs = o.top[3]
    assert [(r.label, r.share) for r in orgs.rows] == [("org-b Inc.", Decimal("0.6667")),
                                                      ("org-a Inc.", Decimal("0.3333"))]  # fmt: skip
    assert {r.connection_id for r in models.rows} == set(two_orgs)


def test_top_five_shares_add_up_with_the_rest_as_other(engine):
    """Seven models: the five costliest in order, the other two folded into one row; shares add up to 100 %."""
    cid = _connect(engine, "org-a")
    costs = [cost(D(2026, 11, 5), model=f"claude-{i}", organization_id="org-a", cents=str(100 * i))
             for i in range(1, 8)]  # fmt: skip
    _write(engine, cid, [usage(D(2026, 11, 5), organization_id="org-a")], costs)
    models = _overview(engine).top[0]
    assert [r.key for r in models.rows] == ["claude-7", "claude-6", "claude-5", "claude-4", "claude-3", None]
    assert models.rows[-1].other and models.rows[-1].label == "Other (2)"
    assert models.rows[-1].amount == Decimal(3)  # claude-1 + claude-2
    assert sum(r.share for r in models.rows) == 1
    assert sum(r.amount for r in models.rows) == models.total == Decimal(28)


def test_names_sit_beside_ids_in_the_top_tables(engine):
    """Workspaces and API keys show their directory names; a missing workspace is the default one."""
    cid = _connect(engine, "org-a")
    _write(engine, cid, [usage(D(2026, 11, 5), organization_id="org-a")],
           [cost(D(2026, 11, 5), organization_id="org-a", workspace_id="wrk_r", api_key_id="apikey_r"),
            cost(D(2026, 11, 6), organization_id="org-a", workspace_id=None, api_key_id=None)])  # fmt: skip
    with engine.begin() as conn:
        upsert_directory(conn, cid, Directory(workspaces=[WorkspaceInfo("wrk_r", "Research")],
                                              api_keys=[ApiKeyInfo("apikey_r", "Research key")]))  # fmt: skip
    o = _overview(engine)
    assert sorted(r.label for r in o.top[1].rows) == ["Default workspace", "Research"]
    assert sorted(r.label for r in o.top[2].rows) == ["No API key (Console)", "Research key"]


def test_recent_days_are_provisional(engine, two_orgs):
    """With a 3-day lookback, 18–20 November are provisional in the daily series and in the JSON."""
    o = _overview(engine, lookback_days=3)
    assert o.provisional_from == D(2026, 11, 18)
    assert [d.day.day for d in o.days if d.provisional] == [18, 19, 20]
    data = overview_json(o)
    assert data["provisional_from"] == "2026-11-18"
    assert [d["provisional"] for d in data["daily"]][-4:] == [False, True, True, True]


def test_the_daily_series_pairs_each_day_with_its_day_last_month(engine, two_orgs):
    """Every day of the period is present with the comparable day's cost of the period before."""
    o = _overview(engine)
    assert len(o.days) == 20
    first = o.days[0]
    assert (first.day, first.amount, first.previous_day, first.previous_amount) == (
        D(2026, 11, 1), Decimal(3), D(2026, 10, 1), Decimal(1))  # fmt: skip


def test_cache_effect_is_estimated_from_list_prices_and_names_unpriced_models(engine, two_orgs):
    """300 cache-read tokens of Sonnet 4.5 saved 300 × $2.70/M; the unknown model is counted, not guessed."""
    cache = _overview(engine).cache
    assert cache.cache_read_tokens == 600
    assert cache.input_tokens == 2 * (100 + 300 + 400 + 500)
    assert cache.share == Decimal(600) / Decimal(2600)
    assert cache.saved_usd == Decimal("0.00081000")
    assert cache.unpriced_models == ["claude-mystery-9"]
    assert "list price" in cache.basis


def test_an_empty_workspace_has_zeros_and_no_forecast(engine):
    """No connection at all: every figure is zero, no change, not enough data for a forecast, no top rows."""
    o = _overview(engine)
    assert o.cost == o.list_cost == o.previous_cost == 0 and o.change_pct is None
    assert not o.forecast.enough_data
    assert all(not t.rows for t in o.top) and o.connections == []
    assert overview_json(o)["forecast"]["low_usd"] is None


def test_an_unknown_organization_is_a_usage_error(engine, two_orgs):
    """Asking for an organization the workspace has not connected says what to do, rather than showing zeros."""
    with pytest.raises(UsageError, match="choose one from the list"):
        _overview(engine, organization="org-zzz")


def test_stale_and_failing_connections_carry_a_warning(engine, two_orgs):
    """A last success older than twice the sync interval is stale; an error state is failing."""
    a, b = two_orgs
    with engine.begin() as conn:
        update_connection(conn, a, last_sync_succeeded_at=NOW - dt.timedelta(hours=13))
        update_connection(conn, b, state="error", last_error="The admin key was revoked; connect again.")
    cards = {c.id: c for c in _overview(engine, sync_interval_hours=6).connections}
    assert cards[a].warning is not None and cards[a].warning.startswith("Stale")
    assert cards[b].warning == "Failing: The admin key was revoked; connect again."


def test_another_tenants_spend_never_shows(engine, two_orgs):
    """A second usageledger workspace with its own organization sees only its own figures, and vice versa."""
    with engine.begin() as conn:
        other = int(
            conn.execute(tenants.insert().values(name="other", created_at=NOW)).inserted_primary_key[0]
        )
    theirs = _connect(engine, "org-x", tenant_id=other)
    _write(engine, theirs, [usage(D(2026, 11, 2), organization_id="org-x")],
           _daily_cost("org-x", D(2026, 11, 1), 5, "100000"))  # fmt: skip
    mine = _overview(engine)
    assert mine.cost == Decimal(60) and "org-x" not in {o.id for o in mine.organizations}
    with engine.connect() as conn:
        period = resolve_period("this-month", None, None, today=TODAY)
        o = build_overview(conn, tenant_id=other, period=period, today=TODAY, now=NOW)
    assert o.cost == Decimal(5000) and [g.id for g in o.organizations] == ["org-x"]
