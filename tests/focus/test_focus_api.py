"""`GET /api/v1/exports/focus`: a signed-in download of the same rows as the CLI, 401 without a token,
400 for a bad period or format, and only the caller's own workspace's organizations."""

# ruff: noqa: F811  (the web fixtures are imported and used as arguments)

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.web.conftest import (  # noqa: F401
    _clean_fake,
    accounts,
    acme_connection,
    admin,
    anon,
    app,
    bearer,
    engine,
    fake,
    globex_connection,
    member,
    outsider,
    running_fake,
    settings,
    tokens,
)
from usageledger.reports.exports import FOCUS_COLUMNS
from usageledger.store.tables import cost_rows

_URL = "/api/v1/exports/focus?period=90d"


def test_a_member_downloads_the_periods_cost_as_focus_csv(member, acme_connection, engine):
    """An attachment whose BilledCost adds up to the stored cost of the connection's days."""
    got = member.get(_URL)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="focus-' in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert list(rows[0]) == list(FOCUS_COLUMNS)
    first, last = (
        min(r["ChargePeriodStart"] for r in rows)[:10],
        max(r["ChargePeriodStart"] for r in rows)[:10],
    )
    with engine.connect() as conn:
        stored = conn.execute(select(func.sum(cost_rows.c.amount_microcents), func.count())
                              .where(cost_rows.c.connection_id == acme_connection,
                                     cost_rows.c.day.between(first, last))).one()  # fmt: skip
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal(stored[0]).scaleb(-8) > 0
    assert len(rows) == stored[1]


def test_parquet_comes_as_a_parquet_attachment(member, acme_connection, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    got = member.get(_URL + "&format=parquet")
    assert got.status_code == 200 and got.headers["content-disposition"].endswith('.parquet"')
    (tmp_path / "f.parquet").write_bytes(got.content)
    assert pq.read_table(tmp_path / "f.parquet").num_rows > 0


def test_a_token_downloads_and_no_token_is_401(anon, acme_connection, tokens):
    assert anon.get(_URL).status_code == 401
    assert anon.get(_URL, headers=bearer(tokens["acme_member"])).status_code == 200


@pytest.mark.parametrize("query", ["period=2026-13", "period=fortnight", "format=xlsx", "since=31-10-2026",
                                   "organization=org_nope"])  # fmt: skip
def test_bad_input_is_400_with_the_error_envelope(member, acme_connection, query):
    got = member.get(f"/api/v1/exports/focus?{query}")
    assert got.status_code == 400, got.text
    assert "Traceback" not in got.text and got.json()["error"]


def test_a_workspace_exports_only_its_own_organizations(outsider, acme_connection, globex_connection, engine):
    """Two workspaces connected to the same organization: each export holds its own connection's rows only."""
    rows = list(csv.DictReader(io.StringIO(outsider.get(_URL).text)))
    with engine.connect() as conn:
        mine, theirs = (conn.execute(select(func.sum(cost_rows.c.amount_microcents))
                                     .where(cost_rows.c.connection_id == c)).scalar_one()
                        for c in (globex_connection, acme_connection))  # fmt: skip
    assert mine and theirs and sum(int(r["x_AmountMicrocents"]) for r in rows) == mine
