"""The overview's cache saving and cost by type, summed by the database, equal the cells summed in Python."""

# ruff: noqa: F811  (the database fixtures are imported from tests/store and used as arguments)

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent / "store"))

from store_db_fixtures import connection_id, cost, engine, pg_database_url, usage  # noqa: E402, F401

from usageledger.models import Window  # noqa: E402
from usageledger.reports.cost_types import (  # noqa: E402
    plan_cache_reads,
    plan_cache_saving,
    plan_cost_by_type,
    plan_cost_type_shares,
    query_cache_reads,
    query_cost_breakdown,
    query_cost_by_type,
    query_usage_by_model_day,
)
from usageledger.store import WindowWriter, start_sync_run  # noqa: E402

D1, D2, D3 = dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 3)
TOKENS, UNCACHED, READ = "tokens", "uncached_input_tokens", "cache_read_input_tokens"


def _store(engine: Engine, connection_id: int) -> None:
    """Broken-out days, a combined day, a model without cost, cache reads without uncached input."""
    usage_records = [
        usage(D1, model="claude-sonnet-4-5", tokens=1000),
        usage(D1, model="claude-sonnet-4-5", tokens=500, api_key_id="apikey_b"),
        usage(D2, model="claude-sonnet-4-5", tokens=700),
        usage(D2, model="model-without-price", tokens=300),
        usage(D3, model="claude-sonnet-4-5", tokens=900),
        usage(D3, model="claude-haiku-4-5", tokens=0)._replace(cache_read_input_tokens=4000),
        usage(D3, model=None, tokens=100),  # server tools: no model, never priced
    ]
    cost_records = [
        cost(D1, model="claude-sonnet-4-5", cents="30.5")._replace(breakdown=(TOKENS, UNCACHED)),
        cost(D1, model="claude-sonnet-4-5", cents="0.91")._replace(breakdown=(TOKENS, READ)),
        cost(D1, model="claude-sonnet-4-5", cents="1", api_key_id="apikey_b")._replace(
            breakdown=(TOKENS, UNCACHED)
        ),
        cost(D1, model="claude-sonnet-4-5", cents="2")._replace(breakdown=("web_search", None)),
        cost(D2, model="claude-sonnet-4-5", cents="17"),  # combined: not broken out
        cost(D2, model="model-without-price", cents="3")._replace(breakdown=(TOKENS, UNCACHED)),
        cost(D3, model="claude-sonnet-4-5", cents="9.000001")._replace(breakdown=(TOKENS, READ)),
        cost(D3, model="claude-haiku-4-5", cents="0.2")._replace(breakdown=(TOKENS, READ)),
        cost(D3, model="claude-haiku-4-5", cents="4")._replace(breakdown=("code_execution", None)),
    ]
    window = Window(D1, D3 + dt.timedelta(days=1))
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", window.start, window.end, window.days)
        writer = WindowWriter(conn, connection_id, run, window)
        writer.write_usage(usage_records)
        writer.write_cost(cost_records)
        writer.finish()


def test_the_database_sums_the_cache_reads_and_cost_types_as_the_cells_do(
    engine: Engine, connection_id: int
) -> None:
    """Per model priced and unbroken reads, the saving and the cost per type: the same from SQL and Python."""
    _store(engine, connection_id)
    with engine.connect() as conn:
        cells = query_usage_by_model_day(conn, tenant_id=1, since=D1, until=D3)
        breakdown = query_cost_breakdown(conn, tenant_id=1, since=D1, until=D3)
        by_sql = query_cache_reads(conn, tenant_id=1, since=D1, until=D3)
        by_type = query_cost_by_type(conn, tenant_id=1, since=D1, until=D3)
    by_python = plan_cache_reads(cells, breakdown)
    assert by_sql == by_python
    assert set(by_sql.priced) == {"claude-sonnet-4-5", "model-without-price", "claude-haiku-4-5"}
    assert by_sql.unbroken == {"claude-sonnet-4-5": 2100}  # D2's reads: its cost is combined
    effect = plan_cache_saving(by_sql, cache_read_tokens=1, input_tokens=2)
    assert effect.method == "mixed" and effect.saved_usd > 0
    assert plan_cost_type_shares(by_type) == plan_cost_by_type(breakdown)
    assert sum(by_type.values()) == 67_610_001  # 67.610001 cents: every micro-cent stored, whatever its type
    assert {s.cost_type: s.amount for s in plan_cost_type_shares(by_type)}["web_search"] == Decimal("0.02")
