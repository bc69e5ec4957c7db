"""The window writer and closed months, at the store (SQLite and PostgreSQL): a closed day's rows, rollups
and row counts stay as they were; what the re-fetch changed is booked once, to the first open month."""

# ruff: noqa: F811  (the store fixtures are imported and used as arguments)

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))

from store_db_fixtures import connection_id, cost, engine, pg_database_url, usage  # noqa: E402, F401

from usageledger.models import Window  # noqa: E402
from usageledger.store import WindowWriter, ensure_default_tenant, start_sync_run  # noqa: E402
from usageledger.store.closes import set_month_closed  # noqa: E402
from usageledger.store.tables import connections, cost_adjustments, cost_rollups, cost_rows, events  # noqa: E402

OCT31, NOV1 = dt.date(2026, 10, 31), dt.date(2026, 11, 1)
WINDOW = Window(dt.date(2026, 10, 30), dt.date(2026, 11, 2))  # 30 Oct – 1 Nov: across the month's end


def _sync(engine: Engine, connection_id: int, cost_records: list, usage_records: list | None = None):
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
        writer = WindowWriter(conn, connection_id, run, WINDOW)
        writer.write_usage(usage_records or [])
        writer.write_cost(cost_records)
        return writer.finish()


def _state(engine: Engine) -> tuple:
    with engine.connect() as conn:
        rows = conn.execute(
            select(cost_rows.c.day, cost_rows.c.model, cost_rows.c.amount_microcents).order_by(
                cost_rows.c.day, cost_rows.c.model
            )
        ).all()
        rollup = cost_rollups["model"]
        sums = conn.execute(
            select(rollup.c.day, func.sum(rollup.c.amount_microcents))
            .group_by(rollup.c.day)
            .order_by(rollup.c.day)
        ).all()
        counts = conn.execute(select(connections.c.cost_rows_stored, connections.c.usage_rows_stored)).one()
    return [tuple(r) for r in rows], [tuple(s) for s in sums], tuple(counts)


def _close_october(engine: Engine, connection_id: int) -> None:
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        set_month_closed(
            conn, tenant, connection_id, dt.date(2026, 10, 1), closed=True, by="test", reported_microcents=0
        )


def test_a_closed_day_keeps_its_rows_and_the_revision_is_booked_once(
    engine: Engine, connection_id: int
) -> None:
    days = [dt.date(2026, 10, 30), OCT31, NOV1]
    _sync(engine, connection_id, [cost(d, cents="10") for d in days] + [cost(OCT31, model="gone", cents="4")],
          [usage(d) for d in days])  # fmt: skip
    _close_october(engine, connection_id)
    rows, sums, counts = _state(engine)

    # Upstream: 31 Oct's claude-test goes 10 → 13 cents, its "gone" row vanishes, a new row appears; 1 Nov too.
    revised = [cost(dt.date(2026, 10, 30), cents="10"), cost(OCT31, cents="13"), cost(OCT31, model="new", cents="1"),
               cost(NOV1, cents="20")]  # fmt: skip
    result = _sync(engine, connection_id, revised, [usage(d, tokens=999) for d in days])
    after_rows, after_sums, after_counts = _state(engine)
    october = [r for r in rows if r[0] < NOV1]
    assert [r for r in after_rows if r[0] < NOV1] == october  # closed rows untouched, "gone" kept
    assert [s for s in after_sums if s[0] < NOV1] == [s for s in sums if s[0] < NOV1]  # rollups too
    assert (NOV1, "claude-test", 20_000_000) in after_rows  # the open month is replaced as always
    assert after_counts == counts and result.adjusted == 3 and result.revised == 2  # Nov's usage and cost
    with engine.connect() as conn:
        booked = conn.execute(
            select(cost_adjustments.c.model, cost_adjustments.c.amount_microcents, cost_adjustments.c.booked_month)
            .order_by(cost_adjustments.c.model)
        ).all()  # fmt: skip
        kinds = [e.kind for e in conn.execute(select(events.c.kind))]
    assert [tuple(b) for b in booked] == [
        ("claude-test", 3_000_000, NOV1),
        ("gone", -4_000_000, NOV1),
        ("new", 1_000_000, NOV1),
    ]
    assert kinds.count("adjustment") == 1

    again = _sync(engine, connection_id, revised, [usage(d, tokens=999) for d in days])
    assert again.adjusted == 0 and _state(engine)[0] == after_rows
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cost_adjustments)).scalar_one() == 3
