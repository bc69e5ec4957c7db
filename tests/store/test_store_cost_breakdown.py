"""Cost per cost type and token type: the natural key holds the breakdown, and a day stored before it
existed (one combined row, '' types) is replaced by its broken-out rows without being counted twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from store_db_fixtures import cost, usage

from usageledger.config import Settings
from usageledger.models import DAILY, Window
from usageledger.store import (
    RepeatedRowError,
    WindowWriter,
    create_engine_for,
    ensure_default_tenant,
    insert_connection,
    migrate,
    start_sync_run,
)
from usageledger.store.tables import connections, cost_rollups, cost_rows

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
WINDOW = Window(D1, D2 + dt.timedelta(days=1))
TOKENS = ("tokens", "uncached_input_tokens")
CACHE_READ = ("tokens", "cache_read_input_tokens")
WEB = ("web_search", None)


def _typed(day: dt.date, breakdown: tuple[str | None, ...], cents: str, **dims: str | None):
    return cost(day, cents=cents, **dims)._replace(breakdown=breakdown, requests=None)


def _sync(engine: Engine, connection_id: int, costs: list, usages: list | None = None):
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
        writer = WindowWriter(conn, connection_id, run, WINDOW)
        writer.write_usage(usages if usages is not None else [usage(D1), usage(D2)])
        writer.write_cost(costs)
        return writer.finish()


def _stored(engine: Engine) -> dict[tuple, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                cost_rows.c.day, cost_rows.c.cost_type, cost_rows.c.token_type, cost_rows.c.amount_microcents
            )
        ).all()
    return {(r[0], r[1], r[2]): r[3] for r in rows}


def test_the_cost_tables_key_is_the_dimensions_then_the_grains_breakdown() -> None:
    """Declared once on the grain: the cost table's unique key ends with cost_type, token_type."""
    key = next(c for c in cost_rows.constraints if c.name == "uq_cost_rows_natural_key")
    assert [c.name for c in key.columns] == ["connection_id", "day", *DAILY.dimensions, *DAILY.cost_breakdown]
    assert set(DAILY.cost_rollups) <= set(cost_rollups)


def test_each_cost_and_token_type_of_a_group_is_its_own_row(engine: Engine, connection_id: int) -> None:
    """Same day and dimensions, different types: three rows; '' for a token type the API leaves null."""
    result = _sync(
        engine, connection_id, [_typed(D1, TOKENS, "1"), _typed(D1, CACHE_READ, "0.1"), _typed(D1, WEB, "2")]
    )
    assert result.cost_rows == 3
    assert _stored(engine) == {
        (D1, "tokens", "uncached_input_tokens"): 1_000_000,
        (D1, "tokens", "cache_read_input_tokens"): 100_000,
        (D1, "web_search", ""): 2_000_000,
    }
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(cost_rows.c.requests.is_not(None))).scalar() == 0


def test_a_repeated_cost_and_token_type_is_refused(engine: Engine, connection_id: int) -> None:
    """The breakdown is part of the key: the same type twice for one group is a repeated row."""
    with pytest.raises(RepeatedRowError):
        _sync(engine, connection_id, [_typed(D1, TOKENS, "1"), _typed(D1, TOKENS, "1")])


def test_a_combined_day_is_replaced_by_its_breakdown_without_double_counting(
    engine: Engine, connection_id: int
) -> None:
    """A day stored as one combined row ('' types) re-synced broken out: only the parts remain, the total
    is theirs, the rollups and the row counter agree, and the old row is not reported as vanished upstream."""
    first = _sync(engine, connection_id, [cost(D1, cents="3.1"), cost(D2, cents="5")])
    assert (first.cost_rows, first.removed) == (2, 0)
    result = _sync(
        engine,
        connection_id,
        [
            _typed(D1, TOKENS, "1"),
            _typed(D1, CACHE_READ, "0.1"),
            _typed(D1, WEB, "2"),
            _typed(D2, TOKENS, "5"),
        ],
    )
    assert (result.removed, result.restated, result.revised) == (0, 2, 0)
    stored = _stored(engine)
    assert ("", "") not in {(k[1], k[2]) for k in stored}
    assert sum(v for k, v in stored.items() if k[0] == D1) == 3_100_000
    assert sum(stored.values()) == 8_100_000
    with engine.connect() as conn:
        counted = conn.execute(
            select(connections.c.cost_rows_stored).where(connections.c.id == connection_id)
        )
        assert counted.scalar() == 4
        for name, rollup in cost_rollups.items():
            total = conn.execute(select(func.sum(rollup.c.amount_microcents))).scalar()
            assert total == 8_100_000, name
        by_type = cost_rollups["model_cost_type"]
        web = conn.execute(
            select(by_type.c.amount_microcents).where(by_type.c.cost_type == "web_search")
        ).scalar()
    assert web == 2_000_000


def test_a_combined_row_of_a_day_that_now_costs_nothing_is_removed_upstream(
    engine: Engine, connection_id: int
) -> None:
    """Only a day the run broke out restates its combined row; a day with no cost any more lost it upstream."""
    _sync(engine, connection_id, [cost(D1, cents="1"), cost(D2, cents="1")])
    result = _sync(engine, connection_id, [_typed(D1, TOKENS, "1")])
    assert (result.removed, result.restated) == (1, 1)


def test_rows_synced_before_the_migration_get_empty_types_and_a_resync_replaces_them(tmp_path: Path) -> None:
    """Migration 0007 on a database with cost rows: they become '' types (and fill the new rollup); a
    re-sync of their day leaves the broken-out rows alone, adding up to the same total once."""
    engine = create_engine_for(Settings(home=tmp_path / "home"))
    try:
        migrate(engine, "0006")
        with engine.begin() as conn:
            tenant = ensure_default_tenant(conn)
            cid = insert_connection(conn, tenant_id=tenant, name="Old", provider="anthropic",
                                    base_url="http://fake.test", organization_id="org-demo",
                                    organization_name="Demo Org", key_hint="sk-ant-admin01-…fake",
                                    source="analytics")  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO cost_rows (connection_id, day, organization_id, model, amount_microcents, "
                    "list_amount_microcents, currency, requests, sync_run_id) "
                    "VALUES (:cid, :day, 'org-demo', 'claude-test', 3100000, 6200000, 'USD', 7, 0)"
                ),
                {"cid": cid, "day": D1},
            )
        migrate(engine)
        assert _stored(engine) == {(D1, "", ""): 3_100_000}
        with engine.connect() as conn:
            by_type = cost_rollups["model_cost_type"]
            assert conn.execute(select(func.sum(by_type.c.amount_microcents))).scalar() == 3_100_000
        typed = [
            _typed(
                D1, TOKENS, "1", workspace_id=None, api_key_id=None, service_tier=None, context_window=None
            ),
            _typed(
                D1, WEB, "2.1", workspace_id=None, api_key_id=None, service_tier=None, context_window=None
            ),
        ]
        result = _sync(engine, cid, typed, usages=[])
        assert (result.removed, result.restated) == (0, 1)
        assert _stored(engine) == {
            (D1, "tokens", "uncached_input_tokens"): 1_000_000,
            (D1, "web_search", ""): 2_100_000,
        }
    finally:
        engine.dispose()
