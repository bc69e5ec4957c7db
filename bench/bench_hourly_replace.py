"""Benchmark (not a test): a large organization's hourly rows stored, then the same hours stored again.

Each sync that reaches today makes the connection's hourly rows equal to the hours it fetched
(`store.hourly.replace_hours`); past hours rarely move, so the second and later replacements find
every row unchanged and write none. This prints the time of the first replacement (every row new) and the
median of the next ones, on SQLite and, with `--postgres URL`, in a new database on that server.

Usage: python bench/bench_hourly_replace.py [--rows-per-day 2300] [--repeat 6] [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from bench_sync import bench_database

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.store.hourly import replace_hours
from usageledger.sync.hourly import hourly_range

SEED = 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=2300)
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument(
        "--postgres", default=None, metavar="URL", help="also in a new database on this server"
    )
    args = parser.parse_args()

    fake = FakeOrganization(seed=SEED, rows_per_day=args.rows_per_day)
    start, end = hourly_range(fake.today, dt.datetime.now(dt.UTC), lookback_days=3)
    usage, cost = fake.truth_hourly_usage(start, end), fake.truth_hourly_cost(start, end)
    print(
        f"{len(usage):,} usage + {len(cost):,} cost hourly rows ({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M})"
    )
    for postgres in (None, args.postgres) if args.postgres else (None,):
        with tempfile.TemporaryDirectory() as home, bench_database(home, postgres) as url:
            engine = store.create_engine_for(Settings(home=Path(home), database_url=url))
            try:
                store.migrate(engine)
                with engine.begin() as conn:
                    tenant_id = store.ensure_default_tenant(conn)
                    connection_id = store.insert_connection(
                        conn, tenant_id=tenant_id, name="bench", provider="anthropic", base_url="http://127.0.0.1:9",
                        organization_id=None, organization_name=None, key_hint=None, source=None,
                    )  # fmt: skip
                seconds = []
                for run_id in range(1, args.repeat + 2):
                    started = time.perf_counter()
                    with engine.begin() as conn:
                        replace_hours(conn, connection_id, run_id, usage, cost)
                    seconds.append(time.perf_counter() - started)
                print(
                    f"{engine.dialect.name}: first {seconds[0] * 1000:.0f} ms (every row new); the same hours "
                    f"again {statistics.median(seconds[1:]) * 1000:.0f} ms (median of {args.repeat})"
                )
            finally:
                engine.dispose()


if __name__ == "__main__":
    main()
