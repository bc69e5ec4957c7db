"""Benchmark (not a test): allocation over a year of one large organization's actor grain, SQLite and PostgreSQL.

Fills a database from a fake organization's ground truth (both grains, `--days` days, ~`--rows-per-day`
group rows a day, written through the store's window writer as a sync would), adds a person for every
other user of its directory in two teams, then times `allocate` by each dimension for 30 days and for
the whole range: median of `--repeat` runs after one warm-up. It also checks that every allocation adds
up to the reported total (balanced), so a fast wrong answer cannot pass. `--compare-rows` also times
each allocation reading the actor rows themselves (as before the `cost_by_actor` rollup), interleaved
with the rollup's runs so both see the same load, and checks both give the same rows.
Usage: python bench/bench_allocation.py [--rows-per-day 2100] [--days 365] [--repeat 5] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet
from fake_store import store_fake_organization  # bench/'s shared set-up (bench/ is on sys.path)
from sqlalchemy import Engine, create_engine, make_url, text

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.reports import allocation_data
from usageledger.reports.allocation import ALLOCATION_DIMENSIONS, Allocation, allocate
from usageledger.reports.periods import Period
from usageledger.store.tables import actor_cost_rollup, actor_cost_rows, people, team_members, teams

TODAY = dt.datetime.now(dt.UTC).date()


def _fill(engine: Engine, fake: FakeOrganization, days: int) -> int:
    with engine.begin() as conn:
        tenant = store.ensure_default_tenant(conn)
    start, end = TODAY - dt.timedelta(days=days - 1), TODAY + dt.timedelta(days=1)
    store_fake_organization(engine, tenant, fake, start, end, actor_grain=True)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        team_ids = [conn.execute(teams.insert().values(tenant_id=tenant, display_name=name, cost_center=f"CC-{i}",
                                                       source="manual", created_at=now, updated_at=now))
                    .inserted_primary_key[0] for i, name in enumerate(("Core", "Apps"))]  # type: ignore[index]  # fmt: skip
        for i, user in enumerate(fake.users[::2]):
            person = conn.execute(people.insert().values(
                tenant_id=tenant, user_name=user["email"], email=user["email"].lower(), display_name=user["name"],
                source="csv", created_at=now, updated_at=now,
            )).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
            conn.execute(team_members.insert().values(team_id=team_ids[i % 2], person_id=person))
    return tenant


@contextmanager
def _database(backend: str, home: Path, postgres_url: str) -> Iterator[Settings]:
    secret = Fernet.generate_key().decode()
    if backend == "sqlite":
        yield Settings(home=home, secret_key=secret)
        return
    name = f"ul_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield Settings(home=home, secret_key=secret, database_url=url)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _bench(backend: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as home, _database(backend, Path(home), args.postgres_url) as settings:
        engine = store.create_engine_for(settings)
        store.migrate(engine)
        fake = FakeOrganization(seed=7, rows_per_day=args.rows_per_day)
        started = time.perf_counter()
        tenant = _fill(engine, fake, args.days)
        if backend == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        print(f"{backend}: filled {args.days} days in {time.perf_counter() - started:.0f} s")
        with engine.connect() as conn:
            sizes = [conn.execute(text(f"SELECT COUNT(*) FROM {t.name}")).scalar_one()
                     for t in (actor_cost_rows, actor_cost_rollup)]  # fmt: skip
        print(
            f"{backend}: {sizes[0]:,} actor cost rows, {sizes[1]:,} rows in their rollup {actor_cost_rollup.name}"
        )
        sources = {"rollup": actor_cost_rollup, **({"rows": actor_cost_rows} if args.compare_rows else {})}
        periods = {
            "30 days": Period("30d", "Last 30 days", TODAY - dt.timedelta(days=29), TODAY + dt.timedelta(days=1)),
            f"{args.days} days": Period("all", "All", TODAY - dt.timedelta(days=args.days - 1),
                                        TODAY + dt.timedelta(days=1)),
        }  # fmt: skip
        for label, period in periods.items():
            for by in ALLOCATION_DIMENSIONS:
                times: dict[str, list[float]] = {source: [] for source in sources}
                found: dict[str, Allocation] = {}
                for _ in range(args.repeat + 1):
                    for source, table in sources.items():  # interleaved: both see the same load
                        allocation_data._SPEND_TABLE = table
                        t0 = time.perf_counter()
                        with engine.connect() as conn:
                            found[source] = allocate(conn, tenant, by, period)
                        times[source].append((time.perf_counter() - t0) * 1000)
                        if not found[source].balanced:
                            sys.exit(f"{backend} {label} by {by} ({source}): not balanced: "
                                     f"{found[source].imbalance_note}")  # fmt: skip
                allocation_data._SPEND_TABLE = actor_cost_rollup
                if args.compare_rows and found["rows"].rows != found["rollup"].rows:
                    sys.exit(f"{backend} {label} by {by}: the rollup's allocation differs from the rows'")
                figures = "  ".join(
                    f"{source} {statistics.median(ms[1:]):8.1f} ms" for source, ms in times.items()
                )
                print(f"{backend}  {label:>9}  by {by:<12} {figures}  "
                      f"({len(found['rollup'].rows)} rows, {found['rollup'].total_usd} USD)")  # fmt: skip
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=2100, help="group rows a day")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--compare-rows", action="store_true", help="also time reading the actor rows")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        _bench(backend, args)


if __name__ == "__main__":
    main()
