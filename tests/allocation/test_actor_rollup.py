"""The actor grain's cost rollup (`cost_by_actor`: actor, workspace and product a day), which allocation
reads: it equals the actor rows summed by the database through a backfill, a revision and a re-sync, the
migration that adds it fills it from rows already stored, and it is what allocation reads (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Engine, create_engine, func, select

from usageledger.models import ACTOR, ActorDimensions, CostRecord, Window
from usageledger.store import WindowWriter, ensure_default_tenant, insert_connection, migrate, start_sync_run
from usageledger.store.tables import actor_cost_rollup, actor_cost_rows

D1, D2, END = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
WINDOW = Window(D1, END)
DIMS = ACTOR.all_cost_rollups()["actor"]


def _cost(day: dt.date, actor: tuple[str | None, str | None], model: str, token_type: str, cents: str,
          workspace: str = "w1", product: str | None = "messages_api") -> CostRecord:  # fmt: skip
    dims = ActorDimensions("org-1", *actor, product, model, workspace, "standard")
    return CostRecord(day, dims, Decimal(cents), Decimal(cents) * 2, breakdown=("tokens", token_type))


def _records() -> list[CostRecord]:
    alice, key = ("user_actor", "user_1"), ("api_actor", "key_1")
    return [
        _cost(D1, alice, "m1", "output_tokens", "1.25"),
        _cost(D1, alice, "m1", "uncached_input_tokens", "0.003"),  # same rollup row: summed
        _cost(D1, alice, "m2", "output_tokens", "2.5"),  # another model: summed too
        _cost(D1, key, "m1", "output_tokens", "7", workspace="w2"),
        _cost(D2, (None, None), "m1", "output_tokens", "0.5", product=None),  # no identity, no product
        _cost(D2, alice, "m1", "output_tokens", "4"),
    ]


def _write(engine: Engine, connection_id: int, records: list[CostRecord]) -> None:
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
        writer = WindowWriter(conn, connection_id, run, WINDOW, grain=ACTOR)
        writer.write_cost(records[:3])  # two pages: the sums carry across pages
        writer.write_cost(records[3:])
        writer.finish()


def _summed_rows(engine: Engine) -> list[tuple]:
    t = actor_cost_rows
    keys = [t.c.connection_id, t.c.day, *[t.c[d] for d in DIMS]]
    sums = [func.sum(t.c.amount_microcents), func.sum(t.c.list_amount_microcents), func.sum(t.c.requests)]
    with engine.connect() as conn:
        return sorted(map(tuple, conn.execute(select(*keys, *sums).group_by(*keys)).all()))


def _rollup(engine: Engine) -> list[tuple]:
    r = actor_cost_rollup
    columns = [r.c.connection_id, r.c.day, *[r.c[d] for d in DIMS], r.c.amount_microcents,
               r.c.list_amount_microcents, r.c.requests]  # fmt: skip
    with engine.connect() as conn:
        return sorted(map(tuple, conn.execute(select(*columns)).all()))


def test_the_rollup_equals_the_actor_rows_summed_through_every_change(engine, connection_id):
    """Backfill, then a revision (one row changed, one vanished, one new), then the same window again."""
    records = _records()
    _write(engine, connection_id, records)
    assert _rollup(engine) == _summed_rows(engine) and len(_rollup(engine)) == 4
    revised = [*records[:1], records[1]._replace(amount_cents=Decimal("9")), *records[2:5],
               _cost(D2, ("user_actor", "user_2"), "m1", "output_tokens", "3")]  # fmt: skip
    _write(engine, connection_id, revised)
    assert _rollup(engine) == _summed_rows(engine) and len(_rollup(engine)) == 4
    _write(engine, connection_id, revised)
    assert _rollup(engine) == _summed_rows(engine)
    alice_d1 = next(row for row in _rollup(engine) if row[1] == D1 and row[4] == "user_1")
    assert alice_d1[-3] == 1_250_000 + 9_000_000 + 2_500_000  # micro-cents, exact


def test_the_migration_fills_the_rollup_from_rows_stored_before_it(database_url, tmp_path):
    """Rows synced under revision 0008 are summed into `cost_by_actor` when 0009 creates it."""
    engine = create_engine(database_url)
    try:
        migrate(engine, "0008")
        with engine.begin() as conn:
            tenant = ensure_default_tenant(conn)
            connection_id = insert_connection(
                conn, tenant_id=tenant, name="Org", provider="anthropic", base_url="http://127.0.0.1:1",
                organization_id="org-1", organization_name="Org", key_hint="sk-ant-admin01-…abcd", source="analytics",
            )  # fmt: skip
        _write_before_0009(engine, connection_id)
        migrate(engine)
        assert _rollup(engine) == _summed_rows(engine) and len(_rollup(engine)) == 4
    finally:
        engine.dispose()


def _write_before_0009(engine: Engine, connection_id: int) -> None:
    """The actor rows as a sync under 0008 stored them (no rollup table to write yet)."""
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
        for r in _records():
            conn.execute(actor_cost_rows.insert().values(
                connection_id=connection_id, sync_run_id=run, day=r.day, **{k: v or "" for k, v in r.dims._asdict().items()},
                cost_type=r.breakdown[0], token_type=r.breakdown[1], currency="USD", requests=None,
                amount_microcents=int(r.amount_cents.scaleb(6)), list_amount_microcents=int(r.list_amount_cents.scaleb(6)),
            ))  # fmt: skip


def test_allocation_reads_the_rollup_not_the_rows():
    """The spend groups come from `cost_by_actor`: a year of a large organization sums a tenth of the rows."""
    from usageledger.reports import allocation_data

    assert allocation_data._SPEND_TABLE is actor_cost_rollup
