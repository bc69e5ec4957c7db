"""Benchmark (not a test): the detail page, the overview and the usage API on PostgreSQL with ≥ 10M usage rows.

Fills one organization's year straight from the fake's ground truth through the store's window writer
(as a sync would: rows, cost and every rollup in one transaction a window), then copies it server-side
(`INSERT … SELECT`, one statement a table, no sync and no client round trip per row) into as many more
connections of the same workspace as it takes to pass `--usage-rows`, each with its own organization id.
Then it prints each table's rows and bytes (`pg_total_relation_size`: heap, indexes and TOAST) for the
capacity math, and the median latency of the pages and the API, after one warm-up, as a signed-in
admin (pages) and a token holder (API) would call them.

With `--sizes-from-sync DAYS` it instead syncs one organization of `--rows-per-day` through the fake
Admin API for DAYS days (a real sync: every grain, cost by type, the directory) and prints each table's
rows and bytes per row, the figures the README's capacity math starts from.

Usage: python bench/bench_pg_pages.py [--usage-rows 10000000] [--rows-per-day 2100] [--repeat 9]
       (small first: --usage-rows 1000000 --rows-per-day 600)
       python bench/bench_pg_pages.py --existing ul_bench_pages_…   (re-time a database kept by --keep;
           it is migrated first, so one kept before a new rollup gets it filled by its migration)
       python bench/bench_pg_pages.py --sizes-from-sync 31 --rows-per-day 2100
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
from sqlalchemy import Engine, Integer, create_engine, make_url, text

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.store import accounts
from usageledger.store.tables import metadata
from usageledger.web import create_app

TODAY = dt.datetime.now(dt.UTC).date()
DAYS = 365
PASSWORD = "bench-password-123"
# Tables that describe a connection rather than hold its synced data: not copied.
_NOT_COPIED = {"connections", "credentials", "sync_runs", "events"}


@contextmanager
def _database(postgres_url: str, keep: bool, existing: str | None = None) -> Iterator[str]:
    if existing:
        yield make_url(postgres_url).set(database=existing).render_as_string(hide_password=False)
        return
    name = f"ul_bench_pages_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _fill_template(engine: Engine, tenant_id: int, rows_per_day: int) -> int:
    fake = FakeOrganization(seed=3, rows_per_day=rows_per_day, today=TODAY, name="Bench org 0")
    return store_fake_organization(
        engine, tenant_id, fake, TODAY - dt.timedelta(days=DAYS - 1), TODAY + dt.timedelta(days=1)
    )


def _copy_connection(engine: Engine, tenant_id: int, template_id: int, index: int) -> int:
    """A new connection holding the template's rows under organization id `<template's>-<index>`."""
    with engine.begin() as conn:
        template = store.get_connection(conn, template_id)
        connection_id = store.insert_connection(
            conn, tenant_id=tenant_id, name=f"Bench org {index}", provider="anthropic",
            base_url="http://127.0.0.1:1", organization_id=f"{template.organization_id}-{index}",
            organization_name=f"Bench org {index}", key_hint="sk-ant-admin01-…demo", source="analytics",
        )  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        store.update_connection(
            conn, connection_id, state="connected", cursor_date=template.cursor_date,
            last_sync_succeeded_at=now, last_sync_started_at=now, last_sync_finished_at=now,
        )  # fmt: skip
        for table in metadata.sorted_tables:
            if table.name in _NOT_COPIED or "connection_id" not in table.c:
                continue
            # A serial id is the database's to give; a provider's id (an API key's) is kept as is.
            columns = [c.name for c in table.c if not (c.name == "id" and isinstance(c.type, Integer))]
            chosen = []
            for name in columns:
                if name == "connection_id":
                    chosen.append(":new")
                elif name == "organization_id":
                    chosen.append(
                        f"CASE WHEN organization_id = '' THEN '' ELSE organization_id || '-{index}' END"
                    )
                else:
                    chosen.append(f'"{name}"')
            names = ", ".join(f'"{n}"' for n in columns)
            conn.execute(
                text(
                    f'INSERT INTO "{table.name}" ({names}) SELECT {", ".join(chosen)} '
                    f'FROM "{table.name}" WHERE connection_id = :old'
                ),  # fmt: skip
                {"new": connection_id, "old": template_id},
            )
    return connection_id


def _sizes(engine: Engine) -> list[tuple[str, int, int]]:
    """(table, rows, bytes with indexes and TOAST), largest first."""
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        found = conn.execute(
            text(
                "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "ORDER BY 3 DESC"
            )
        ).all()
    return [(name, max(rows, 0), size) for name, rows, size in found]


def _print_sizes(engine: Engine, limit: int = 14) -> None:
    print(f"{'table':<34} {'rows':>12} {'MiB':>9} {'bytes/row':>10}")
    for name, rows, size in _sizes(engine)[:limit]:
        print(f"{name:<34} {rows:>12,} {size / 2**20:>9.1f} {size / rows if rows else 0:>10.0f}")


def _sizes_from_sync(args: argparse.Namespace) -> None:
    from usageledger.fake import FAKE_ADMIN_KEY, serve_in_thread
    from usageledger.sync import connect_anthropic, run_sync

    fake = FakeOrganization(seed=3, rows_per_day=args.rows_per_day)
    with (
        serve_in_thread(fake) as running,
        tempfile.TemporaryDirectory() as home,
        _database(args.postgres_url, args.keep) as url,
    ):
        settings = Settings(home=Path(home), secret_key=Fernet.generate_key().decode(), database_url=url,
                            anthropic_base_url=running.url, backfill_days=args.sizes_from_sync)  # fmt: skip
        engine = store.create_engine_for(settings)
        store.migrate(engine)
        with engine.begin() as conn:
            tenant_id = store.ensure_default_tenant(conn)
        connection_id = connect_anthropic(
            settings, engine, tenant_id=tenant_id, admin_key=FAKE_ADMIN_KEY
        ).connection_id
        summary = run_sync(settings, engine, connection_id)
        fake.calls.reset()
        again = run_sync(settings, engine, connection_id)
        print(f"synced {summary.days} days of {args.rows_per_day} group rows a day: {summary.usage_rows:,} usage "
              f"and {summary.cost_rows:,} cost rows, {summary.api_calls} calls; an incremental sync after it: "
              f"{again.api_calls} calls ({again.days} days)")  # fmt: skip
        _print_sizes(engine)
        engine.dispose()


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    call()  # warm caches once, as a second visitor would find them
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--usage-rows", type=int, default=10_000_000, help="at least this many usage rows in all"
    )
    parser.add_argument(
        "--rows-per-day", type=int, default=2100, help="group rows a day of the template organization"
    )
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--existing", metavar="NAME", help="time a database kept by --keep, without filling")
    parser.add_argument(
        "--sizes-from-sync", type=int, metavar="DAYS", help="only measure row sizes of a real sync"
    )
    args = parser.parse_args()
    if args.sizes_from_sync:
        _sizes_from_sync(args)
        return
    with tempfile.TemporaryDirectory() as home, _database(args.postgres_url, args.keep, args.existing) as url:
        settings = Settings(home=Path(home), secret_key=Fernet.generate_key().decode(), database_url=url)
        engine = store.create_engine_for(settings)
        store.migrate(engine)
        with engine.begin() as conn:
            tenant_id = store.ensure_default_tenant(conn)
        if args.existing:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM users WHERE email = 'bench@example.com'"))
                last = conn.execute(text("SELECT max(id) FROM connections")).scalar_one()
            _time_pages(args, settings, engine, tenant_id, last)
            return
        started = time.perf_counter()
        template_id = _fill_template(engine, tenant_id, args.rows_per_day)
        with engine.connect() as conn:
            per_connection = store.get_connection(conn, template_id).rows_stored
        print(f"template organization: {per_connection:,} usage rows a year, written by the window writer "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
        started = time.perf_counter()
        copies = max(0, -(-args.usage_rows // max(per_connection, 1)) - 1)
        for index in range(1, copies + 1):
            _copy_connection(engine, tenant_id, template_id, index)
        total = per_connection * (copies + 1)
        print(f"copied into {copies} more connections in {time.perf_counter() - started:.0f} s: "
              f"{total:,} usage rows across {copies + 1} organizations")  # fmt: skip
        _print_sizes(engine)
        _time_pages(args, settings, engine, tenant_id, copies + 1)


def _time_pages(
    args: argparse.Namespace, settings: Settings, engine: Engine, tenant_id: int, last: int
) -> None:
    with engine.begin() as conn:
        user_id = accounts.create_user(conn, tenant_id, "bench@example.com", PASSWORD, "admin")
        token = accounts.create_access_token(conn, tenant_id=tenant_id, user_id=user_id, name="bench").token
    app = create_app(settings, engine)

    def timed(client: TestClient, label: str, url: str) -> None:
        def get() -> object:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.text[:300])
            return response

        print(f"{label:<58} median {_median_ms(get, args.repeat):7.1f} ms")

    with TestClient(app) as browser:
        page = browser.get("/login")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        browser.post("/login", data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": csrf})
        timed(browser, "overview page, this month, every organization", "/overview")
        timed(browser, "overview page, year to date, every organization", "/overview?period=ytd")
        timed(
            browser,
            "detail page of one organization (all stored days)",
            f"/settings/integrations/connections/{last}",
        )
        timed(
            browser,
            "detail page of one organization, last 30 days",
            f"/settings/integrations/connections/{last}?period=30d",
        )
    with TestClient(app, headers={"authorization": f"Bearer {token}"}) as api:
        timed(
            api,
            "usage API, every organization, 30 days (date × model)",
            "/api/v1/usage?period=30d&limit=100",
        )
        timed(
            api,
            "usage API, every organization, ytd by month × workspace",
            "/api/v1/usage?period=ytd&group_by=month,workspace&limit=100",
        )
        timed(
            api,
            "usage API, one organization, ytd (date × model)",
            f"/api/v1/usage?connection_id={last}&period=ytd&limit=100",
        )
        timed(api, "overview API, this month", "/api/v1/overview")
    engine.dispose()


if __name__ == "__main__":
    main()
