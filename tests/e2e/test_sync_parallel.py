"""Windows fetched side by side: bounded in flight, no extra call, exact totals, and 429s that lower the limit."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import RootTransaction
from sqlalchemy.exc import OperationalError

from usageledger.fake import FAKE_ADMIN_KEY
from usageledger.store import InsertThread
from usageledger.sync import plan_windows

from .conftest import cost_truth_at_grain, stored_at_grain, stored_cost_at_grain, truth_at_grain
from .test_sync import _span, minimum_backfill_calls


def _finished(cli_env) -> dict:
    """The details of the last sync_finished event: calls, pages and how the requests in flight went."""
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            details = conn.execute(
                text("select details from events where kind = 'sync_finished' order by id desc limit 1")
            ).scalar_one()
    finally:
        engine.dispose()
    return details if isinstance(details, dict) else json.loads(details)


def _connect(cli) -> None:
    result = cli("connect", "anthropic", "--key-stdin", stdin=FAKE_ADMIN_KEY + "\n")
    assert result.exit_code == 0, result.err


def _assert_exact(cli, fake) -> None:
    start, end = _span(fake)
    assert stored_at_grain(cli) == truth_at_grain(fake, start, end)
    assert stored_cost_at_grain(cli) == cost_truth_at_grain(fake, start, end)


@pytest.mark.parametrize("max_in_flight", [1, 3, 6])
def test_requests_in_flight_stay_within_the_limit_at_the_minimum_of_calls(
    cli, fake, cli_env, monkeypatch, max_in_flight
):
    """A slow API sees at most USAGELEDGER_MAX_IN_FLIGHT requests at once, the same calls, the exact totals."""
    monkeypatch.setenv("USAGELEDGER_MAX_IN_FLIGHT", str(max_in_flight))
    # Long enough that the sync's chains overlap however busy the machine is: at 30 ms a call, a window's
    # chains could each finish before the last started on a loaded CI machine, and the peak fall one short.
    fake.faults.set_capacity(latency=0.1)
    _connect(cli)
    details = _finished(cli_env)
    assert details["api_calls"] == minimum_backfill_calls(fake, *_span(fake))
    # The connect's key check and probe are one at a time; the sync's calls fill the limit, never more.
    assert fake.faults.peak_in_flight == max_in_flight
    assert details["in_flight"] == {
        "max": max_in_flight,
        "peak": max_in_flight,
        "lowered": 0,
        "lowest": max_in_flight,
    }
    _assert_exact(cli, fake)


def test_a_parallel_resync_equals_a_sequential_one_call_for_call(cli, fake, cli_env, monkeypatch):
    """Re-fetching the whole range one request at a time and then eight at a time: same calls, same rows."""
    start, end = _span(fake)
    since = ("--since", start.isoformat())
    monkeypatch.setenv("USAGELEDGER_MAX_IN_FLIGHT", "1")
    _connect(cli)
    sequential_rows, sequential_cost = stored_at_grain(cli), stored_cost_at_grain(cli)
    assert cli("sync", *since).exit_code == 0
    sequential_calls = _finished(cli_env)["api_calls"]
    monkeypatch.setenv("USAGELEDGER_MAX_IN_FLIGHT", "8")
    fake.faults.set_capacity(latency=0.02)
    result = cli("sync", *since)
    assert result.exit_code == 0, result.err
    details = _finished(cli_env)
    assert details["api_calls"] == sequential_calls and details["revised"] == 0
    assert details["in_flight"]["peak"] > 1
    assert (stored_at_grain(cli), stored_cost_at_grain(cli)) == (sequential_rows, sequential_cost)


def test_an_api_capped_below_the_limit_lowers_it_and_the_sync_stays_exact(cli, fake, cli_env, monkeypatch):
    """Above the fake's cap of 2 requests a 429 storm begins: the limit comes down, the storm stops, and
    every call beyond the minimum is one the API turned away (each retried once, nothing fetched twice)."""
    monkeypatch.setenv("USAGELEDGER_MAX_IN_FLIGHT", "8")
    monkeypatch.setenv("USAGELEDGER_MAX_RETRIES", "8")
    fake.faults.set_capacity(latency=0.03, max_in_flight=2, retry_after=0.05)
    _connect(cli)
    details = _finished(cli_env)
    turned_away = fake.faults.turned_away
    assert turned_away > 0 and fake.faults.peak_in_flight <= 2
    assert details["in_flight"]["lowered"] >= 1 and details["in_flight"]["lowest"] <= 2
    # Once adapted the limit stays under the cap: a handful of refusals, not one per call.
    assert turned_away <= 16 < details["api_calls"]
    assert details["api_calls"] == minimum_backfill_calls(fake, *_span(fake)) + turned_away
    _assert_exact(cli, fake)
    assert any(e["kind"] == "rate_limit" for e in cli("events", "--json").json())


def test_on_sqlite_the_rows_are_inserted_by_the_insert_thread(cli, fake, cli_env, monkeypatch):
    """SQLite: both grains' usage and cost rows go through the insert thread (store.insert_thread), which
    runs them beside the writer; PostgreSQL copies them itself. The totals are exact either way."""
    handed_over: list[str] = []
    send = InsertThread.send

    def counting_send(self, sql, parameters, *, many=False, what=""):
        handed_over.append(what)
        send(self, sql, parameters, many=many, what=what)

    monkeypatch.setattr(InsertThread, "send", counting_send)
    _connect(cli)
    on_sqlite = cli_env["USAGELEDGER_DATABASE_URL"].startswith("sqlite")
    assert set(handed_over) == ({"usage", "cost"} if on_sqlite else set())
    _assert_exact(cli, fake)


def test_each_window_commits_in_the_commit_thread_and_a_failed_commit_loses_only_its_window(
    cli, fake, cli_env, monkeypatch
):
    """The writer commits each window in its commit thread (decoding the next window's pages meanwhile).
    A commit that fails there fails the sync in the writer: the earlier window stays, the failed one is
    rolled back whole, and the next sync completes the range exactly."""
    result = cli("connect", "anthropic", "--key-stdin", "--no-sync", stdin=FAKE_ADMIN_KEY + "\n")
    assert result.exit_code == 0, result.err
    windows = plan_windows(*_span(fake))
    assert len(windows) == 2
    commit = RootTransaction.commit
    in_commit_thread: list[str] = []

    def failing_second_commit(self):
        if threading.current_thread().name.startswith("usageledger-commit"):
            in_commit_thread.append("commit")
            if len(in_commit_thread) == 2:
                raise OperationalError("COMMIT", None, sqlite3.OperationalError("disk I/O error"))
        return commit(self)

    monkeypatch.setattr(RootTransaction, "commit", failing_second_commit)
    failed = cli("sync")
    assert failed.exit_code == 9
    assert "The database could not be used: disk I/O error" in " ".join(failed.err.split())
    assert "Traceback" not in failed.err
    assert in_commit_thread == ["commit", "commit"]
    stored_days = {key[0] for key in stored_at_grain(cli)}
    assert stored_days and max(stored_days) < windows[0].end.isoformat()  # the second window rolled back
    status = cli("status", "--json").json()[0]
    assert status["state"] == "error"
    monkeypatch.setattr(RootTransaction, "commit", commit)
    in_commit_thread.clear()
    assert cli("sync").exit_code == 0
    _assert_exact(cli, fake)
