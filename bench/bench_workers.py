"""Benchmark (not a test): 50 fake organizations of mixed sizes synced through the PostgreSQL job queue by
1 and by 2 `usageledger worker` processes; prints each wall time and their ratio.

The fake Admin API runs in a process of its own (so serving pages does not compete with the benchmark's
bookkeeping for one interpreter), every organization behind one base URL, told apart by its key. For each
worker count: a fresh database, 50 connections stored without their first sync, one sync of each queued
(what `usageledger scheduler` does), then N workers started; the clock runs from their start until every
connection has synced and the queue holds no sync job. This machine has 2 cores shared with the fake and
PostgreSQL, so 2 workers cannot double the throughput here; the lead re-runs it on a quiet machine.

Usage: python bench/bench_workers.py [--organizations 50] [--days 30] [--workers 1,2] [--concurrency 1]
       (small first: --organizations 10 --days 10)
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, make_url, text

from usageledger import jobs, store
from usageledger.config import Settings
from usageledger.sync import connect_anthropic

# Rows a day of each organization, cycled: a few large ones among many small, as in a hosted deployment.
SIZES = (5, 10, 20, 40, 80, 200)
RUN_CLI = "import sys; from usageledger.cli import main; sys.exit(main(sys.argv[1:]))"


def org_key(index: int) -> str:
    return f"sk-ant-admin01-fake-bench-org-{index:03d}-{'0' * 26}"


def _serve(port: int, organizations: int) -> None:
    """The fake's process: every organization behind one URL, until terminated."""
    import uvicorn

    from usageledger.fake import FakeOrganization, FakeOrganizations

    fakes = [
        FakeOrganization(
            seed=500 + i, rows_per_day=SIZES[i % len(SIZES)], name=f"Bench {i}", admin_key=org_key(i)
        )
        for i in range(organizations)
    ]
    uvicorn.run(FakeOrganizations(*fakes), host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off", ws="none")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the fake did not start")


@contextmanager
def _database(postgres_url: str) -> Iterator[str]:
    name = f"ul_bench_workers_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def _run(args: argparse.Namespace, base_url: str, workers: int) -> tuple[float, int, int]:
    """Seconds for `workers` processes to sync every organization, usage rows stored, API calls made."""
    with tempfile.TemporaryDirectory() as home, _database(args.postgres_url) as url:
        env = {
            "USAGELEDGER_HOME": home,
            "USAGELEDGER_DATABASE_URL": url,
            "USAGELEDGER_SECRET_KEY": Fernet.generate_key().decode(),
            "USAGELEDGER_ANTHROPIC_BASE_URL": base_url,
            "USAGELEDGER_BACKFILL_DAYS": str(args.days),
        }
        settings = Settings(home=Path(home), database_url=url, secret_key=env["USAGELEDGER_SECRET_KEY"],
                            anthropic_base_url=base_url, backfill_days=args.days)  # fmt: skip
        engine = store.create_engine_for(settings)
        store.migrate(engine)
        jobs.install_queue_schema(engine)
        with engine.begin() as conn:
            tenant_id = store.ensure_default_tenant(conn)
        for i in range(args.organizations):
            connect_anthropic(settings, engine, tenant_id=tenant_id, admin_key=org_key(i), name=f"Bench {i}")
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", RUN_CLI, "worker", "--concurrency", str(args.concurrency)],
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            for _ in range(workers)
        ]
        # The clock starts once every worker is up (registered, heartbeating): it times the syncs, not imports.
        while _count(engine, "SELECT count(*) FROM procrastinate_workers") < workers:
            time.sleep(0.05)
        queue = jobs.build_queue(settings, "scheduler")
        started = time.perf_counter()
        with queue.open():
            queued = jobs.enqueue_due_syncs(queue, engine, dt.timedelta(hours=1))
        assert len(queued) == args.organizations, queued
        try:
            while True:
                done = _count(
                    engine, "SELECT count(*) FROM connections WHERE last_sync_succeeded_at IS NOT NULL"
                )
                waiting = _count(engine, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                 "'usageledger.sync_connection' AND status IN ('todo', 'doing')")  # fmt: skip
                if done == args.organizations and waiting == 0:
                    break
                if any(p.poll() is not None for p in processes):
                    raise RuntimeError("a worker stopped")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        finally:
            for p in processes:
                p.terminate()
            for p in processes:
                p.wait(30)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM usage_rows")).scalar() or 0
            calls = conn.execute(text("SELECT coalesce(sum(api_calls), 0) FROM sync_runs")).scalar() or 0
            failed = conn.execute(text("SELECT count(*) FROM sync_runs WHERE status <> 'succeeded'")).scalar()
        engine.dispose()
        if failed:
            print(f"  ({failed} sync runs did not succeed at first: retried by the queue)")
        return seconds, int(rows), int(calls)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--organizations", type=int, default=50)
    parser.add_argument("--days", type=int, default=30, help="backfill days of each organization")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, comma-separated")
    parser.add_argument("--concurrency", type=int, default=1, help="syncs each worker runs at once")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    port = _free_port()
    fake = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(port, args.organizations), daemon=True
    )
    fake.start()
    try:
        _wait_listening(port)
        base_url = f"http://127.0.0.1:{port}"
        results = {}
        for count in (int(n) for n in args.workers.split(",")):
            seconds, rows, calls = _run(args, base_url, count)
            results[count] = seconds
            print(f"{count} worker(s) × concurrency {args.concurrency}: {args.organizations} organizations, "
                  f"{args.days} days each, {rows:,} usage rows, {calls:,} API calls in {seconds:.1f} s "
                  f"({rows / seconds:,.0f} rows/s)")  # fmt: skip
        counts = sorted(results)
        if len(counts) >= 2:
            print(f"speed-up of {counts[-1]} workers over {counts[0]}: {results[counts[0]] / results[counts[-1]]:.2f}× "
                  f"(on {os.cpu_count()} cores shared with the fake and PostgreSQL)")  # fmt: skip
    finally:
        fake.terminate()
        fake.join(10)


if __name__ == "__main__":
    main()
