"""Benchmark (not a test): run `bench_sync.py` several times and print the spread of its main figures.

One run of the year's backfill at 150 ms a call varies by ±5% on this 2-core machine (0.203-0.240 of
calls × latency in fourteen runs of the same code, eleventh session): a change worth less than that needs
the median of several runs, set beside the same number of runs of the code before it. Each run is a
process of its own, so no run's fake, database or CPU counters carry into the next; each hands its figures
over as JSON (`bench_sync.py --figures-json`).

    .venv/bin/python bench/bench_repeat.py --runs 3 -- --latency-ms 150 --cap 8 --max-in-flight 8
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_BENCH_SYNC = Path(__file__).resolve().parent / "bench_sync.py"
# bench_sync's figures (the keys of its --figures-json) as they are shown here.
_LABELS = {
    "ratio_to_calls_x_latency": "wall / (calls × latency)",
    "wall_seconds": "wall, process start included (s)",
    "waited_for_api_seconds": "writer waited for the API (s)",
    "sync_cpu_seconds": "CPU of the sync (s)",
    "sync_kernel_seconds": "of it in the kernel (s)",
    "peak_memory_mb": "peak memory of the sync (MB)",
    "fake_mean_answer_ms": "the fake's mean answer (ms)",
}


def _run(number: int, bench_args: list[str], figures_file: Path) -> dict[str, float]:
    """One run of bench_sync.py; its figures that have a value (no ratio without --latency-ms)."""
    command = [sys.executable, str(_BENCH_SYNC), *bench_args, "--figures-json", str(figures_file)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"run {number} of bench_sync.py failed ({done.returncode}):\n{done.stderr.strip()}")
    figures = json.loads(figures_file.read_text())
    return {key: float(value) for key, value in figures.items() if value is not None}


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
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(1, args.runs + 1):
            figures = _run(number, passed, Path(scratch) / f"run-{number}.json")
            runs.append(figures)
            shown = "; ".join(f"{_LABELS[key]} {value:.3g}" for key, value in figures.items())
            print(f"run {number}: {shown}", flush=True)

    print(f"over {len(runs)} runs (median, lowest-highest):")
    for key, label in _LABELS.items():
        values = [run[key] for run in runs if key in run]
        if values:
            print(f"  {label}: {statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})")


if __name__ == "__main__":
    main()
