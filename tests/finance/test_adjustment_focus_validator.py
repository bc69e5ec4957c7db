"""The FinOps validator accepts an export whose month carries adjustments (revisions of a closed month)."""

# ruff: noqa: F811  (the end-to-end fixtures are imported and used as arguments)

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.conftest import cli, cli_env, connected, fake, running_fake  # noqa: F401
from tests.focus.validator import ALWAYS_FAILING, run_validator, validator_venv

pytestmark = pytest.mark.xdist_group("focus-validator")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_adjustment_rows_pass_the_validator(cli, fake, connected, tmp_path, fmt):
    """Close last month, revise two of its days, export this month: no failed rule but the InvoiceId pair."""
    validator_venv()
    this = fake.today.replace(day=1)
    last = (this - dt.timedelta(days=1)).replace(day=1)
    assert cli("close", f"{last:%Y-%m}").exit_code == 0
    days = [last + dt.timedelta(days=18), last + dt.timedelta(days=20)]
    fake.revise_days(days)
    assert cli("sync", "--since", days[0].isoformat(), "--until", days[-1].isoformat()).exit_code == 0
    path = tmp_path / f"focus.{fmt}"
    exported = cli("export", "focus", "--period", "this-month", "--format", fmt, "--output", str(path))
    assert exported.exit_code == 0, exported.err
    if fmt == "csv":
        assert ",Adjustment,Correction," in path.read_text(encoding="utf-8")
    verdict = run_validator(path)
    assert verdict.total > 500 and verdict.passed > 200, verdict.output[-3000:]
    assert verdict.failed_rules - ALWAYS_FAILING == set(), verdict.output[-5000:]
