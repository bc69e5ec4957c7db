"""The actor grain's cost rollup (`cost_by_actor`: actor, workspace and product a day), which allocation
reads: it equals the actor rows summed by the database through a backfill, a revision and a re-sync, the
migration that adds it fills it from rows already stored, and it is what allocation reads (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Engine, column, create_engine, func, select, table

from usageledger.models import ACTOR, ActorDimensions, CostRecord, Window
from usageledger.store import WindowWriter, ensure_default_tenant, insert_connection, migrate, start_sync_run
from usageledger.store.tables import actor_cost_rollup, actor_cost_rows, hourly_cost_rows

D1, D2, END = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
WINDOW = Window(D1, END)
DIMS = ACTOR.all_cost_rollups()["actor"]


def _cost(day: dt.date, actor: tuple[str | None, str | None], model: str, speed: str, cents: str,
          workspace: str = "w1", product: str | None = "messages_api") -> CostRecord:  # fmt: skip
    """A group's cost, whole: the actor grain does not break cost out by type."""
    dims = ActorDimensions("org-1", *actor, product, model, workspace, speed)
    return CostRecord(day, dims, Decimal(cents), Decimal(cents) * 2, breakdown=())


def _records() -> list[CostRecord]:
    alice, key = ("user_actor", "user_1"), ("api_actor", "key_1")
    return [
        _cost(D1, alice, "m1", "standard", "1.25"),
        _cost(D1, alice, "m1", "fast", "0.003"),  # same rollup row: summed
        _cost(D1, alice, "m2", "standard", "2.5"),  # another model: summed too
        _cost(D1, key, "m1", "standard", "7", workspace="w2"),
        _cost(D2, (None, None), "m1", "standard", "0.5", product=None),  # no identity, no product
        _cost(D2, alice, "m1", "standard", "4"),
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
               _cost(D2, ("user_actor", "user_2"), "m1", "standard", "3")]  # fmt: skip
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
        connection_id = _connect(engine)
        _write_before_0009(engine, connection_id)
        migrate(engine)
        assert _rollup(engine) == _summed_rows(engine) and len(_rollup(engine)) == 4
    finally:
        engine.dispose()


# `actor_cost_rows` as revisions 0007 to 0017 kept it: broken out by cost type and token type.
_BROKEN_OUT = table(
    "actor_cost_rows",
    *[column(name) for name in ("connection_id", "sync_run_id", "day", *ACTOR.dimensions, "cost_type", "token_type",
                                "currency", "requests", "amount_microcents", "list_amount_microcents")],
)  # fmt: skip


def _write_broken_out(engine: Engine, connection_id: int, records: list[tuple[CostRecord, str]]) -> None:
    """Actor rows as a sync before revision 0018 stored them: one per record and token type."""
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
        for r, token_type in records:
            conn.execute(_BROKEN_OUT.insert().values(
                connection_id=connection_id, sync_run_id=run, day=r.day, **{k: v or "" for k, v in r.dims._asdict().items()},
                cost_type="tokens", token_type=token_type, currency="USD", requests=None,
                amount_microcents=int(r.amount_cents.scaleb(6)), list_amount_microcents=int(r.list_amount_cents.scaleb(6)),
            ))  # fmt: skip


def _write_before_0009(engine: Engine, connection_id: int) -> None:
    """The actor rows as a sync under 0008 stored them (no rollup table to write yet)."""
    _write_broken_out(engine, connection_id, [(r, "output_tokens") for r in _records()])


def _connect(engine: Engine) -> int:
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        return insert_connection(
            conn, tenant_id=tenant, name="Org", provider="anthropic", base_url="http://127.0.0.1:1",
            organization_id="org-1", organization_name="Org", key_hint="sk-ant-admin01-…abcd", source="analytics",
        )  # fmt: skip


def test_the_migration_that_keeps_actor_cost_whole_sums_each_groups_types(database_url):
    """Rows broken out by token type under 0017 become one row per group under 0018, the totals exact; the
    rollup and allocation's sums do not move; the hourly cost rows are emptied."""
    engine = create_engine(database_url)
    try:
        migrate(engine, "0017")
        connection_id = _connect(engine)
        records = _records()
        _write_broken_out(engine, connection_id, [
            *[(r, "output_tokens") for r in records],
            (records[0]._replace(amount_cents=Decimal("0.000003"), list_amount_cents=Decimal("0.000006")),
             "cache_read_input_tokens"),
        ])  # fmt: skip
        hourly = table("hourly_cost_rows", *[column(n) for n in (
            "connection_id", "hour", "organization_id", "workspace_id", "model", "cost_type", "token_type",
            "amount_microcents", "list_amount_microcents", "currency", "sync_run_id")])  # fmt: skip
        with engine.begin() as conn:
            conn.execute(hourly.insert().values(
                connection_id=connection_id, hour=dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC), organization_id="org-1",
                workspace_id="w1", model="m1", cost_type="tokens", token_type="output_tokens", amount_microcents=1,
                list_amount_microcents=2, currency="USD", sync_run_id=1,
            ))  # fmt: skip
        with engine.connect() as conn:
            before = conn.execute(select(func.count(), func.sum(actor_cost_rows.c.amount_microcents))).one()
        migrate(engine)
        with engine.connect() as conn:
            after = conn.execute(select(func.count(), func.sum(actor_cost_rows.c.amount_microcents))).one()
            first = conn.execute(
                select(actor_cost_rows.c.amount_microcents, actor_cost_rows.c.list_amount_microcents).where(
                    actor_cost_rows.c.day == D1, actor_cost_rows.c.actor_id == "user_1",
                    actor_cost_rows.c.model == "m1", actor_cost_rows.c.speed == "standard",
                )
            ).one()  # fmt: skip
        assert before == (7, 1_250_000 + 3_000 + 2_500_000 + 7_000_000 + 500_000 + 4_000_000 + 3)
        assert after == (6, before[1])  # the two token types of one group are one row, the sum exact
        assert tuple(first) == (1_250_003, 2_500_006)
        assert "cost_type" not in actor_cost_rows.c
        with engine.connect() as conn:  # the recent days' view by hour: the next sync fetches it again
            assert conn.execute(select(func.count()).select_from(hourly_cost_rows)).scalar() == 0
    finally:
        engine.dispose()


def test_allocation_reads_the_rollup_not_the_rows():
    """The spend groups come from `cost_by_actor`: a year of a large organization sums a tenth of the rows."""
    from usageledger.reports import allocation_data

    assert allocation_data._SPEND_TABLE is actor_cost_rollup
