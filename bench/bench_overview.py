"""Benchmark (not a test): the overview for 3 organizations with a year each (≥ 2M usage rows), SQLite and PostgreSQL.

Fills a database straight from three fake organizations' ground truth (365 days × ~2,100 group rows a
day each, usage and cost, through the store's window writer as a sync would), then times the overview
read model (`build_overview`) for a few periods, the `/overview` page and `GET /api/v1/overview`,
median of `--repeat` runs after one warm-up. PostgreSQL gets a fresh database at --postgres-url's server,
analysed after the fill (as autovacuum would), and dropped at the end.
Usage: python bench/bench_overview.py [--rows-per-day 2100] [--repeat 15] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet
from fake_store import store_fake_organization  # bench/'s shared set-up (bench/ is on sys.path)
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.reports.overview import build_overview
from usageledger.reports.periods import Period, resolve_period
from usageledger.store import accounts
from usageledger.web import create_app

TODAY = dt.datetime.now(dt.UTC).date()
DAYS = 365
SEEDS = (3, 4, 5)
PASSWORD = "bench-password-123"


def _fill_one(engine: Engine, tenant_id: int, fake: FakeOrganization) -> None:
    store_fake_organization(
        engine, tenant_id, fake, TODAY - dt.timedelta(days=DAYS - 1), TODAY + dt.timedelta(days=1)
    )


def _fill(engine: Engine, rows_per_day: int) -> int:
    with engine.begin() as conn:
        tenant_id = store.ensure_default_tenant(conn)
    for seed in SEEDS:
        _fill_one(engine, tenant_id, FakeOrganization(seed=seed, rows_per_day=rows_per_day, today=TODAY,
                                                      name=f"Bench org {seed}"))  # fmt: skip
    return tenant_id


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    call()  # warm caches once, as a second visitor would find them
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


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
        started = time.perf_counter()
        tenant_id = _fill(engine, args.rows_per_day)
        if backend == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        with engine.connect() as conn:
            rows = sum(c.rows_stored for c in store.list_connections(conn, tenant_id))
            cost_rows = sum(c.cost_rows_stored for c in store.list_connections(conn, tenant_id))
        print(f"[{backend}] filled {rows:,} usage and {cost_rows:,} cost rows for {len(SEEDS)} organizations "
              f"in {time.perf_counter() - started:.0f} s (today {TODAY})")  # fmt: skip
        for preset in ("this-month", "last-month", "90d", "ytd"):
            period = resolve_period(preset, None, None, today=TODAY)

            def read(period: Period = period) -> object:
                with engine.connect() as conn:
                    return build_overview(conn, tenant_id=tenant_id, period=period, today=TODAY)

            print(
                f"[{backend}] overview read model, {preset:<10}: median {_median_ms(read, args.repeat):6.1f} ms"
            )
        with engine.begin() as conn:
            user_id = accounts.create_user(conn, tenant_id, "bench@example.com", PASSWORD, "admin")
            token = accounts.create_access_token(
                conn, tenant_id=tenant_id, user_id=user_id, name="bench"
            ).token
        app = create_app(settings, engine)
        with TestClient(app) as browser:
            page = browser.get("/login")
            csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            browser.post(
                "/login", data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": csrf}
            )
            for label, url in (
                ("/overview page      ", "/overview"),
                ("/overview page, ytd ", "/overview?period=ytd"),
            ):

                def get(url: str = url) -> object:
                    response = browser.get(url)
                    assert response.status_code == 200, (url, response.status_code, response.text[:300])
                    return response

                print(f"[{backend}] {label}: median {_median_ms(get, args.repeat):6.1f} ms")
        with TestClient(app, headers={"authorization": f"Bearer {token}"}) as api:

            def get_api() -> object:
                response = api.get("/api/v1/overview")
                assert response.status_code == 200, response.text[:300]
                return response

            print(f"[{backend}] GET /api/v1/overview: median {_median_ms(get_api, args.repeat):6.1f} ms")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=2100, help="group rows a day per organization")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        _bench(backend, args)


if __name__ == "__main__":
    main()
