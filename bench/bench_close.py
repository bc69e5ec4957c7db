"""Benchmark (not a test): what a closed month costs the window writer, and how fast months are reconciled.

Writes a month of cost rows (SQLite, a temporary file) three times through the store's WindowWriter: the
backfill; a re-fetch with a tenth of the rows revised while the month is open (rows replaced); and the same
re-fetch after the month is closed (rows kept, revisions booked as adjustments). Then reads the month's
reconciliation and twelve months' states. Prints rows, seconds and rows/s for each.
Usage: python bench/bench_close.py [--rows-per-day 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from usageledger.config import Settings
from usageledger.models import CostRecord, Dimensions, Window
from usageledger.reports.month_close import read_months, read_reconciliation
from usageledger.store import (
    WindowWriter,
    create_engine_for,
    ensure_default_tenant,
    insert_connection,
    migrate,
    start_sync_run,
)
from usageledger.store.closes import set_month_closed
from usageledger.store.tables import cost_adjustments

OCTOBER = Window(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
TOKEN_TYPES = ("uncached_input_tokens", "output_tokens", "cache_read_input_tokens")


def _records(rows_per_day: int, revision: int) -> list[CostRecord]:
    """`rows_per_day` cost rows a day; with `revision` 1, every tenth row's amount is 7 cents higher."""
    out = []
    day = OCTOBER.start
    while day < OCTOBER.end:
        for i in range(rows_per_day):
            dims = Dimensions(
                "org_1", f"wrk_{i % 7}", f"key_{i // len(TOKEN_TYPES)}", "claude-x", "standard", "0-200k"
            )
            cents = Decimal(100 + i) + (Decimal(7) if revision and i % 10 == 0 else 0)
            out.append(CostRecord(day, dims, cents, cents * 2, "USD", None, ("tokens", TOKEN_TYPES[i % 3])))
        day += dt.timedelta(days=1)
    return out


def _write(engine, connection_id: int, records: list[CostRecord]) -> tuple[float, int]:
    started = time.perf_counter()
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "range", OCTOBER.start, OCTOBER.end, OCTOBER.days)
        writer = WindowWriter(conn, connection_id, run, OCTOBER)
        writer.write_usage([])
        writer.write_cost(records)
        result = writer.finish()
    return time.perf_counter() - started, result.adjusted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        engine = create_engine_for(Settings(home=Path(home), secret_key=None))
        migrate(engine)
        with engine.begin() as conn:
            tenant = ensure_default_tenant(conn)
            cid = insert_connection(conn, tenant_id=tenant, name="bench", provider="anthropic",
                                    base_url="http://fake.test", organization_id="org_1", organization_name="Bench",
                                    key_hint="sk-ant-admin01-…", source="analytics")  # fmt: skip
        first, revised = _records(args.rows_per_day, 0), _records(args.rows_per_day, 1)
        rows = len(first)
        print(f"{rows:,} cost rows in October ({args.rows_per_day:,} a day); SQLite")
        print(f"{'write':<44} {'seconds':>8} {'rows/s':>10} {'adjustments':>12}")
        for label, records, close in (
            ("backfill (nothing stored)", first, False),
            ("re-fetch, month open, 10% revised", revised, False),
            ("re-fetch back, month open (10% revised)", first, False),
            ("re-fetch, month closed, 10% revised", revised, True),
            ("same re-fetch again, month closed", revised, False),
        ):
            if close:
                with engine.begin() as conn:
                    set_month_closed(
                        conn, tenant, cid, OCTOBER.start, closed=True, by="bench", reported_microcents=0
                    )
            seconds, adjusted = _write(engine, cid, records)
            print(f"{label:<44} {seconds:>8.2f} {rows / seconds:>10,.0f} {adjusted:>12,}")
        with engine.connect() as conn:
            booked = conn.execute(select(func.count()).select_from(cost_adjustments)).scalar_one()
            today = dt.date(2026, 11, 26)
            started = time.perf_counter()
            rec = read_reconciliation(conn, tenant, OCTOBER.start, today=today, lookback_days=3)
            one = time.perf_counter() - started
            started = time.perf_counter()
            months = read_months(
                conn, tenant, dt.date(2025, 12, 1), dt.date(2026, 12, 1), today=today, lookback_days=3
            )
            twelve = time.perf_counter() - started
        print(
            f"adjustments stored: {booked:,}; October {rec.state}, reported ${rec.reported_microcents / 10**8:,.2f}"
        )
        print(
            f"reconcile one month: {one * 1000:.1f} ms; twelve months' states: {twelve * 1000:.1f} ms ({len(months)})"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
