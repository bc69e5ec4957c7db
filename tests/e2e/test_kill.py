"""A sync killed with SIGKILL at any point, then run again, ends with exactly the rows of an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from usageledger.fake import FAKE_ADMIN_KEY

from .conftest import stored_at_grain, truth_at_grain
from .test_sync import _span

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


@pytest.mark.parametrize("kill_when", ["mid_first_window", "after_first_window"])
def test_sigkill_mid_sync_then_rerun_equals_an_uninterrupted_sync(cli, fake, cli_env, kill_when):
    """Kill the backfill process hard, sync again: every total equals the ground truth, nothing doubled."""
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
        if (kill_when == "after_first_window" and (done or 0) > 0) or (
            kill_when == "mid_first_window"
            and done == 0
            and fake.calls.get("/v1/organizations/analytics/usage", 0) >= 2
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

    status = cli("status", "--json").json()
    assert len(status) == 1
    # The killed process still "holds" the lease, but its pid is gone: shown as interrupted, not syncing.
    assert status[0]["state"] == "error" and status[0]["sync_running"] is False
    assert "interrupted" in status[0]["last_error"]
    result = cli("sync")
    assert result.exit_code == 0, result.err  # the dead process's lock is taken over at once
    start, end = _span(fake)
    assert stored_at_grain(cli) == truth_at_grain(fake, start, end)
    assert any(
        "interrupted" in e["message"] for e in cli("events", "--json").json() if e["kind"] == "sync_failed"
    )
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from sync_runs where status = 'running'")).scalar() == 0
    engine.dispose()
