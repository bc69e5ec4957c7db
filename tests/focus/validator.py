"""Run the FinOps FOCUS validator (its own Python 3.12 venv, `make focus-validator`) and read its verdict."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The criteria an Anthropic export can honestly claim (without them the validator skips most rules).
CRITERIA = (
    "ACCOUNT_NAMING_SUPPORTED,NEGOTIATED_PRICING_SUPPORTED,PUBLIC_PRICE_LIST_SUPPORTED,"
    "USAGE_MEASUREMENT_SUPPORTED,UNIT_PRICING_SUPPORTED,SUB_ACCOUNT_SUPPORTED"
)
# InvoiceId-C-004-C ("null when not invoiced") and -C-005-C ("not null when invoiced") are the two halves
# of an OR that the bundled 1.2.0.1 rules also score alone: one of them fails for every file.
ALWAYS_FAILING = frozenset({"InvoiceId-C-004-C", "InvoiceId-C-005-C"})
_SUMMARY = re.compile(r"Total:\s*(\d+)\s*\|\s*Pass:\s*(\d+)\s*\|\s*Fail:\s*(\d+)")
_FAILED = re.compile(r"❌\s*(\S+):\s*FAIL")


@dataclass(frozen=True)
class Verdict:
    total: int
    passed: int
    failed: int
    failed_rules: frozenset[str]
    output: str


def validator_venv() -> Path:
    """The validator's venv; skips (locally) or fails (in CI) when `make focus-validator` has not made it."""
    venv = Path(os.environ.get("USAGELEDGER_FOCUS_VENV", REPO / ".venv-focus"))
    if not (venv / "bin" / "focus-validator").exists():
        reason = f"the FOCUS validator's venv {venv} is missing: run `make focus-validator`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI runs it through `make test`)")
        pytest.skip(reason)
    return venv


def run_validator(data_file: Path) -> Verdict:
    """Validate `data_file` against FOCUS 1.2.0.1 offline. The tool exits 0 even when rules fail, so its
    summary line and failure lines are read instead; it opens its rules by a relative path, so it runs
    from the folder that holds its package (where it also leaves its detailed log)."""
    venv = validator_venv()
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import focus_validator, os; print(os.path.dirname(os.path.dirname(focus_validator.__file__)))"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip()  # fmt: skip
    done = subprocess.run(
        [venv / "bin" / "focus-validator", "--data-file", str(data_file.resolve()), "--validate-version", "1.2.0.1",
         "--block-download", "--output-type", "console", "--applicability-criteria", CRITERIA],
        cwd=site, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = done.stdout + done.stderr
    summary = _SUMMARY.search(output)
    assert done.returncode == 0 and summary, (
        f"the validator did not report (exit {done.returncode}):\n{output[-3000:]}"
    )
    total, passed, failed = (int(g) for g in summary.groups())
    return Verdict(total, passed, failed, frozenset(_FAILED.findall(output)), output)
