"""Cost per cost type and token type, synced end to end from the fake: stored exactly as the truth splits it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from sqlalchemy import Engine, create_engine, func, select

from usageledger.fake import FakeOrganization
from usageledger.reports.overview import build_overview
from usageledger.reports.overview_json import overview_json
from usageledger.reports.periods import resolve_period
from usageledger.store.tables import actor_cost_rows, connections, cost_rows, usage_rows

from .conftest import BACKFILL_DAYS

_MICROCENT = Decimal("0.000001")


@pytest.fixture
def db(cli_env) -> Iterator[Engine]:
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


def _span(fake: FakeOrganization) -> tuple[dt.date, dt.date]:
    return fake.today - dt.timedelta(days=BACKFILL_DAYS - 1), fake.today + dt.timedelta(days=1)


def _stored_by_type(db: Engine, table) -> dict[tuple[str, str], int]:
    with db.connect() as conn:
        rows = conn.execute(
            select(table.c.cost_type, table.c.token_type, func.sum(table.c.amount_microcents)).group_by(
                table.c.cost_type, table.c.token_type
            )
        ).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def _truth_by_type(records, served_key) -> dict[tuple[str, str], int]:
    """Truth per (cost type, token type) in micro-cents; each served row's amount rounded as it is stored."""
    served: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in records:
        served[(served_key(r), r.breakdown)] += r.amount_cents
    out: dict[tuple[str, str], int] = defaultdict(int)
    for (_, (cost_type, token_type)), cents in served.items():
        out[(cost_type or "", token_type or "")] += int(cents.scaleb(6).quantize(1, rounding=ROUND_HALF_EVEN))
    return dict(out)


def test_stored_cost_per_token_type_and_cost_type_equals_the_truth(fake, connected, db):
    """The daily grain: per cost type and token type the stored micro-cents equal the truth's; no request
    counts on broken-out rows; every type the fake charges for is there. The actor grain keeps each group's
    cost whole (nothing reads it by type), so its rows count the requests the usage counts."""
    start, end = _span(fake)
    daily_truth = _truth_by_type(
        fake.truth_cost_by_type(start, end),
        lambda r: (r.day, *r.dims[:6]),  # the API groups by five + org
    )
    assert _stored_by_type(db, cost_rows) == daily_truth
    assert {"tokens", "web_search", "code_execution"} <= {k[0] for k in daily_truth}
    assert ("tokens", "cache_read_input_tokens") in daily_truth
    with db.connect() as conn:
        assert conn.execute(select(func.count()).where(cost_rows.c.requests.is_not(None))).scalar() == 0
        assert conn.execute(select(func.count()).where(cost_rows.c.cost_type == "")).scalar() == 0
        assert "cost_type" not in actor_cost_rows.c
        actor_requests = conn.execute(select(func.sum(actor_cost_rows.c.requests))).scalar()
        assert (
            actor_requests
            and actor_requests == conn.execute(select(func.sum(usage_rows.c.requests))).scalar()
        )


def test_the_overview_shows_cost_by_type_and_the_cache_saving_from_stored_costs(fake, connected, db):
    """The overview's cost by type adds up to its cost; the cache saving is priced from stored costs."""
    start, end = _span(fake)
    period = resolve_period(None, start, end - dt.timedelta(days=1), today=fake.today)
    with db.connect() as conn:
        tenant = conn.execute(select(connections.c.tenant_id)).scalar()
        overview = overview_json(build_overview(conn, tenant_id=tenant, period=period, today=fake.today))
    by_type = {t["cost_type"]: Decimal(t["cost_usd"]) for t in overview["cost_by_type"]}
    assert set(by_type) == {"tokens", "web_search", "code_execution", "session_usage"}
    assert sum(by_type.values()) == Decimal(overview["cost_usd"])
    assert by_type["web_search"] > 0 and by_type["session_usage"] == 0
    assert overview["cache"]["method"] == "stored_costs"
    assert Decimal(overview["cache"]["saved_usd_estimate"]) > 0


def test_the_classic_fallback_keeps_each_results_cost_and_token_type(fake, cli, db):
    """The classic cost report's results carry cost_type and token_type: they are stored, not summed away."""
    key = "sk-ant-admin01-fake-analytics-off-key-000000000000000"
    fake.add_key(key, "analytics_off")
    assert cli("connect", "anthropic", "--key-stdin", stdin=key + "\n").exit_code == 0
    start, end = _span(fake)
    # The classic report leaves out Priority Tier cost (documented) and groups by workspace and description
    # (model, tier and context window for tokens, the types): speed and geo are summed within a result.
    truth = _truth_by_type(
        (r for r in fake.truth_cost_by_type(start, end) if r.dims.service_tier != "priority"),
        lambda r: (r.day, r.dims.workspace_id, *(r.dims[3:6] if r.cost_type == "tokens" else ())),
    )
    assert _stored_by_type(db, cost_rows) == truth
