"""WindowWriter: replace, never add; vanished rows removed; exact money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from store_db_fixtures import cost, usage

from usageledger.models import Window
from usageledger.store import RepeatedRowError, WindowWriter, cents_to_microcents, start_sync_run
from usageledger.store.tables import connections, cost_rows, usage_rows

D1, D2, D3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
WINDOW = Window(D1, D3)  # D1 and D2


def _sync(
    engine: Engine, connection_id: int, usage_records: list, cost_records: list, window: Window = WINDOW
):
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", window.start, window.end, window.days)
        writer = WindowWriter(conn, connection_id, run, window)
        writer.write_usage(usage_records)
        writer.write_cost(cost_records)
        return writer.finish()


def _snapshot(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        u = conn.execute(select(usage_rows).order_by(usage_rows.c.day, usage_rows.c.model)).all()
        c = conn.execute(select(cost_rows).order_by(cost_rows.c.day, cost_rows.c.model)).all()
    return [tuple(r[1:-1]) for r in u] + [tuple(r[1:-1]) for r in c]  # without id and sync_run_id


def test_writing_a_window_twice_equals_writing_it_once(engine: Engine, connection_id: int) -> None:
    """Idempotency: the second identical sync changes nothing and revises nothing."""
    records = [usage(D1), usage(D2), usage(D2, model="claude-other")]
    costs = [cost(D1), cost(D2)]
    first = _sync(engine, connection_id, records, costs)
    once = _snapshot(engine)
    second = _sync(engine, connection_id, records, costs)
    assert once == _snapshot(engine)
    assert (first.usage_rows, first.cost_rows, first.revised, first.removed) == (3, 2, 0, 0)
    assert (second.usage_rows, second.cost_rows, second.revised, second.removed) == (3, 2, 0, 0)


def test_revised_numbers_replace_and_vanished_rows_are_removed(engine: Engine, connection_id: int) -> None:
    """A re-synced day replaces its numbers (never adds) and loses the rows that vanished upstream."""
    _sync(
        engine,
        connection_id,
        [usage(D1, tokens=100), usage(D2, tokens=100), usage(D2, model="gone")],
        [cost(D1, cents="1"), cost(D2, model="gone")],
    )
    result = _sync(
        engine,
        connection_id,
        [usage(D1, tokens=250), usage(D2, tokens=100), usage(D2, model="new")],
        [cost(D1, cents="2")],
    )
    assert (result.revised, result.removed) == (2, 2)  # D1 usage + D1 cost revised; two "gone" rows removed
    with engine.connect() as conn:
        models = conn.execute(
            select(usage_rows.c.day, usage_rows.c.model, usage_rows.c.uncached_input_tokens).order_by(
                usage_rows.c.day, usage_rows.c.model
            )
        ).all()
        total_cost = conn.execute(select(func.sum(cost_rows.c.amount_microcents))).scalar()
    assert [tuple(m) for m in models] == [
        (D1, "claude-test", 250),
        (D2, "claude-test", 100),
        (D2, "new", 100),
    ]
    assert total_cost == 2_000_000


def test_rows_outside_the_window_and_unwritten_kinds_are_kept(engine: Engine, connection_id: int) -> None:
    """finish() touches only the window's days, and only the kinds this run wrote."""
    _sync(engine, connection_id, [usage(D3)], [cost(D3)], window=Window(D3, D3 + dt.timedelta(days=1)))
    _sync(engine, connection_id, [usage(D1)], [cost(D1)])
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", D1, D3, 2)
        writer = WindowWriter(conn, connection_id, run, WINDOW)
        writer.write_usage([usage(D2)])
        result = writer.finish()  # cost never written: cost rows stay
    assert result.removed == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(usage_rows)).scalar() == 2  # D2 + D3
        assert conn.execute(select(func.count()).select_from(cost_rows)).scalar() == 2  # D1 + D3


def test_none_dimensions_are_stored_as_empty_strings(engine: Engine, connection_id: int) -> None:
    """Missing dimensions keep the natural key unique: stored as '', upserted, not duplicated."""
    records = [usage(D1, model=None, workspace_id=None)]
    _sync(engine, connection_id, records, [])
    _sync(engine, connection_id, records, [])
    with engine.connect() as conn:
        rows = conn.execute(select(usage_rows.c.model, usage_rows.c.workspace_id, usage_rows.c.speed)).all()
    assert [tuple(r) for r in rows] == [("", "", "")]


@pytest.mark.parametrize(
    ("cents", "microcents"),
    [
        ("0", 0),
        ("1", 1_000_000),
        ("123.456789", 123_456_789),
        ("0.0000005", 0),  # half-even: ties go to the even neighbour
        ("0.0000015", 2),
        ("0.0000025", 2),
        ("-0.0000025", -2),
        ("98765432109.8765432", 98765432109876543),
        ("0.1", 100_000),
    ],
)
def test_cents_become_exact_integer_microcents(cents: str, microcents: int) -> None:
    """Money never passes through float."""
    assert cents_to_microcents(Decimal(cents)) == microcents


def test_decimal_amounts_are_stored_exactly(engine: Engine, connection_id: int) -> None:
    """Sums of many fractional cents stay exact in the database."""
    records = [cost(D1, model=f"m{i}", cents="0.1") for i in range(10)]
    _sync(engine, connection_id, [], records)
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(cost_rows.c.amount_microcents))).scalar()
    assert Decimal(total) / Decimal(1_000_000) == Decimal("1.0")


def test_a_full_window_of_a_large_organization_is_stored_whole(engine: Engine, connection_id: int) -> None:
    """31 days × 2,000 groups, page by page: every row stored once, the stored counts kept in step."""
    days = [D1 + dt.timedelta(days=i) for i in range(31)]
    usage_records = [
        usage(day, model=f"m{i % 7}", api_key_id=f"apikey_{i}") for day in days for i in range(2000)
    ]
    cost_records = [
        cost(day, model=f"m{i % 7}", api_key_id=f"apikey_{i}") for day in days for i in range(2000)
    ]
    window = Window(days[0], days[-1] + dt.timedelta(days=1))
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", window.start, window.end, 31)
        writer = WindowWriter(conn, connection_id, run, window)
        for page in range(0, len(usage_records), 1000):
            writer.write_usage(usage_records[page : page + 1000])
            writer.write_cost(cost_records[page : page + 1000])
        result = writer.finish()
    assert (result.usage_rows, result.cost_rows) == (62_000, 62_000)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(usage_rows)).scalar() == 62_000
        assert conn.execute(select(func.count()).select_from(cost_rows)).scalar() == 62_000
        stored = conn.execute(
            select(connections.c.usage_rows_stored, connections.c.cost_rows_stored).where(
                connections.c.id == connection_id
            )
        ).one()
    assert tuple(stored) == (62_000, 62_000)


@pytest.mark.parametrize("stored_before", [False, True], ids=["empty window", "window with rows"])
def test_a_row_repeated_on_a_later_page_fails_the_window(
    engine: Engine, connection_id: int, stored_before: bool
) -> None:
    """A page repeating an earlier page's row (a cursor led back) is refused; the window keeps nothing."""
    if stored_before:
        _sync(engine, connection_id, [usage(D1), usage(D2)], [cost(D1)])
    before = _snapshot(engine)
    with pytest.raises(RepeatedRowError) as refused, engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
        writer = WindowWriter(conn, connection_id, run, WINDOW)
        writer.write_usage([usage(D1, tokens=7), usage(D2, tokens=7)])
        writer.write_usage([usage(D2, tokens=7)])
    assert refused.value.kind == "usage"
    assert _snapshot(engine) == before
