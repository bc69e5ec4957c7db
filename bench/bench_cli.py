"""Benchmark (not a test): how long the query commands take, from process start to exit.

Backfills a year of a demo-sized organization (the fake on loopback, a real `connect anthropic`), then runs
`usageledger status`, `usage` and `cost` as a user would, each as a whole new process, and prints the
median wall time of several runs beside two yardsticks: an empty Python (`python -c pass`) and
`import anthropic`, the SDK the query commands must not load. Bytecode is cached, as for an installed
package. Usage: python bench/bench_cli.py [--runs 7] [--days 365] [--rows-per-day 150]

Normalised figures. Issue 9 asks for "under 0.3 s" on a machine where `import anthropic` took about
1.0 s. Machines differ (this project's have been 1× to 2.7× slower than that one), so beside the raw
milliseconds the benchmark prints each figure divided by this machine's median `import anthropic` wall
time, measured in the same run: a ratio of 0.30 or less meets the issue's target on any machine. The
yardstick is honest only as far as it goes: importing the SDK is single-threaded, CPU-bound Python
(module execution and class creation), much like a query command's start, so both scale together with
the CPU and the Python version; it does not capture disk speed (both run from the page cache here) and
it moves if the pinned SDK version changes what `import anthropic` loads.
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
YARDSTICK = "python -c 'import anthropic'"
# What `import anthropic` took on the machine issue 9 was written on, and the target there.
ISSUE_YARDSTICK_S = 1.0
TARGET_S = 0.3
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

    yardstick = figures[YARDSTICK][0]
    target = TARGET_S / ISSUE_YARDSTICK_S
    print(f"median of {args.runs} runs each, whole process (start to exit):")
    print(
        f"  {'':<30} {'wall':>10} {'CPU':>10}   {'÷ import anthropic':>18}   {'≈ on the issue machine':>22}"
    )
    for label, (wall, cpu) in figures.items():
        ratio = wall / yardstick
        print(
            f"  {label:<30} {wall * 1000:7.0f} ms {cpu * 1000:7.0f} ms   {ratio:18.2f}   "
            f"{ratio * ISSUE_YARDSTICK_S * 1000:19.0f} ms"
        )
    print(
        f"normalised: wall time ÷ this machine's `import anthropic` ({yardstick * 1000:.0f} ms; it took "
        f"~{ISSUE_YARDSTICK_S * 1000:.0f} ms on the machine issue 9 was written on). Target: ≤ {target:.2f} "
        f"(= {TARGET_S * 1000:.0f} ms there)."
    )
    for label in COMMANDS:
        ratio = figures[label][0] / yardstick
        print(f"  {label:<30} {ratio:.2f} {'meets' if ratio <= target else 'misses'} the target")
    load1, load5, _ = os.getloadavg()
    print(f"load average while measuring: {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
