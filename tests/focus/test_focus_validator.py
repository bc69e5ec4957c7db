"""The FinOps Foundation's validator accepts a demo organization's full year exported as FOCUS 1.2, in CSV
and in Parquet: no failed rule but the InvoiceId pair that fails for every file (see `validator.py`)."""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, func, select

from tests.focus.validator import ALWAYS_FAILING, run_validator, validator_venv
from usageledger.cli import main
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, serve_in_thread
from usageledger.reports.exports import FocusScope, iter_focus_rows, write_focus_csv, write_focus_parquet
from usageledger.reports.periods import Period
from usageledger.store import ensure_default_tenant
from usageledger.store.tables import cost_rows

# The demo organization of `usageledger demo` (cli/demo.py). Not imported from there: importing a command
# module binds `usageledger.cli.app` to the module before `main()` does, which other tests trip over.
DEMO_SEED, DEMO_ROWS_PER_DAY = 7, 150
pytestmark = pytest.mark.xdist_group("focus-validator")  # one worker syncs the year once for every test


@pytest.fixture(scope="module")
def demo_year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Period]]:
    """The demo organization (the fake, seed 7) backfilled for a year, as `usageledger demo` does."""
    validator_venv()  # skip or fail before a year's sync when the validator is missing
    home = tmp_path_factory.mktemp("focus-demo")
    url = f"sqlite:///{home / 'usageledger.db'}"
    with serve_in_thread(FakeOrganization(seed=DEMO_SEED, rows_per_day=DEMO_ROWS_PER_DAY)) as running:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in {
                "USAGELEDGER_HOME": str(home), "USAGELEDGER_DATABASE_URL": url,
                "USAGELEDGER_ANTHROPIC_BASE_URL": running.url, "USAGELEDGER_SECRET_KEY": Fernet.generate_key().decode(),
                "USAGELEDGER_BACKFILL_DAYS": "365",
            }.items():  # fmt: skip
                mp.setenv(name, value)
            mp.setattr(sys, "stdin", io.StringIO(FAKE_ADMIN_KEY + "\n"))
            assert main(["connect", "anthropic", "--key-stdin"]) == 0
    engine = create_engine(url)
    today = dt.datetime.now(dt.UTC).date()
    yield engine, Period("year", "A year", today - dt.timedelta(days=365), today + dt.timedelta(days=1))
    engine.dispose()


def _export(demo_year: tuple[Engine, Period], path: Path, fmt: str) -> int:
    engine, period = demo_year
    with engine.connect() as conn:
        scope = FocusScope(ensure_default_tenant(conn), period)
        rows = iter_focus_rows(conn, scope)
        if fmt == "parquet":
            return write_focus_parquet(rows, str(path), row_group_rows=20_000)
        with path.open("w", newline="", encoding="utf-8") as out:
            return write_focus_csv(rows, out)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_full_year_passes_the_focus_validator(demo_year, tmp_path, fmt):
    """Hundreds of rules run; none fails but the InvoiceId pair; every stored cost row is exported."""
    engine, period = demo_year
    path = tmp_path / f"focus.{fmt}"
    exported = _export(demo_year, path, fmt)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(cost_rows)).scalar_one()
        days = conn.execute(select(func.min(cost_rows.c.day), func.max(cost_rows.c.day))).one()
    assert exported == stored > 100_000 and (days[1] - days[0]).days > 300  # a year of the demo org
    verdict = run_validator(path)
    assert verdict.total > 500 and verdict.passed > 200, verdict.output[-3000:]
    assert verdict.failed_rules - ALWAYS_FAILING == set(), verdict.output[-5000:]
    assert verdict.failed == len(verdict.failed_rules) <= 1


def test_the_validator_is_not_a_rubber_stamp(demo_year, tmp_path):
    """The same export with a date-only ChargePeriodStart and integer costs fails other rules."""
    path = tmp_path / "focus.csv"
    _export(demo_year, path, "csv")
    broken = tmp_path / "broken.csv"
    with path.open(encoding="utf-8") as src, broken.open("w", encoding="utf-8") as out:
        header = next(src)
        out.write(header)
        columns = header.rstrip("\n").split(",")
        start, billed = columns.index("ChargePeriodStart"), columns.index("BilledCost")
        for i, line in enumerate(src):
            if i == 2000:
                break
            cells = line.split(",")  # the first columns hold no quoted commas
            cells[start] = cells[start][:10]
            cells[billed] = str(int(Decimal(cells[billed])))
            out.write(",".join(cells))
    verdict = run_validator(broken)
    assert verdict.failed_rules - ALWAYS_FAILING, verdict.output[-3000:]
