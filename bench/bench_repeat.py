"""Benchmark (not a test): run `bench_sync.py` several times and print the spread of its main figure.

One run of the year's backfill at 150 ms a call varies by ±5% on this 2-core machine (0.216-0.240 of
calls × latency for the same code, eleventh session): a change worth less than that needs the median of
several runs, set beside the same number of runs of the code before it. Each run is a process of its own,
so no run's fake, database or CPU counters carry into the next.

    .venv/bin/python bench/bench_repeat.py --runs 3 -- --latency-ms 150 --cap 8 --max-in-flight 8
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

_BENCH_SYNC = Path(__file__).resolve().parent / "bench_sync.py"
# The lines of bench_sync's report that are set side by side, and the figure each one ends with.
_FIGURES = {
    "wall / (calls × latency)": re.compile(r"^wall time / \(calls × latency\):.* = ([0-9.]+)$"),
    "wall, process start included (s)": re.compile(r"^wall time \(connect \+ backfill.*\): ([0-9.]+) s$"),
    "writer waited for the API (s)": re.compile(r"^the writing thread waited for the API ([0-9.]+) s"),
    "CPU of the sync (s)": re.compile(r"^CPU time of the sync process: ([0-9.]+) s"),
    "peak memory of the sync (MB)": re.compile(r"^peak memory of the sync process: ([0-9.]+) MB$"),
}


def _figures(report: str) -> dict[str, float]:
    found = {}
    for line in report.splitlines():
        for name, pattern in _FIGURES.items():
            match = pattern.match(line.strip())
            if match:
                found[name] = float(match.group(1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="how many times to run bench_sync.py")
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="after --: bench_sync.py's own options")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    passed = args.bench_args[1:] if args.bench_args[:1] == ["--"] else args.bench_args

    runs: list[dict[str, float]] = []
    for number in range(1, args.runs + 1):
        done = subprocess.run([sys.executable, str(_BENCH_SYNC), *passed], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(
                f"run {number} of bench_sync.py failed ({done.returncode}):\n{done.stderr.strip()}"
            )
        figures = _figures(done.stdout)
        runs.append(figures)
        shown = "; ".join(f"{name} {value:g}" for name, value in figures.items())
        print(f"run {number}: {shown}", flush=True)

    print(f"over {len(runs)} runs (median, lowest-highest):")
    for name in _FIGURES:
        values = [run[name] for run in runs if name in run]
        if values:  # without --latency-ms there is no ratio to calls × latency
            print(f"  {name}: {statistics.median(values):g} ({min(values):g}-{max(values):g})")


if __name__ == "__main__":
    main()
