"""The read model: grouping, filters, inclusive dates, totals, paging, names, JSON keys, status."""

# ruff: noqa: F811  (the database fixtures are imported from tests/store and used as arguments)

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent / "store"))

from store_db_fixtures import connection_id, cost, engine, pg_database_url, usage  # noqa: E402, F401

from usageledger.errors import NotFoundError, UsageError  # noqa: E402
from usageledger.models import (  # noqa: E402
    GROUP_FIELDS,
    ApiKeyInfo,
    Directory,
    Window,  # noqa: E402
    WorkspaceInfo,
)
from usageledger.reports.status import status_report  # noqa: E402
from usageledger.reports.usage import UsageQuery, query_cost, query_usage  # noqa: E402
from usageledger.store import (  # noqa: E402
    WindowWriter,
    acquire_sync_lock,
    ensure_default_tenant,
    insert_connection,
    lock_owner_id,
    start_sync_run,
    store_credential,
    upsert_directory,
)

JAN31, FEB1, FEB2 = dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 2, 2)
METRICS = [
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "requests",
]


@pytest.fixture
def stored(engine: Engine, connection_id: int) -> int:
    """Three days across a month boundary, two models, two workspaces, one row without a model."""
    usage_records = [
        usage(JAN31, model="claude-a", tokens=10, workspace_id="wrk_a", api_key_id="apikey_a"),
        usage(FEB1, model="claude-a", tokens=20, workspace_id="wrk_a", api_key_id="apikey_a"),
        usage(
            FEB1,
            model="claude-b",
            tokens=30,
            workspace_id="wrk_b",
            api_key_id="apikey_b",
            service_tier="batch",
        ),
        usage(
            FEB2,
            model="claude-b",
            tokens=40,
            workspace_id="wrk_b",
            api_key_id="apikey_b",
            context_window="200k-1M",
        ),
        usage(FEB2, model=None, tokens=50, workspace_id="wrk_a", api_key_id=None),
    ]
    cost_records = [
        cost(JAN31, model="claude-a", cents="0.0000015"),
        cost(FEB1, model="claude-a", cents="12.5"),
        cost(FEB2, model="claude-b", cents="100.0000001", workspace_id="wrk_b"),
    ]
    window = Window(JAN31, FEB2 + dt.timedelta(days=1))
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", window.start, window.end, 3)
        writer = WindowWriter(conn, connection_id, run, window)
        writer.write_usage(usage_records)
        writer.write_cost(cost_records)
        writer.finish()
        upsert_directory(
            conn,
            connection_id,
            Directory(
                workspaces=[
                    WorkspaceInfo(id="wrk_a", name="Default"),
                    WorkspaceInfo(id="wrk_b", name="Research"),
                ],
                api_keys=[ApiKeyInfo(id="apikey_a", name="Test key A")],
            ),
        )
    return connection_id


def _usage(engine: Engine, **kwargs):
    with engine.connect() as conn:
        return query_usage(conn, UsageQuery(**kwargs))


@pytest.mark.parametrize("field", GROUP_FIELDS)
def test_every_group_field_groups_and_keeps_totals(engine: Engine, stored: int, field: str) -> None:
    """Grouping by any one field partitions the same totals; JSON keys are that field plus the metrics."""
    report = _usage(engine, connection_id=stored, group_by=(field,))
    assert sum(row.input_tokens for row in report.rows) == report.totals.input_tokens == 150
    key = {"organization": "organization_id", "workspace": "workspace_id", "api_key": "api_key_id"}.get(
        field, field
    )
    for row in report.rows:
        assert list(row.as_json()) == [key, *METRICS]
    assert report.total_rows == len(report.rows)


def test_grouping_by_date_and_month(engine: Engine, stored: int) -> None:
    """date → YYYY-MM-DD, month → YYYY-MM."""
    by_day = _usage(engine, connection_id=stored, group_by=("date",))
    assert [(r.as_json()["date"], r.input_tokens) for r in by_day.rows] == [
        ("2026-01-31", 10),
        ("2026-02-01", 50),
        ("2026-02-02", 90),
    ]
    by_month = _usage(engine, connection_id=stored, group_by=("month",))
    assert [(r.month, r.input_tokens) for r in by_month.rows] == [("2026-01", 10), ("2026-02", 140)]


def test_metrics_follow_the_user_facing_definitions(engine: Engine, stored: int) -> None:
    """input = uncached; cache creation = 5m + 1h; requests summed."""
    totals = _usage(engine, connection_id=stored, group_by=()).totals.as_json()
    assert totals == {
        "input_tokens": 150,
        "output_tokens": 300,
        "cache_read_input_tokens": 450,
        "cache_creation_input_tokens": 150 * 9,
        "cache_creation_5m_input_tokens": 600,
        "cache_creation_1h_input_tokens": 750,
        "requests": 15,
    }


def test_empty_dimensions_come_back_as_none_and_names_sit_beside_ids(engine: Engine, stored: int) -> None:
    """'' is None again; workspace and API key names are joined for pages."""
    rows = _usage(engine, connection_id=stored, group_by=("model", "workspace", "api_key")).rows
    no_model = [r for r in rows if r.model is None]
    assert len(no_model) == 1 and no_model[0].api_key_id is None
    named = {(r.workspace_id, r.workspace_name, r.api_key_id, r.api_key_name) for r in rows}
    assert ("wrk_a", "Default", "apikey_a", "Test key A") in named
    assert ("wrk_b", "Research", "apikey_b", None) in named
    assert rows[0].as_json(names=True)["workspace_name"] in {"Default", "Research"}
    assert "workspace_name" not in rows[0].as_json()


def test_since_and_until_are_inclusive(engine: Engine, stored: int) -> None:
    """Both ends of the range count."""
    report = _usage(engine, connection_id=stored, since=FEB1, until=FEB1, group_by=("date",))
    assert [(r.date, r.input_tokens) for r in report.rows] == [(FEB1, 50)]
    assert _usage(engine, connection_id=stored, since=FEB2, group_by=()).totals.input_tokens == 90
    assert _usage(engine, connection_id=stored, until=JAN31, group_by=()).totals.input_tokens == 10


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"model": ["claude-a"]}, 30),
        ({"model": ["claude-a", "claude-b"]}, 100),
        ({"workspace": ["wrk_b"]}, 70),
        ({"workspace_id": ["wrk_a"]}, 80),
        ({"api_key": ["apikey_b"]}, 70),
        ({"service_tier": ["batch"]}, 30),
        ({"context_window": ["200k-1M"]}, 40),
        ({"organization": ["org-demo"]}, 150),
        ({"organization": ["org-other"]}, 0),
        ({"model": ["claude-b"], "service_tier": ["standard"]}, 40),
    ],
)
def test_filters(engine: Engine, stored: int, filters: dict, expected: int) -> None:
    """Each filter narrows rows and totals; several filters combine with AND."""
    assert _usage(engine, connection_id=stored, filters=filters, group_by=()).totals.input_tokens == expected


def test_sorting_and_paging_keep_totals_over_the_whole_set(engine: Engine, stored: int) -> None:
    """Order by a metric descending, page through; total_rows and totals ignore the page."""
    query = {
        "connection_id": stored,
        "group_by": ("date", "model"),
        "order_by": "input_tokens",
        "descending": True,
    }
    page1 = _usage(engine, **query, limit=2, offset=0)
    page2 = _usage(engine, **query, limit=2, offset=2)
    beyond = _usage(engine, **query, limit=2, offset=10)
    assert [r.input_tokens for r in page1.rows + page2.rows] == [50, 40, 30, 20]
    assert page1.total_rows == page2.total_rows == beyond.total_rows == 5
    assert page1.totals == page2.totals == beyond.totals
    assert beyond.rows == [] and beyond.totals.input_tokens == 150
    by_model = _usage(
        engine, connection_id=stored, group_by=("model",), order_by="model", descending=True
    ).rows
    assert [r.model for r in by_model] == ["claude-b", "claude-a", None]


def test_bad_queries_are_usage_errors(engine: Engine, stored: int) -> None:
    """Unknown group fields, filters, sort keys, reversed ranges are refused clearly."""
    with pytest.raises(UsageError, match="group by"):
        UsageQuery(group_by=("color",))
    with pytest.raises(UsageError, match="filter"):
        UsageQuery(filters={"color": ["red"]})
    with pytest.raises(UsageError, match="after"):
        UsageQuery(since=FEB2, until=FEB1)
    with pytest.raises(UsageError, match="order by"):
        _usage(engine, connection_id=stored, order_by="amount_usd")


def test_reports_are_tenant_scoped(engine: Engine, stored: int) -> None:
    """Another tenant sees none of this connection's usage, and cannot name it."""
    with engine.begin() as conn:
        from usageledger.store.tables import tenants

        other = int(
            conn.execute(
                tenants.insert().values(name="other", created_at=dt.datetime.now(dt.UTC))
            ).inserted_primary_key[0]
        )
        mine = ensure_default_tenant(conn)
        insert_connection(
            conn,
            tenant_id=other,
            name="theirs",
            provider="anthropic",
            base_url="u",
            organization_id=None,
            organization_name=None,
            key_hint=None,
            source=None,
        )
    assert _usage(engine, tenant_id=mine, group_by=()).totals.input_tokens == 150
    assert _usage(engine, tenant_id=other, group_by=()).totals.input_tokens == 0
    assert _usage(engine, tenant_id=other, group_by=()).total_rows == 0
    with pytest.raises(NotFoundError):
        _usage(engine, tenant_id=other, connection_id=stored)


def test_cost_report_is_exact_decimal_dollars(engine: Engine, stored: int) -> None:
    """Cents become Decimal dollars; JSON shows them as fixed-decimal strings."""
    with engine.connect() as conn:
        report = query_cost(conn, UsageQuery(connection_id=stored, group_by=("date", "workspace")))
    assert report.totals.amount_usd == Decimal("1.12500002")  # 2 + 12,500,000 + 100,000,000 micro-cents
    assert [r.as_json() for r in report.rows] == [
        {
            "date": "2026-01-31",
            "workspace_id": "wrk_a",
            "amount_usd": "0.00000002",
            "list_amount_usd": "0.00000003",
        },
        {
            "date": "2026-02-01",
            "workspace_id": "wrk_a",
            "amount_usd": "0.12500000",
            "list_amount_usd": "0.25000000",
        },
        {
            "date": "2026-02-02",
            "workspace_id": "wrk_b",
            "amount_usd": "1.00000000",
            "list_amount_usd": "2.00000000",
        },
    ]
    assert report.totals.as_json() == {"amount_usd": "1.12500002", "list_amount_usd": "2.25000003"}


def test_status_report_shows_what_status_json_needs(engine: Engine, stored: int) -> None:
    """Rows stored, day range, key hint, credential and lock state per connection."""
    with engine.begin() as conn:
        store_credential(conn, stored, b"sealed-test", "kek")
        acquire_sync_lock(conn, stored, lock_owner_id(), 60)
        (status,) = status_report(conn, tenant_id=ensure_default_tenant(conn))
    data = status.as_json()
    assert data["rows_stored"] == 5 and data["cost_rows_stored"] == 3
    assert (data["first_day"], data["last_day"]) == ("2026-01-31", "2026-02-02")
    assert data["key_hint"] == "sk-ant-admin01-…fake" and data["has_credential"] is True
    assert data["sync_running"] is True and data["last_sync_status"] == "running"
    assert {
        "id",
        "name",
        "provider",
        "organization_id",
        "organization_name",
        "state",
        "source",
        "last_sync_started_at",
        "last_sync_finished_at",
        "last_sync_succeeded_at",
        "data_refreshed_at",
    } <= set(data)


def _cost_only_record(engine: Engine, connection_id: int, day: dt.date) -> None:
    """A day with a cost but no tokens (a server tool charge, no model)."""
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", day, day + dt.timedelta(days=1), 1)
        writer = WindowWriter(conn, connection_id, run, Window(day, day + dt.timedelta(days=1)))
        writer.write_usage([])
        writer.write_cost([cost(day, model=None, cents="7")])
        writer.finish()


@pytest.mark.parametrize("group_by", [("date", "workspace"), ("model",), ("date", "model"), ()])
def test_usage_with_cost_has_each_groups_cost_beside_its_tokens(
    engine: Engine, stored: int, group_by
) -> None:
    """Each usage row's amount equals the cost report's for the same group; tokens equal the plain usage report."""
    _cost_only_record(engine, stored, FEB2 + dt.timedelta(days=1))
    with engine.connect() as conn:
        both = query_usage(conn, UsageQuery(connection_id=stored, group_by=group_by, with_cost=True))
        plain = query_usage(conn, UsageQuery(connection_id=stored, group_by=group_by))
        costs = query_cost(conn, UsageQuery(connection_id=stored, group_by=group_by))

    def key(row):
        return tuple(getattr(row, f if f in ("date", "month", "model") else f"{f}_id") for f in group_by)

    cost_of = {key(r): (r.amount_usd, r.list_amount_usd) for r in costs.rows}
    tokens_of = {key(r): r.input_tokens for r in plain.rows}
    assert {key(r) for r in both.rows} == set(cost_of) | set(tokens_of)
    for row in both.rows:
        assert (row.amount_usd, row.list_amount_usd) == cost_of.get(key(row), (Decimal(0), Decimal(0)))
        assert row.input_tokens == tokens_of.get(key(row), 0)
    assert both.totals.amount_usd == costs.totals.amount_usd == Decimal("1.19500002")
    assert both.totals.input_tokens == plain.totals.input_tokens == 150


def test_cost_shares_are_exact_and_add_up_to_100(engine: Engine, stored: int) -> None:
    """cost_share is amount / period total × 100 in Decimal; the shares of every row add up to 100."""
    with engine.connect() as conn:
        report = query_usage(
            conn, UsageQuery(connection_id=stored, group_by=("date", "model"), with_cost=True)
        )
    total = report.totals.amount_usd
    for row in report.rows:
        assert isinstance(row.cost_share, Decimal)
        assert row.cost_share == row.amount_usd * 100 / total
    assert abs(sum(r.cost_share for r in report.rows) - 100) < Decimal("1e-20")
    assert report.totals.cost_share == 100
    shown = report.rows[0].as_json()
    assert set(shown) >= {"amount_usd", "list_amount_usd", "cost_share"}
    assert all(isinstance(shown[k], str) for k in ("amount_usd", "list_amount_usd", "cost_share"))


def test_a_period_without_cost_has_no_shares(engine: Engine, stored: int) -> None:
    """With no cost in the range, amounts are 0 and shares are None (not a division by zero)."""
    with engine.connect() as conn:
        report = query_usage(conn, UsageQuery(connection_id=stored, since=FEB2, until=FEB2, filters={"model": [""]},
                                              group_by=("model",), with_cost=True))  # fmt: skip
    assert [(r.input_tokens, r.amount_usd, r.cost_share) for r in report.rows] == [(50, Decimal(0), None)]
    assert report.rows[0].as_json()["cost_share"] is None


def test_newest_first_then_costliest(engine: Engine, stored: int) -> None:
    """newest_first puts the latest day first; within a day, `order_by` decides (here: cost, descending)."""
    with engine.connect() as conn:
        rows = query_usage(conn, UsageQuery(connection_id=stored, group_by=("date", "model"), with_cost=True,
                                            order_by="amount_usd", descending=True, newest_first=True)).rows  # fmt: skip
    days = [r.date for r in rows]
    assert days == sorted(days, reverse=True)
    feb1 = [(r.model, r.amount_usd) for r in rows if r.date == FEB1]
    assert feb1 == [("claude-a", Decimal("0.125")), ("claude-b", Decimal(0))]


def test_streamed_usage_equals_the_paged_report(engine: Engine, stored: int) -> None:
    """iter_usage yields the same rows, in the same order, as query_usage, however small its chunks."""
    from usageledger.reports.usage import iter_usage

    query = UsageQuery(connection_id=stored, group_by=("date", "workspace", "model"), with_cost=True)
    with engine.connect() as conn:
        paged = query_usage(conn, query).rows
        chunks = list(iter_usage(conn, query, chunk_rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1] and [r for c in chunks for r in c] == paged
