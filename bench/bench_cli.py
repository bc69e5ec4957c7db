"""Benchmark (not a test): how long the query commands take, from process start to exit.

Backfills a year of a demo-sized organization (the fake on loopback, a real `connect anthropic`), then runs
`usageledger status`, `usage` and `cost` as a user would, each as a whole new process, and prints the
median wall time of several runs beside two yardsticks: an empty Python (`python -c pass`) and
`import anthropic`, the SDK the query commands must not load. Bytecode is cached, as for an installed
package. Usage: python bench/bench_cli.py [--runs 7] [--days 365] [--rows-per-day 150]

Normalised figures. Issue 9 asks for "under 0.3 s" on a machine where `import anthropic` took about
1.0 s. Machines differ (this project's have been 1× to 2.7× slower than that one), so beside the raw
milliseconds the benchmark prints each figure divided by this machine's median `import anthropic` time
(wall by wall, CPU by CPU), measured in the same run with the runs taken in turn: a ratio of 0.30 or
less meets the issue's target on any machine. The yardstick is honest only as far as it goes: importing
the SDK is single-threaded, CPU-bound Python (module execution and class creation), much like a query
command's start, so both scale together with the CPU and the Python version; it does not capture disk
speed (both run from the page cache here), it moves if the pinned SDK version changes what `import
anthropic` loads, and on a machine busy with other work wall times stretch unevenly (the CPU ratio
holds up better; the load average is printed).
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


def _run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _time_runs(
    commands: dict[str, list[str]], env: dict[str, str], runs: int
) -> dict[str, tuple[float, float]]:
    """(median wall seconds, median CPU seconds) of each command over `runs` runs, after a warm-up.

    Round-robin (one run of each command, then the next round) rather than one command at a time, so a
    change in the machine's load while measuring falls on the yardstick and the commands alike and the
    ratios between them stay fair."""
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for round_ in range(runs + 1):
        for label, argv in commands.items():
            sample = _run_once(argv, env)
            if round_:  # the first round warms the page cache and bytecode
                samples[label].append(sample)
    return {
        label: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
        for label, got in samples.items()
    }


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

        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            YARDSTICK: [sys.executable, "-c", "import anthropic"],
            **{label: [usageledger, *argv] for label, argv in COMMANDS.items()},
        }
        figures = _time_runs(commands, env, args.runs)

    yard_wall, yard_cpu = figures[YARDSTICK]
    target = TARGET_S / ISSUE_YARDSTICK_S
    print(f"median of {args.runs} runs each (taken in turn), whole process (start to exit):")
    print(f"  {'':<30} {'wall':>10} {'CPU':>10}   {'wall ÷ yardstick':>16} {'CPU ÷ yardstick':>16}")
    for label, (wall, cpu) in figures.items():
        print(
            f"  {label:<30} {wall * 1000:7.0f} ms {cpu * 1000:7.0f} ms   "
            f"{wall / yard_wall:16.2f} {cpu / yard_cpu:16.2f}"
        )
    print(
        f"normalised by this machine's `import anthropic` (the yardstick: {yard_wall * 1000:.0f} ms wall, "
        f"{yard_cpu * 1000:.0f} ms CPU; ~{ISSUE_YARDSTICK_S * 1000:.0f} ms on the machine issue 9 was written "
        f"on). Target: <= {target:.2f} (= {TARGET_S * 1000:.0f} ms there). On a busy machine wall times "
        "stretch unevenly; trust the CPU ratio then."
    )
    for label in COMMANDS:
        wall, cpu = figures[label]
        ratios = (wall / yard_wall, cpu / yard_cpu)
        verdict = "meets" if max(ratios) <= target else "misses"
        print(
            f"  {label:<30} {ratios[0]:.2f} wall, {ratios[1]:.2f} CPU: {verdict} the target "
            f"(≈ {ratios[0] * ISSUE_YARDSTICK_S * 1000:.0f} ms wall on the issue's machine)"
        )
    load1, load5, _ = os.getloadavg()
    print(f"load average while measuring: {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
