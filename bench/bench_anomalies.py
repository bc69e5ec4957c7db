"""Benchmark (not a test): one anomaly evaluation (`find_anomalies`) after a sync, SQLite and PostgreSQL.

Fills a database with 90 days of one large fake organization (`--rows-per-day` groups a day) through the
store's window writer, as a sync would (rows and rollups), then times `find_anomalies` for today: every
model, workspace and API key, cost and tokens, over the 53 days it reads. Median of `--repeat` runs after a
warm-up. PostgreSQL gets a fresh database at --postgres-url's server, dropped at the end.
Usage: python bench/bench_anomalies.py [--rows-per-day 2100] [--repeat 5] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fake_store import store_fake_organization  # bench/'s shared set-up (bench/ is on sys.path)
from sqlalchemy import Engine, create_engine, make_url, text

from usageledger import store
from usageledger.alerting.anomalies import DIMENSIONS, METRICS, find_anomalies
from usageledger.config import Settings
from usageledger.fake import FakeOrganization

TODAY = dt.datetime.now(dt.UTC).date()
DAYS = 90


def _fill(engine: Engine, rows_per_day: int) -> int:
    fake = FakeOrganization(seed=3, rows_per_day=rows_per_day, today=TODAY)
    with engine.begin() as conn:
        tenant_id = store.ensure_default_tenant(conn)
    store_fake_organization(engine, tenant_id, fake, TODAY - dt.timedelta(days=DAYS), TODAY, name="Bench")
    return tenant_id


@contextmanager
def _engine(backend: str, postgres_url: str) -> Iterator[Engine]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as home:
            engine = store.create_engine_for(Settings(home=Path(home)))
            store.migrate(engine)
            yield engine
            engine.dispose()
        return
    name = f"ul_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    engine = store.create_engine_for(Settings(home=Path(tempfile.gettempdir()), database_url=url))
    try:
        store.migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-day", type=int, default=2100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        with _engine(backend, args.postgres_url) as engine:
            started = time.perf_counter()
            tenant_id = _fill(engine, args.rows_per_day)
            filled = time.perf_counter() - started
            if backend == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("ANALYZE")
            times, found = [], []
            for _ in range(args.repeat + 1):
                with engine.connect() as conn:
                    started = time.perf_counter()
                    found = find_anomalies(conn, tenant_id, TODAY)
                    times.append(time.perf_counter() - started)
            with engine.connect() as conn:
                keys = conn.execute(text("SELECT count(DISTINCT api_key_id) FROM usage_by_api_key")).scalar()
            print(
                f"{backend}: {DAYS} days × {args.rows_per_day} groups a day filled in {filled:.1f} s; "
                f"{len(METRICS)} metrics × {len(DIMENSIONS)} dimensions ({keys} API keys): "
                f"find_anomalies median {statistics.median(times[1:]) * 1000:.0f} ms "
                f"(min {min(times[1:]) * 1000:.0f}, max {max(times[1:]) * 1000:.0f}) over {args.repeat} runs; "
                f"{len(found)} findings"
            )


if __name__ == "__main__":
    main()
