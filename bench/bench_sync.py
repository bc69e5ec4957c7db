"""Benchmark (not a test): backfill a large organization from the fake API on loopback.

Runs the sync as its own process, as in production, against the fake served from this one, so the
figures belong to the sync alone: API calls against the minimum the API's limits allow, rows stored per
second, wall time and the sync process's peak memory.

`--latency-ms 150 --cap 8` makes the fake answer like a distant API that serves at most 8 requests at
once (429 with retry-after above it); the benchmark then sets the wall time against the sum of all
calls' latencies (calls × latency: what a one-request-at-a-time sync would cost at least) and reports
the peak of requests in flight the fake saw.

`--postgres URL` syncs into a new database on that PostgreSQL server (created, then dropped) instead of
the embedded SQLite file: the hosted deployment's store, whose index work runs in the server's own
process rather than in the sync's.

Usage: python bench/bench_sync.py [--rows-per-day 2300] [--days 365] [--latency-ms 150 --cap 8]
       [--max-in-flight 8] [--incremental] [--postgres postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, serve_in_thread
from usageledger.fake.catalog import ACTOR_AT
from usageledger.models import CostRecord, UsageRecord
from usageledger.sync import earliest_allowed_day, plan_windows
from usageledger.sync.hourly import hourly_range

SEED = 1


def _pages(records: Iterable[UsageRecord | CostRecord]) -> int:
    """Pages of 1,000 rows the API needs for these records at the sync's grain (day × the 5 group_by)."""
    groups = {(r.day, r.dims[1:6]) for r in records}  # workspace, API key, model, tier, context window
    return max(1, math.ceil(len(groups) / 1000))


def _actor_pages(fake: FakeOrganization, start: dt.date, end: dt.date) -> int:
    """Pages of 1,000 rows of the actor grain the API serves: every identity it cannot show is its own row."""
    groups = {
        (day, row[ACTOR_AT], row[ACTOR_AT + 1], row[3], row[1], row[7])
        for day, row in fake.iter_rows(start, end)
    }
    return max(1, math.ceil(len(groups) / 1000))


def _minimum_calls(rows_per_day: int, days: int) -> tuple[int, int, int, int]:
    """(daily data calls, actor data calls, total-check calls, windows) the API's limits allow."""
    fake = FakeOrganization(seed=SEED, rows_per_day=rows_per_day)
    today = fake.today
    start = max(earliest_allowed_day(today), today - dt.timedelta(days=days - 1))
    windows = plan_windows(start, today + dt.timedelta(days=1))
    data_calls = sum(
        _pages(fake.truth_usage(window.start, window.end)) + _pages(fake.truth_cost(window.start, window.end))
        for window in windows
    )
    # Usage and cost of the actor grain group the same rows the same way: as many pages each.
    actor_calls = sum(2 * _actor_pages(fake, window.start, window.end) for window in windows)
    return data_calls, actor_calls, 2 * len(windows), len(windows)


def _hourly_calls(rows_per_day: int) -> int:
    """Usage and cost pages of the hourly grain (hour × workspace × model), fetched once after the windows:
    the lookback's days and today so far."""
    fake = FakeOrganization(seed=SEED, rows_per_day=rows_per_day)
    start, end = hourly_range(fake.today, dt.datetime.now(dt.UTC), lookback_days=3)
    return 2 * max(1, math.ceil(len(fake.truth_hourly_usage(start, end)) / 1000))


def _directory_calls(rows_per_day: int) -> int:
    """Pages of 1,000 the directory needs: workspaces, API keys, users, each live workspace's members, one
    RBAC groups call (403: the fake, like the demo, is a Console organization) and one page of Anthropic's
    spend limits (the fake has four, under the page size of 20)."""
    fake = FakeOrganization(seed=SEED, rows_per_day=rows_per_day)

    def pages(entries: int) -> int:
        return max(1, math.ceil(entries / 1000))

    live = [w.id for w in fake.workspaces if w.archived_at is None]
    members = sum(pages(sum(1 for m in fake.members if m[0] == ws)) for ws in live)
    return (
        pages(len(fake.workspaces))
        + pages(len(fake.directory.api_keys))
        + pages(len(fake.users))
        + members
        + 1
        + 1
    )


def _reference_loop_seconds() -> float:
    """CPU seconds of a 10-million-step pure Python loop, best of 3: how fast this machine runs Python.
    The writer's CPU, and so the backfill's wall time, scale with it; printed so that figures taken on
    different machines (they have differed ~3x here) can be set side by side."""
    best = math.inf
    for _ in range(3):
        started = time.process_time()
        total = 0
        for step in range(10_000_000):
            total += step
        best = min(best, time.process_time() - started)
    return best


_BENCH_DATABASE = "usageledger_bench_sync"


@contextmanager
def bench_database(home: str, postgres: str | None) -> Iterator[str]:
    """The sync's database URL: the home's SQLite file, or a new database on the PostgreSQL server of
    `postgres` (dropped afterwards)."""
    if postgres is None:
        yield f"sqlite:///{home}/usageledger.db"
        return
    server = create_engine(postgres, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_BENCH_DATABASE} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {_BENCH_DATABASE}")
        yield make_url(postgres).set(database=_BENCH_DATABASE).render_as_string(hide_password=False)
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_BENCH_DATABASE} WITH (FORCE)")
    finally:
        server.dispose()


def _one_row(url: str, sql: str) -> Any:
    """The first row a query answers, read from the sync's database (either kind)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).one()
    finally:
        engine.dispose()


def _moment(value: str | dt.datetime) -> dt.datetime:
    """A stored time as SQLite (text) or PostgreSQL (a datetime) gives it back."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


# The synced rows' tables: a row carries the id of the sync run that last wrote it (rollups are not counted).
_SYNCED_TABLES = (
    "usage_rows",
    "cost_rows",
    "actor_usage_rows",
    "actor_cost_rows",
    "hourly_usage_rows",
    "hourly_cost_rows",
)


# The sync the scheduler and the workers run: `run_sync` with the scheduled trigger, which keeps a
# directory read within USAGELEDGER_DIRECTORY_REFRESH_HOURS (a person's `usageledger sync` reads it).
_SCHEDULED_SYNC = (
    "from usageledger import store; from usageledger.config import Settings; "
    "from usageledger.sync import SCHEDULED_TRIGGER, run_sync; "
    "settings = Settings(); "
    "run_sync(settings, store.create_engine_for(settings), 1, trigger=SCHEDULED_TRIGGER)"  # its one connection
)


def _incremental_sync(
    command: list[str], env: dict[str, str], url: str
) -> tuple[int, float, float, tuple[int, ...]]:
    """One more sync after the backfill, by `command`: (API calls, seconds of the sync from its run
    record, wall time with process start, rows it wrote in each synced table)."""
    started = time.perf_counter()
    sync = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if sync.returncode != 0:
        raise SystemExit(f"incremental sync failed ({sync.returncode}): {sync.stderr.strip()}")
    run, calls, sync_started, sync_finished = _one_row(
        url, "select id, api_calls, started_at, finished_at from sync_runs order by id desc limit 1"
    )
    written = _one_row(
        url,
        "select "
        + ", ".join(f"(select count(*) from {table} where sync_run_id = {run})" for table in _SYNCED_TABLES),
    )
    return calls, (_moment(sync_finished) - _moment(sync_started)).total_seconds(), wall, tuple(written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=2300)  # ~2,000 active groups a day
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--latency-ms", type=int, default=0, help="the fake answers after this long")
    parser.add_argument("--cap", type=int, default=None, help="the fake serves this many at once (429 above)")
    parser.add_argument("--max-in-flight", type=int, default=None, help="USAGELEDGER_MAX_IN_FLIGHT")
    parser.add_argument(
        "--incremental", action="store_true", help="then time one more sync, as the hourly schedule runs it"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="run the sync under cProfile (its writing thread: the main one) and save the stats here",
    )
    parser.add_argument(
        "--figures-json",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the main figures to this file as JSON (bench_repeat.py reads it)",
    )
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="sync into a new database on this PostgreSQL server instead of SQLite",
    )
    args = parser.parse_args()

    bin_dir = Path(sys.executable).parent
    fake = FakeOrganization(seed=SEED, rows_per_day=args.rows_per_day)
    fake.faults.set_capacity(latency=args.latency_ms / 1000, max_in_flight=args.cap)
    with (
        serve_in_thread(fake) as running,
        tempfile.TemporaryDirectory() as home,
        bench_database(home, args.postgres) as url,
    ):
        env = {
            **os.environ,
            "USAGELEDGER_HOME": home,
            "USAGELEDGER_ANTHROPIC_BASE_URL": running.url,
            "USAGELEDGER_BACKFILL_DAYS": str(args.days),
            "USAGELEDGER_DATABASE_URL": url,
        }
        if args.max_in_flight is not None:
            env["USAGELEDGER_MAX_IN_FLIGHT"] = str(args.max_in_flight)
        command = [str(bin_dir / "usageledger"), "connect", "anthropic", "--key-stdin"]
        if args.profile is not None:
            command = [
                sys.executable,
                "-m",
                "cProfile",
                "-o",
                str(args.profile),
                "-m",
                "usageledger",
                *command[1:],
            ]
        started = time.perf_counter()
        sync = subprocess.run(
            command,
            input=FAKE_ADMIN_KEY + "\n",
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        itself = resource.getrusage(resource.RUSAGE_SELF)
        fake_cpu = itself.ru_utime + itself.ru_stime
        if sync.returncode != 0:
            raise SystemExit(f"sync failed ({sync.returncode}): {sync.stderr.strip()}")
        usage_of_sync = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb = usage_of_sync.ru_maxrss / 1024
        cpu_seconds = usage_of_sync.ru_utime + usage_of_sync.ru_stime
        # The kernel's share: file writes, new pages zeroed, thread switches (a perf profile, README).
        system_seconds = usage_of_sync.ru_stime
        usage_rows, cost_rows, actor_rows = _one_row(
            url,
            "select (select count(*) from usage_rows), (select count(*) from cost_rows), "
            "(select count(*) from actor_usage_rows) + (select count(*) from actor_cost_rows)",
        )
        (finished_details,) = _one_row(
            url, "select details from events where kind = 'sync_finished' order by id desc limit 1"
        )
        finished = finished_details if isinstance(finished_details, dict) else json.loads(finished_details)
        pages = finished["pages"]
        api_calls, days, sync_started, sync_finished = _one_row(
            url,
            "select api_calls, days_done, started_at, finished_at from sync_runs order by id desc limit 1",
        )
        served_calls = sum(fake.calls.values())  # the connect's key check and probe included
        peak_in_flight, turned_away = fake.faults.peak_in_flight, fake.faults.turned_away
        mean_answer, slowest_answer = fake.faults.mean_answer_seconds(), fake.faults.slowest_answer
        incremental = (
            {
                "a person's `usageledger sync`": _incremental_sync(
                    [str(bin_dir / "usageledger"), "sync"], env, url
                ),
                "a scheduled sync": _incremental_sync([sys.executable, "-c", _SCHEDULED_SYNC], env, url),
            }
            if args.incremental
            else {}
        )

    data_calls, actor_calls, check_calls, windows = _minimum_calls(args.rows_per_day, args.days)
    directory_calls = _directory_calls(args.rows_per_day)
    hourly_calls = _hourly_calls(args.rows_per_day)
    minimum = data_calls + actor_calls + check_calls + directory_calls + hourly_calls
    stored = usage_rows + cost_rows + actor_rows
    verdict = "== minimum" if api_calls == minimum else f"NOT minimum ({api_calls - minimum:+})"
    print(
        f"organization: {usage_rows / days:,.0f} group rows/day, {days} days, {windows} windows of <= 31 days"
    )
    print(
        f"store: {'PostgreSQL, a new database on ' + make_url(args.postgres).host if args.postgres else 'SQLite'}"
    )
    print(f"rows stored: {usage_rows:,} usage + {cost_rows:,} cost + {actor_rows:,} actor grain = {stored:,}")
    for grain, fetched, least in (
        ("daily", pages["daily"], data_calls),
        ("actor", pages["actor"], actor_calls),
    ):
        print(f"{grain} grain: {fetched:,} data pages; minimum the limits allow: {least:,}")
    print(
        f"API calls of the backfill: {api_calls:,}; minimum the limits allow: {data_calls:,} + {actor_calls:,} "
        f"data pages + {check_calls} total checks + {directory_calls} directory + {hourly_calls} hourly pages = "
        f"{minimum:,} ({verdict})"
    )
    print(f"wall time (connect + backfill, process start included): {wall:.1f} s")
    print(f"rows/s stored: {stored / wall:,.0f} (usage rows alone: {usage_rows / wall:,.0f})")
    sync_seconds = (_moment(sync_finished) - _moment(sync_started)).total_seconds()
    print(
        f"the sync alone (from its run record, without process start and key check): {sync_seconds:.1f} s, "
        f"{stored / sync_seconds:,.0f} rows/s"
    )
    latency = args.latency_ms / 1000
    if latency:
        cap = f"at most {args.cap} at once" if args.cap else "no cap on requests in flight"
        print(
            f"fake API: {args.latency_ms} ms a call, {cap}; sync's USAGELEDGER_MAX_IN_FLIGHT: "
            f"{args.max_in_flight if args.max_in_flight is not None else 'default'}"
        )
        print(
            f"wall time / (calls × latency): {wall:.1f} s / ({served_calls:,} × {latency:.3f} s = "
            f"{served_calls * latency:.1f} s) = {wall / (served_calls * latency):.3f}"
        )
    print(
        f"peak requests in flight at the fake: {peak_in_flight}; turned away above the cap (429): {turned_away}"
    )
    if mean_answer is not None:
        # Above the latency when the fake, on this machine's cores, spent longer on a page than that.
        print(
            f"the fake's answers, from a request's arrival: {mean_answer * 1000:.0f} ms on average, "
            f"the slowest {slowest_answer:.2f} s"
        )
    if "waited_for_api_seconds" in finished:
        waited = finished["waited_for_api_seconds"]
        in_flight = finished["in_flight"]
        print(
            f"the writing thread waited for the API {waited:.1f} s and wrote {sync_seconds - waited:.1f} s; "
            f"limit {in_flight['max']}, lowered {in_flight['lowered']} time(s) by 429s, "
            f"lowest {in_flight['lowest']}, peak in flight at the sync {in_flight['peak']}"
        )
    for which, (calls, seconds, inc_wall, written) in incremental.items():
        against = f" (calls × latency: {calls * latency:.2f} s)" if latency else ""
        print(
            f"the next (incremental) sync, {which}: {calls} API calls{against}; {seconds:.2f} s from its "
            f"run record, {inc_wall:.2f} s with process start"
        )
        print(
            "rows it wrote (new or changed; unchanged rows are left as they were): "
            + ", ".join(f"{table} {count:,}" for table, count in zip(_SYNCED_TABLES, written, strict=True))
        )
    print(f"peak memory of the sync process: {peak_mb:.0f} MB")
    print(
        f"CPU time of the sync process: {cpu_seconds:.1f} s ({cpu_seconds / stored * 1e6:.1f} µs a row), "
        f"{system_seconds:.1f} s of it in the kernel"
    )
    # The fake renders every page in this process, on the same 2 cores: its CPU competes with the sync's.
    print(f"CPU time of the fake API (this process, until the sync ended): {fake_cpu:.1f} s")
    print(
        f"this machine's speed: a 10-million-step Python loop takes {_reference_loop_seconds():.2f} s of CPU"
    )
    if args.figures_json is not None:
        figures = {
            "ratio_to_calls_x_latency": wall / (served_calls * latency) if latency else None,
            "wall_seconds": wall,
            "waited_for_api_seconds": finished.get("waited_for_api_seconds"),
            "sync_cpu_seconds": cpu_seconds,
            "sync_kernel_seconds": system_seconds,
            "peak_memory_mb": peak_mb,
            "fake_mean_answer_ms": mean_answer * 1000 if mean_answer is not None else None,
        }
        args.figures_json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
