"""`usageledger demo` as a user runs it: a colour terminal, then `status` from another terminal."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from decimal import Decimal

DEMO_PASSWORD = "demo-password-123"  # the demo's default sign-in (cli/demo.py)
USAGELEDGER = [sys.executable, "-c", "import sys; from usageledger.cli import main; sys.exit(main())"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_output_until_sign_in(env: dict[str, str], port: int) -> list[str]:
    """Run the demo (serving) and read its output until it prints the sign-in; then stop it."""
    demo = subprocess.Popen(
        [*USAGELEDGER, "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 300
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if "sign in as" in line or time.monotonic() > deadline:
                break
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    return lines


def test_demo_prints_a_plain_sign_in_and_where_status_finds_its_data(tmp_path):
    """In a colour terminal the password is printed whole, uncoloured; its export line makes `status` find the demo."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "USAGELEDGER_HOME": str(tmp_path / "home"),
        "USAGELEDGER_BACKFILL_DAYS": "20",
        "FORCE_COLOR": "1",  # Rich colours as in a terminal
        "COLUMNS": "80",
    }
    lines = _demo_output_until_sign_in(env, _free_port())
    sign_in = next(line for line in lines if "sign in as" in line)
    assert f"with password {DEMO_PASSWORD} " in sign_in and "\x1b" not in sign_in
    export = next(line.strip() for line in lines if line.strip().startswith("export USAGELEDGER_HOME="))
    demo_home = shlex.split(export.removeprefix("export "))[0].split("=", 1)[1]

    other_terminal = {**env, "USAGELEDGER_HOME": demo_home}
    status = subprocess.run(
        [*USAGELEDGER, "status", "--json"],
        env=other_terminal,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    connections = json.loads(status.stdout)
    assert len(connections) == 1 and connections[0]["rows_stored"] > 0

    # Today by hour, from the hourly grain the backfill fetched; `today` in another terminal shows the same.
    said = next(line for line in lines if line.startswith("Today so far (UTC, by hour): $"))
    today = subprocess.run([*USAGELEDGER, "today", "--format", "json"], env=other_terminal,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert today.returncode == 0, today.stderr
    total = sum(Decimal(h["cost_usd"]) for h in json.loads(today.stdout))
    assert total > 0 and f"${total:,.2f};" in said

    # The demo imported its organization's people and teams: this month's spend lands on teams, cost centers
    # and people, adds up to the reported cost, and what stays Unallocated is small and says why.
    assert any(line.startswith("Imported 7 people in 3 teams") for line in lines)
    for by in ("team", "cost_center", "person", "application"):
        allocated = subprocess.run([*USAGELEDGER, "allocate", "--by", by, "--json"], env=other_terminal,
                                   capture_output=True, text=True, timeout=120)  # fmt: skip
        assert allocated.returncode == 0, allocated.stderr
        found = json.loads(allocated.stdout)
        total = Decimal(found["total_usd"])
        assert found["balanced"] is True and total > 0, by
        assert sum(Decimal(r["amount_usd"]) for r in found["rows"]) == total, by
        assert any(not r["unallocated"] for r in found["rows"]), by
        assert all(r["reason"] for r in found["rows"] if r["unallocated"]), by
        if by in ("team", "cost_center"):
            assert Decimal(found["unallocated_usd"]) < total / 20, f"{by}: the Unallocated remainder is small"
