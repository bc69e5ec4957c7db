"""One sync of one connection: lock, plan, fetch windows side by side, write each window in one transaction.

Windows are fetched concurrently (`fetcher`, within the client's adaptive limit of requests in flight)
but written by this thread alone, in plan order. Rows and cursor commit together per window, so a sync
killed at any point resumes where it stopped, and re-fetched days replace their rows (the store's
WindowWriter), so syncing twice equals once.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import time
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal

import httpx2
from sqlalchemy.engine import Connection, Engine, RootTransaction

from .. import store
from ..anthropic import (
    ActorSource,
    AdminApiClient,
    Source,
    Totals,
    fetch_directory,
    source_named,
)
from ..config import Settings
from ..errors import ConflictError, MalformedResponseError, UsageError, UsageLedgerError
from ..models import Directory, Window
from .actor_grain import ActorWindow, DayTotals, check_grains, note_actor_grain_skipped
from .credentials import open_admin_key
from .directory_refresh import plan_directory_read
from .events import note_directory_skipped, record_error, record_event, record_rate_limits
from .fetcher import WindowFetcher, pages_ahead, plan_chains, windows_ahead
from .hourly import HourlyPages, sync_hours
from .permit import SyncPermit, disconnect_announcement
from .planner import plan_range, plan_windows
from .spend_limits import read_spend_limits, store_spend_limits

__all__ = ["SyncSummary", "run_sync"]

LOCK_TTL_SECONDS = 15 * 60
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SyncSummary:
    connection_id: int
    run_id: int
    days: int
    usage_rows: int
    cost_rows: int
    revised: int
    api_calls: int
    seconds: float
    source: str


def run_sync(
    settings: Settings,
    engine: Engine,
    connection_id: int,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    trigger: str = "manual",
    progress: ProgressCallback | None = None,
    http_client: httpx2.Client | None = None,
    today: dt.date | None = None,
) -> SyncSummary:
    """Sync one connection; raises our errors (after recording them as events) on failure."""
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    today = today or now.date()
    owner = store.lock_owner_id()
    store.resume_pending_scrub(settings, engine)  # a disconnect's scrub that a reader held up
    with engine.begin() as conn:
        connection = store.get_connection(conn, connection_id)
        if connection.state == "disconnected":
            raise UsageError(
                f"Connection {connection_id} is disconnected; connect again with `usageledger connect anthropic`."
            )
        span = plan_range(
            cursor=connection.cursor_date,
            today=today,
            backfill_days=settings.backfill_days,
            lookback_days=settings.lookback_days,
            since=since,
            until=until,
        )
        if not store.acquire_sync_lock(conn, connection_id, owner, LOCK_TTL_SECONDS):
            raise ConflictError(
                f"A sync of connection {connection_id} is already running. Wait for it to finish "
                "(`usageledger status` shows it), then try again."
            )
        windows = plan_windows(*span) if span else []
        days_total = sum(w.days for w in windows)
        run_id = store.start_sync_run(
            conn,
            connection_id,
            trigger,
            span[0] if span else None,
            span[1] if span else None,
            days_total,
        )
        if store.fail_interrupted_runs(conn, connection_id, run_id):
            record_event(
                conn,
                connection,
                "sync_failed",
                "warning",
                "An earlier sync was interrupted (its process stopped); this one resumes from the last "
                "committed day, so nothing is lost or counted twice.",
            )
        store.update_connection(conn, connection_id, state="syncing", last_sync_started_at=now)
        record_event(
            conn,
            connection,
            "sync_started",
            "info",
            (
                f"Sync started ({trigger}): {days_total} days from {span[0]} to {span[1] - dt.timedelta(days=1)}."
                if span
                else f"Sync started ({trigger}): nothing to fetch."
            ),
        )
    client: AdminApiClient | None = None
    try:
        admin_key, credential = open_admin_key(settings, engine, connection_id)
        announcement = disconnect_announcement(settings, engine, connection_id)
        permit = SyncPermit(engine, connection_id, owner, LOCK_TTL_SECONDS, credential, announcement)
        client = AdminApiClient(
            settings,
            admin_key,
            http_client=http_client,
            base_url=connection.base_url,
            before_call=permit.check,  # a disconnect or a replaced key stops the sync at its next call
        )
        del admin_key
        summary = _sync_windows(
            settings,
            engine,
            client,
            connection,
            run_id,
            windows,
            progress,
            permit,
            owner,
            started,
            today,
            trigger,
        )
    except UsageLedgerError as exc:
        _finish_failed(engine, connection, run_id, exc, client, owner)
        raise
    except BaseException as exc:  # a bug or Ctrl-C: still leave the connection usable and say so
        _finish_failed(engine, connection, run_id, exc, client, owner)
        raise
    finally:
        if client is not None:
            client.close()
    return summary


def _sync_windows(
    settings: Settings,
    engine: Engine,
    client: AdminApiClient,
    connection: store.ConnectionRow,
    run_id: int,
    windows: list[Window],
    progress: ProgressCallback | None,
    permit: SyncPermit,
    owner: str,
    started: float,
    today: dt.date,
    trigger: str,
) -> SyncSummary:
    connection_id = connection.id
    source = source_named(
        connection.source or "analytics", client, connection.organization_id, settings.page_limit
    )
    directory_plan = plan_directory_read(
        trigger, connection.directory_read_at, settings.directory_refresh_hours, dt.datetime.now(dt.UTC)
    )
    # Anthropic's own caps (shown beside the budgets) are read on every sync, while the directory's lists are.
    with ThreadPoolExecutor(1, thread_name_prefix="usageledger-spend-limits") as pool:
        spend_limits_read = pool.submit(read_spend_limits, client)
        directory = fetch_directory(client) if directory_plan.read_first else None
        spend_limits = spend_limits_read.result()
    with engine.begin() as conn:
        permit.claim(conn)
        if directory is not None:
            _store_directory(conn, connection, directory)
        store_spend_limits(conn, connection, spend_limits)
        has_actors = isinstance(source, ActorSource)
        if not has_actors:
            note_actor_grain_skipped(conn, connection)

    days_total = sum(w.days for w in windows)
    days_done = usage_rows = cost_rows = revised = 0
    pages = {"daily": 0, "actor": 0}  # report pages per grain, set against their minimum by the benchmark
    refreshed_at: dt.datetime | None = None
    if progress:
        progress(0, days_total)
    cursor = connection.cursor_date  # ours alone while we hold the connection's sync lock
    chains = functools.partial(plan_chains, source)
    fetcher = WindowFetcher(
        windows,
        chains,
        windows_ahead=windows_ahead(settings.max_in_flight, engine.dialect.name),
        pages_ahead=pages_ahead(settings.max_in_flight),
        priority=client.limit.priority,
    )
    # The hours' calls wait for the windows' in a thread of their own; the fetcher, left before them, ends
    # that wait when the windows fail.
    hours = _hourly_pages(settings, client, connection, source, windows, today, fetcher)
    with (
        hours or nullcontext(),
        fetcher,
        ThreadPoolExecutor(1, thread_name_prefix="usageledger-commit") as committer,
        store.sync_writer_connection(engine) as conn,
        store.insert_thread(conn) as inserts,
    ):
        for window, fetched in fetcher:
            # Wait for the window's first page outside its transaction: SQLite has one writer and does
            # not queue the others, so the gap lets the web app's writes and a disconnect in.
            first = next(fetched)
            # A window that fails leaves the insert thread idle before its transaction rolls back.
            with conn.begin() as transaction, store.window_inserts(inserts):
                # Then the claim, before any write: it locks the connection row (SQLite: the database),
                # so a disconnect either committed before (refused here, nothing written) or waits for
                # this commit and its purge removes the window. The same lock order as disconnect's
                # (connection row, then data rows) leaves PostgreSQL no deadlock.
                permit.claim(conn)
                writer = store.WindowWriter(conn, connection_id, run_id, window, inserts=inserts)
                # The second grain writes in the same transaction: a window commits both or neither.
                actors = ActorWindow(conn, connection_id, run_id, window, inserts) if has_actors else None
                # This grain's tokens and cost per day: set against the totals and the actor grain.
                daily = DayTotals()
                expected_usage = expected_cost = None
                try:
                    # The window's pages arrive from its chains in any order; every sum here is
                    # order-free, and the writer keys rows, so the order does not change what is stored.
                    for item in itertools.chain((first,), fetched):
                        if item.usage is not None:
                            pages["daily"] += 1
                            records = item.usage.records  # decoded here, in the writing thread
                            writer.write_usage(records)
                            daily.add_usage(records)
                            refreshed_at = item.usage.data_refreshed_at or refreshed_at
                        elif item.cost is not None:
                            pages["daily"] += 1
                            cost_records = item.cost.records
                            writer.write_cost(cost_records)
                            daily.add_cost(cost_records)
                        elif item.actor_usage is not None and actors is not None:
                            pages["actor"] += 1
                            actors.write_usage(item.actor_usage)
                        elif item.actor_cost is not None and actors is not None:
                            pages["actor"] += 1
                            actors.write_cost(item.actor_cost)
                        elif item.usage_totals is not None:
                            expected_usage = item.usage_totals
                        elif item.cost_totals is not None:
                            expected_cost = item.cost_totals
                    if actors is not None:
                        actors.finish()  # the summed null-actor rows, who each actor is
                    # Here too: the rows handed to the insert thread are checked against their unique key
                    # by the time it has stored them, which finish() waits for.
                    result = writer.finish()
                except store.RepeatedRowError as exc:
                    # An exhaustive report never lists a group twice: a cursor led back to an earlier page.
                    raise MalformedResponseError(
                        f"The Anthropic API returned the same {exc.kind} row twice between {window.start} "
                        f"and {window.end - dt.timedelta(days=1)}; a page cursor led back to an earlier "
                        "page. Nothing from this window was stored; the next sync fetches it again."
                    ) from None
                assert expected_usage is not None and expected_cost is not None  # each a chain of the window
                if actors is not None:
                    check_grains(conn, connection, window, daily, actors.totals)
                _check_totals(conn, connection, window, daily, expected_usage, expected_cost)
                if result.revised or result.removed:
                    record_event(
                        conn,
                        connection,
                        "late_data",
                        "info",
                        (
                            f"Late data: {result.revised} rows revised and {result.removed} removed upstream "
                            f"between {window.start} and {window.end - dt.timedelta(days=1)}; the new numbers "
                            "replaced the old ones."
                        ),
                        details={"revised": result.revised, "removed": result.removed},
                    )
                record_rate_limits(conn, connection, client.take_rate_limits())
                days_done += window.days
                usage_rows += result.usage_rows
                cost_rows += result.cost_rows
                revised += result.revised
                if _extends_cursor(cursor, window):
                    cursor = window.end
                    store.set_cursor(conn, connection_id, cursor)
                store.update_sync_run(
                    conn,
                    run_id,
                    days_done=days_done,
                    api_calls=client.calls,
                    usage_rows=usage_rows,
                    cost_rows=cost_rows,
                    rows_revised=revised,
                )
                _commit_preparing_next(transaction, fetcher, committer)
            if progress:
                progress(days_done, days_total)
    waited_for_api = fetcher.waited
    hourly_rows = (
        sync_hours(engine, connection, run_id, permit, hours, today, windows[0].start) if hours else (0, 0)
    )
    directory_read = directory_plan.reason if directory is not None else None
    if directory is None and windows:
        directory_read = _read_directory_if_rows_name_unlisted(engine, client, connection, permit, windows)

    seconds = time.perf_counter() - started
    finished = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        permit.claim(conn)  # never turn a connection disconnected meanwhile back into `connected`
        record_rate_limits(conn, connection, client.take_rate_limits())
        store.update_sync_run(
            conn,
            run_id,
            status="succeeded",
            finished_at=finished,
            api_calls=client.calls,
            days_done=days_done,
        )
        values: dict[str, object] = {
            "state": "connected",
            "last_sync_finished_at": finished,
            "last_sync_succeeded_at": finished,
            "last_error": None,
        }
        if refreshed_at is not None:
            values["data_refreshed_at"] = refreshed_at
        store.finish_sync_lease(conn, connection_id, owner, **values)
        record_event(
            conn,
            connection,
            "sync_finished",
            "info",
            (
                f"Sync finished: {days_done} days, {usage_rows} usage rows and {cost_rows} cost rows stored "
                f"({revised} revised), {client.calls} API calls, {seconds:.1f} s."
            ),
            details={
                "days": days_done,
                "usage_rows": usage_rows,
                "cost_rows": cost_rows,
                "revised": revised,
                "api_calls": client.calls,
                "seconds": round(seconds, 3),
                "pages": pages,
                # How the requests in flight went: at most `peak`, and how often a 429 lowered the limit.
                "in_flight": {
                    "max": client.limit.maximum,
                    "peak": client.limit.peak_in_flight,
                    "lowered": client.limit.lowered,
                    "lowest": client.limit.lowest,
                },
                # The writer's idle time: the rest of the sync's seconds were spent writing.
                "waited_for_api_seconds": round(waited_for_api, 3),
                "hourly_rows": {"usage": hourly_rows[0], "cost": hourly_rows[1]},
                # Read, and why (a person's sync, its age, ids it did not list), or why not.
                "directory": {
                    "read": directory_read is not None,
                    "why": directory_read or directory_plan.reason,
                },
            },
        )
    return SyncSummary(
        connection_id=connection_id,
        run_id=run_id,
        days=days_done,
        usage_rows=usage_rows,
        cost_rows=cost_rows,
        revised=revised,
        api_calls=client.calls,
        seconds=seconds,
        source=source.name,
    )


def _commit_preparing_next(
    transaction: RootTransaction, fetcher: WindowFetcher, committer: ThreadPoolExecutor
) -> None:
    """Commit the window in `committer` while this thread decodes the next window's pages that arrived.

    A commit lets go of the GIL for as long as it runs: SQLite writes the window's last pages to its WAL
    and, the WAL being past 1,000 pages, copies it into the database file (its checkpoint: 1.1-1.8 s a
    window of a large organization on a slow machine, measured). That was the writer's idle time, with
    the next window's pages waiting. Nothing else touches the connection meanwhile: the writer only
    decodes pages, and waits for the commit before its next statement.
    """
    committed = committer.submit(transaction.commit)
    try:
        fetcher.prepare_next(keep_going=lambda: not committed.done())
    finally:
        futures.wait([committed])  # the connection is the commit's until it ends, whatever happened here
    committed.result()


def _store_directory(conn: Connection, connection: store.ConnectionRow, directory: Directory) -> None:
    """Names and memberships as just read, and when: the next scheduled syncs go by that time."""
    store.upsert_directory(conn, connection.id, directory)
    store.update_connection(conn, connection.id, directory_read_at=dt.datetime.now(dt.UTC))
    if directory.skipped:
        note_directory_skipped(conn, connection, directory.skipped)


def _read_directory_if_rows_name_unlisted(
    engine: Engine,
    client: AdminApiClient,
    connection: store.ConnectionRow,
    permit: SyncPermit,
    windows: list[Window],
) -> str | None:
    """A sync that kept the directory it had reads it after all when its days name a workspace or API key
    the directory does not list; returns why it read it, or None."""
    with engine.connect() as conn:
        unlisted = store.unlisted_ids(conn, connection.id, windows[0].start, windows[-1].end)
    if not unlisted:
        return None
    directory = fetch_directory(client)
    with engine.begin() as conn:
        permit.claim(conn)
        _store_directory(conn, connection, directory)
    shown = ", ".join(unlisted[:3]) + (f" and {len(unlisted) - 3} more" if len(unlisted) > 3 else "")
    return f"the rows name {shown}, which it did not list"


def _hourly_pages(
    settings: Settings,
    client: AdminApiClient,
    connection: store.ConnectionRow,
    source: Source,
    windows: list[Window],
    today: dt.date,
    fetcher: WindowFetcher,
) -> HourlyPages | None:
    """The recent days by hour, fetched once the windows' calls are made, when this sync reaches today and
    reads the analytics endpoints (the classic reports price by day only); else None: the hourly rows are
    left as they are."""
    if source.name != "analytics" or not windows or windows[-1].end <= today:
        return None
    return HourlyPages(
        client,
        connection.organization_id,
        settings.page_limit,
        today,
        settings.lookback_days,
        ready=fetcher.wait_all_called,
    )


def _extends_cursor(cursor: dt.date | None, window: Window) -> bool:
    """Whether a committed window moves the cursor: only when the stored range stays contiguous."""
    return cursor is None or (cursor >= window.start and window.end > cursor)


def _check_totals(
    conn: Connection,
    connection: store.ConnectionRow,
    window: Window,
    grouped_days: DayTotals,
    expected_usage: Totals,
    expected_cost: Totals,
) -> None:
    """Grouped rows must add up to the API's ungrouped totals of the same window; a gap is an event."""
    grouped, cost_sum = grouped_days.window_tokens(), grouped_days.window_cents()
    expected_amount = expected_cost.amount_cents or Decimal(0)
    problems = []
    if grouped != expected_usage.tokens:
        problems.append(f"tokens {grouped} grouped vs {expected_usage.tokens} ungrouped")
    if abs(expected_amount - cost_sum) > Decimal("0.01"):
        problems.append(f"cost {cost_sum} vs {expected_amount} cents")
    if problems:
        record_event(
            conn,
            connection,
            "mismatch",
            "warning",
            (
                f"Totals do not match between {window.start} and {window.end - dt.timedelta(days=1)}: "
                + "; ".join(problems)
                + ". The grouped rows were stored as reported; re-sync this range later with --since/--until."
            ),
        )


def _finish_failed(
    engine: Engine,
    connection: store.ConnectionRow,
    run_id: int,
    exc: BaseException,
    client: AdminApiClient | None,
    owner: str,
) -> None:
    finished = dt.datetime.now(dt.UTC)
    message = exc.message if isinstance(exc, UsageLedgerError) else f"Sync stopped: {type(exc).__name__}"
    with engine.begin() as conn:
        if client is not None:
            record_rate_limits(conn, connection, client.take_rate_limits())
        record_error(conn, connection, exc)
        store.update_sync_run(
            conn,
            run_id,
            status="failed",
            finished_at=finished,
            error=message,
            api_calls=client.calls if client else 0,
        )
        # Only while the lease is ours and the connection not disconnected: a disconnect stays final.
        store.finish_sync_lease(
            conn, connection.id, owner, state="error", last_sync_finished_at=finished, last_error=message
        )
