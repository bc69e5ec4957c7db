"""`usageledger export focus` end to end (the fake synced by the real CLI), on SQLite and PostgreSQL."""

# ruff: noqa: F811  (the end-to-end fixtures are imported and used as arguments)

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from tests.e2e.conftest import cli, cli_env, connected, fake, running_fake  # noqa: F401


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_billed_cost_adds_up_to_the_reported_cost_exactly(connected, cli):
    """The export's BilledCost sums to `usageledger cost` for the period: exact in Decimal, so to the cent."""
    exported = cli("export", "focus", "--period", "30d")
    assert exported.exit_code == 0, exported.err
    rows = _csv_rows(exported.out)
    reported = cli("cost", "--period", "30d", "--group-by", "month", "--format", "json")
    assert reported.exit_code == 0, reported.err
    total = sum((Decimal(r["amount_usd"]) for r in reported.json()), Decimal(0))
    billed = sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0))
    assert total > 0 and billed == total
    assert sum(int(r["x_AmountMicrocents"]) for r in rows) == int(total.scaleb(8))
    assert len({r["ChargePeriodStart"] for r in rows}) >= 28  # a row set per day, days as full instants
    assert "Exported" in exported.err


def test_parquet_holds_the_same_rows_as_csv(connected, cli, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    csv_file, parquet_file = tmp_path / "f.csv", tmp_path / "f.parquet"
    assert cli("export", "focus", "--period", "30d", "--output", str(csv_file)).exit_code == 0
    assert (
        cli(
            "export", "focus", "--period", "30d", "--format", "parquet", "--output", str(parquet_file)
        ).exit_code
        == 0
    )
    table = pq.read_table(parquet_file)
    rows = _csv_rows(csv_file.read_text(encoding="utf-8"))
    assert table.num_rows == len(rows) > 0
    assert sum(table.column("BilledCost").to_pylist()) == sum(Decimal(r["BilledCost"]) for r in rows)
    assert str(table.schema.field("BilledCost").type).startswith("decimal128")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--period", "2026-13"), "YYYY-MM"),
        (("--period", "fortnight"), "Unknown period"),
        (("--format", "xlsx"), "--format"),
        (("--format", "parquet"), "--output"),
        (("--since", "31-10-2026"), "--since"),
        (("--organization", "org_nope"), "org_nope"),
    ],
)
def test_bad_input_exits_2_with_a_message(connected, cli, args, says):
    result = cli("export", "focus", *args)
    assert result.exit_code == 2 and says in result.err and "Traceback" not in result.err
