"""Benchmark (not a test): how long the query commands take, from process start to exit.

Backfills a year of a demo-sized organization (the fake on loopback, a real `connect anthropic`), then runs
`usageledger status`, `usage` and `cost` as a user would, each as a whole new process, and prints the
median wall time of several runs beside two yardsticks: an empty Python (`python -c pass`) and
`import anthropic`, the SDK the query commands must not load. Bytecode is cached, as for an installed
package. Usage: python bench/bench_cli.py [--runs 7] [--days 365] [--rows-per-day 150]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, serve_in_thread

DEMO_SEED = 7  # the demo's organization (cli/demo.py)
COMMANDS = {
    "usageledger status": ["status"],
    "usageledger usage": ["usage"],
    "usageledger cost": ["cost"],
}


def _time_runs(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of `runs` runs, after one warm-up that is not counted."""
    walls: list[float] = []
    cpus: list[float] = []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
        if i:
            walls.append(wall)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rows-per-day", type=int, default=150)  # the demo's organization
    args = parser.parse_args()

    bin_dir = Path(sys.executable).parent
    usageledger = str(bin_dir / "usageledger")
    fake = FakeOrganization(seed=DEMO_SEED, rows_per_day=args.rows_per_day)
    with tempfile.TemporaryDirectory() as home, serve_in_thread(fake) as running:
        env = {
            **os.environ,
            "USAGELEDGER_HOME": home,
            "USAGELEDGER_ANTHROPIC_BASE_URL": running.url,
            "USAGELEDGER_BACKFILL_DAYS": str(args.days),
        }
        env.pop("USAGELEDGER_DATABASE_URL", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package runs from cached bytecode
        started = time.perf_counter()
        connect = subprocess.run(
            [usageledger, "connect", "anthropic", "--key-stdin"],
            input=FAKE_ADMIN_KEY + "\n",
            env=env,
            capture_output=True,
            text=True,
        )
        if connect.returncode != 0:
            raise SystemExit(f"connect failed ({connect.returncode}): {connect.stderr.strip()}")
        print(
            f"backfilled {args.days} days of a {args.rows_per_day}-rows/day organization in "
            f"{time.perf_counter() - started:.1f} s"
        )

        figures = {
            "python -c pass": _time_runs([sys.executable, "-c", "pass"], env, args.runs),
            "python -c 'import anthropic'": _time_runs(
                [sys.executable, "-c", "import anthropic"], env, args.runs
            ),
        }
        for label, command in COMMANDS.items():
            figures[label] = _time_runs([usageledger, *command], env, args.runs)

    print(f"median of {args.runs} runs each, whole process (start to exit):")
    for label, (wall, cpu) in figures.items():
        print(f"  {label:<30} wall {wall * 1000:7.0f} ms   CPU {cpu * 1000:7.0f} ms")
    load1, load5, _ = os.getloadavg()
    print(f"load average while measuring: {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
