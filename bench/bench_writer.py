"""Benchmark (not a test): the sync's own cost per row, without the fake API's, from recorded answers.

`bench_sync.py` serves the fake from a process that shares the machine's 2 cores with the sync: the
fake's rendering of JSON and the sync's work take turns, and other load moves both. This benchmark asks
the fake once for every answer a backfill needs (recording them), then replays them to `run_sync` from
memory, in this process, several times: what it measures is the sync alone (decoding, writing,
committing), as wall time, CPU time of the process and CPU time of the writing (main) thread.

Usage: python bench/bench_writer.py [--rows-per-day 2300] [--days 62] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import re
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

from usageledger import store
from usageledger.cli import _GC_THRESHOLDS
from usageledger.config import Settings
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, serve_in_thread
from usageledger.sync import connect_anthropic, run_sync

SEED = 1
Answer = tuple[int, list[tuple[str, str]], bytes]


def _recording_client(upstream_url: str, answers: dict[str, Answer]) -> httpx2.Client:
    upstream = httpx2.Client(base_url=upstream_url, timeout=60)

    def handler(request: httpx2.Request) -> httpx2.Response:
        answer = upstream.request(request.method, str(request.url), headers=request.headers)
        headers = [
            (k, v) for k, v in answer.headers.items() if k not in ("content-length", "content-encoding")
        ]
        answers[f"{request.method} {request.url}"] = (answer.status_code, headers, answer.content)
        return httpx2.Response(answer.status_code, headers=headers, content=answer.content)

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def _without_end(key: str) -> str:
    return re.sub(r"ending_at=[^&]*", "", key)


def _replaying_client(answers: dict[str, Answer]) -> httpx2.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        key = f"{request.method} {request.url}"
        if key not in answers and "time_bucket_width=1h" in key:
            # The hours run to the end of the current hour: a replay in the next hour asks for one more.
            key = next((k for k in answers if _without_end(k) == _without_end(key)), key)
        if key not in answers:
            print("not recorded:", key, "recorded e.g.:", [k for k in answers if request.url.path in k][:2])
            return httpx2.Response(500)
        status, headers, content = answers[key]
        return httpx2.Response(status, headers=headers, content=content)

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def _backfill(
    base_url: str, days: int, client: Callable[[], httpx2.Client]
) -> tuple[float, float, float, int]:
    """Connect and backfill into a new home: (wall, process CPU, main thread CPU) of the sync, rows stored.
    `client()` makes an HTTP client for each (the API client closes the one it is given)."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), anthropic_base_url=base_url, backfill_days=days)
        engine = store.create_engine_for(settings)
        try:
            store.migrate(engine)
            with engine.begin() as conn:
                tenant_id = store.ensure_default_tenant(conn)
            connection_id = connect_anthropic(
                settings, engine, tenant_id=tenant_id, admin_key=FAKE_ADMIN_KEY, http_client=client()
            ).connection_id
            before = resource.getrusage(resource.RUSAGE_SELF)
            thread_before = time.thread_time()
            started = time.perf_counter()
            run_sync(settings, engine, connection_id, http_client=client())
            wall = time.perf_counter() - started
            thread_cpu = time.thread_time() - thread_before
            after = resource.getrusage(resource.RUSAGE_SELF)
        finally:
            engine.dispose()
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        db = sqlite3.connect(Path(home) / "usageledger.db")
        tables = ("usage_rows", "cost_rows", "actor_usage_rows", "actor_cost_rows")
        rows = sum(db.execute(f"select count(*) from {table}").fetchone()[0] for table in tables)
        db.close()
    return wall, cpu, thread_cpu, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=2300)
    parser.add_argument("--days", type=int, default=62)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    fake = FakeOrganization(seed=SEED, rows_per_day=args.rows_per_day)
    answers: dict[str, Answer] = {}
    with serve_in_thread(fake) as running:
        base_url = running.url
        _backfill(base_url, args.days, lambda: _recording_client(base_url, answers))
    del fake, running  # the replays run in a process that holds answers, not a fake organization
    # The collector as `usageledger` (cli.main) sets it: rare collections, the imports set aside.
    gc.collect()
    gc.set_threshold(*_GC_THRESHOLDS)
    gc.freeze()
    print(f"{len(answers):,} answers recorded, {sum(len(a[2]) for a in answers.values()) / 1e6:,.0f} MB")
    for _ in range(args.repeat):
        wall, cpu, thread_cpu, rows = _backfill(base_url, args.days, lambda: _replaying_client(answers))
        print(
            f"{dt.datetime.now(dt.UTC):%H:%M:%S} {rows:,} rows: wall {wall:.2f} s ({rows / wall:,.0f} rows/s); "
            f"CPU {cpu:.2f} s ({cpu / rows * 1e6:.2f} µs a row), of it the writing thread "
            f"{thread_cpu:.2f} s ({thread_cpu / rows * 1e6:.2f} µs a row)"
        )


if __name__ == "__main__":
    main()
