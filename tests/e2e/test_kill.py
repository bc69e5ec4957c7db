"""A sync killed with SIGKILL at any point, then run again, ends with exactly the rows of an uninterrupted one."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from usageledger.fake import FAKE_ADMIN_KEY
from usageledger.sync import plan_windows

from .conftest import BACKFILL_DAYS, stored_at_grain, truth_at_grain

RUN_CLI = "import sys; from usageledger.cli import main; sys.exit(main(sys.argv[1:]))"


def _days_done(url: str) -> int | None:
    """days_done of the running sync, or None before it started."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("select max(days_done) from sync_runs")).scalar()
    except Exception:  # tables may not exist yet
        return None
    finally:
        engine.dispose()


def _as_date(value: object) -> dt.date | None:
    """A DATE column as a date (SQLite returns text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _stored_range(url: str) -> tuple[dt.date | None, dt.date | None, dt.date | None]:
    """(cursor, first stored day, last stored day) of the only connection, as the killed sync left them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            cursor = conn.execute(text("select cursor_date from connections")).scalar()
            first, last = conn.execute(text("select min(day), max(day) from usage_rows")).one()
    finally:
        engine.dispose()
    return _as_date(cursor), _as_date(first), _as_date(last)


@pytest.mark.parametrize("kill_when", ["mid_first_window", "after_first_window", "several_windows_in_flight"])
def test_sigkill_mid_sync_then_rerun_equals_an_uninterrupted_sync(cli, fake, cli_env, kill_when, monkeypatch):
    """Kill the backfill process hard, sync again: every total equals the ground truth, nothing doubled."""
    days = BACKFILL_DAYS
    if kill_when == "several_windows_in_flight":
        # Four windows and up to eight requests at once: killed while more than one window's calls
        # (six chains each at most) are in flight, so several windows are partly fetched.
        days = 100
        monkeypatch.setitem(cli_env, "USAGELEDGER_BACKFILL_DAYS", str(days))
        monkeypatch.setenv("USAGELEDGER_BACKFILL_DAYS", str(days))
        cli_env["USAGELEDGER_MAX_IN_FLIGHT"] = "8"
        fake.faults.set_capacity(latency=0.3)
    else:
        fake.faults.add("/v1/organizations/analytics/", "slow", times=1000, delay=0.15)
    env = {**os.environ, **cli_env}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "connect", "anthropic", "--key-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write((FAKE_ADMIN_KEY + "\n").encode())
    proc.stdin.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = _days_done(cli_env["USAGELEDGER_DATABASE_URL"])
        # The connect probe makes one usage call before the sync starts; the second is the first page.
        if (
            (kill_when == "after_first_window" and (done or 0) > 0)
            or (
                kill_when == "mid_first_window"
                and done == 0
                and fake.calls.get("/v1/organizations/analytics/usage", 0) >= 2
            )
            or (kill_when == "several_windows_in_flight" and fake.faults.in_flight >= 7)
        ):
            break
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.05)
    else:
        pytest.fail("the sync never reached the kill point")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.stderr:
        proc.stderr.close()
    fake.faults.clear()
    start = fake.today - dt.timedelta(days=days - 1)
    cursor, first, last = _stored_range(cli_env["USAGELEDGER_DATABASE_URL"])
    # What the killed sync left is a contiguous prefix of whole windows, and the cursor says exactly where.
    window_ends = [w.end for w in plan_windows(start, fake.today + dt.timedelta(days=1))]
    assert cursor is None or cursor in window_ends
    if last is not None:
        assert cursor is not None and first >= start and last < cursor

    status = cli("status", "--json").json()
    assert len(status) == 1
    # The killed process still "holds" the lease, but its pid is gone: shown as interrupted, not syncing.
    assert status[0]["state"] == "error" and status[0]["sync_running"] is False
    assert "interrupted" in status[0]["last_error"]
    result = cli("sync")
    assert result.exit_code == 0, result.err  # the dead process's lock is taken over at once
    assert stored_at_grain(cli) == truth_at_grain(fake, start, fake.today + dt.timedelta(days=1))
    assert any(
        "interrupted" in e["message"] for e in cli("events", "--json").json() if e["kind"] == "sync_failed"
    )
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from sync_runs where status = 'running'")).scalar() == 0
    engine.dispose()
