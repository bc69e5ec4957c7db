"""Benchmark (not a test): the FOCUS export of a year, CSV and Parquet — rows, rows/s and peak RSS.

Backfills the demo organization (the fake, seed 7, `--rows-per-day` groups a day) for a year into a fresh
SQLite database, then runs `usageledger export focus` in a fresh process per format and period. Each
process reports its own peak RSS, so a one-week export next to the year's shows whether memory grows with
the period (it should not: rows are read a day at a time and written a row group at a time).
Usage: python bench/bench_focus.py [--rows-per-day 150]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from usageledger.cli import main
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, serve_in_thread

# Runs one export in this process and prints its own peak RSS (KiB on Linux) as the last line of stderr.
_PROBE = (
    "import json, resource, sys; from usageledger.cli import main; code = main(sys.argv[1:]); "
    "print(json.dumps({'code': code, 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), "
    "file=sys.stderr)"
)


def _backfill(home: Path, rows_per_day: int) -> dict[str, str]:
    env = {
        "USAGELEDGER_HOME": str(home), "USAGELEDGER_DATABASE_URL": f"sqlite:///{home / 'bench.db'}",
        "USAGELEDGER_SECRET_KEY": Fernet.generate_key().decode(), "USAGELEDGER_BACKFILL_DAYS": "365",
    }  # fmt: skip
    with serve_in_thread(FakeOrganization(seed=7, rows_per_day=rows_per_day)) as running:
        os.environ.update(env, USAGELEDGER_ANTHROPIC_BASE_URL=running.url)
        sys.stdin = io.StringIO(FAKE_ADMIN_KEY + "\n")
        assert main(["connect", "anthropic", "--key-stdin"]) == 0
    return env


def _export(
    env: dict[str, str], out: Path, fmt: str, since: dt.date, until: dt.date
) -> tuple[int, float, int]:
    args = [
        "export",
        "focus",
        "--since",
        str(since),
        "--until",
        str(until),
        "--format",
        fmt,
        "--output",
        str(out),
    ]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], env={**os.environ, **env},
                          capture_output=True, text=True, check=True)  # fmt: skip
    elapsed = time.perf_counter() - started
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    assert probe["code"] == 0, done.stderr
    rows = int(done.stderr.split("Exported ")[1].split(" ")[0].replace(",", ""))
    return rows, elapsed, probe["rss_kib"]


def run(rows_per_day: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = _backfill(home, rows_per_day)
        today = dt.datetime.now(dt.UTC).date()
        print(
            f"{'format':8} {'period':6} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'peak RSS':>9} {'file':>9}"
        )
        for fmt in ("csv", "parquet"):
            for label, days in (("week", 7), ("year", 365)):
                out = home / f"focus-{label}.{fmt}"
                rows, elapsed, rss = _export(env, out, fmt, today - dt.timedelta(days=days - 1), today)
                print(f"{fmt:8} {label:6} {rows:9,} {elapsed:8.1f} {rows / elapsed:9,.0f} {rss / 1024:7.0f} MB"
                      f" {out.stat().st_size / 1e6:6.1f} MB")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-day", type=int, default=150)
    run(parser.parse_args().rows_per_day)
