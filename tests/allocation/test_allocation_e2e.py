"""End to end: the fake organization (users, deleted users, service accounts, federated and hidden
identities) synced by the real CLI, people and teams added for some users, then `usageledger allocate`
by every dimension adds up to the organization's reported cost exactly, on SQLite and PostgreSQL."""

# ruff: noqa: F811  (the end-to-end fixtures are imported and used as arguments)

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from identity_helpers import add_person, add_team
from sqlalchemy import Engine, create_engine, func, select

from tests.e2e.conftest import cli, cli_env, connected, fake, running_fake  # noqa: F401
from usageledger.reports.allocation import ALLOCATION_DIMENSIONS
from usageledger.reports.ownership_rules import DELETED_USER, FEDERATED_IDENTITY, NO_IDENTITY
from usageledger.store import ensure_default_tenant
from usageledger.store.tables import cost_rows


@pytest.fixture
def db(cli_env) -> Iterator[Engine]:
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def directory(fake, connected, db) -> dict[str, int]:
    """Half the fake's users are people in the directory: two teams, one with a cost center."""
    with db.begin() as conn:
        tenant = ensure_default_tenant(conn)
        core = add_team(conn, tenant, "Core", "CC-CORE")
        apps = add_team(conn, tenant, "Apps", None)
        for i, user in enumerate(fake.users[::2]):
            add_person(conn, tenant, user["email"].upper(), user["name"], team_ids=((core,), (apps,), ())[i % 3],
                       cost_center="CC-OWN" if i % 4 == 0 else None)  # fmt: skip
    return {"tenant": tenant, "core": core, "apps": apps}


def _stored_total(db: Engine, since: dt.date, until: dt.date) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.sum(cost_rows.c.amount_microcents))
                                .where(cost_rows.c.day.between(since, until))).scalar_one())  # fmt: skip


@pytest.mark.parametrize("by", list(ALLOCATION_DIMENSIONS))
def test_allocation_by_each_dimension_equals_the_reported_total(fake, directory, cli, db, by):
    """Exact amounts add up to the stored daily total to the micro-cent; the cent rows to the cent total."""
    result = cli("allocate", "--by", by, "--period", "30d", "--json")
    assert result.exit_code == 0, result.err
    found = result.json()
    since, until = (
        dt.date.fromisoformat(found["period"]["since"]),
        dt.date.fromisoformat(found["period"]["until"]),
    )
    total = _stored_total(db, since, until)
    assert total > 0 and found["balanced"] is True and found["imbalance_note"] is None
    assert Decimal(found["exact_total_usd"]) == Decimal(total).scaleb(-8)
    assert sum(Decimal(r["exact_amount_usd"]) for r in found["rows"]) == Decimal(total).scaleb(-8)
    assert sum(Decimal(r["amount_usd"]) for r in found["rows"]) == Decimal(found["total_usd"])
    truth = sum((r.amount_cents for r in fake.truth_cost(since, until + dt.timedelta(days=1))), Decimal(0))
    assert abs(Decimal(found["total_usd"]) - truth / 100) <= Decimal("0.01")


def test_the_fakes_hard_cases_are_unallocated_with_their_reasons(directory, cli):
    """Deleted users, federated identities and hidden identities are named, not lost; people get spend."""
    rows = cli("allocate", "--by", "person", "--period", "30d", "--json").json()["rows"]
    reasons = {r["reason"] for r in rows if r["unallocated"]}
    assert {DELETED_USER, FEDERATED_IDENTITY, NO_IDENTITY} <= reasons
    assert any(not r["unallocated"] for r in rows)


def test_the_table_has_a_total_line_and_fits_80_columns(directory, cli, monkeypatch):
    from usageledger.cli.render import console

    monkeypatch.setenv("COLUMNS", "80")
    # The console chose its width when first imported: piped (200 columns) unless COLUMNS was set then.
    monkeypatch.setattr(console, "width", 80)
    result = cli("allocate", "--by", "team", "--period", "30d")
    assert result.exit_code == 0, result.err
    assert "Total (reported cost)" in result.out and "Unallocated: " in result.out
    assert max(len(line) for line in result.out.splitlines()) <= 80


def test_a_bad_dimension_is_a_sentence_and_exit_2(connected, cli):
    result = cli("allocate", "--by", "planet")
    assert result.exit_code == 2 and "choose from team" in result.err
