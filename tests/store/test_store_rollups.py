"""Rollups summed while writing equal the stored rows summed by the database, through every change."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, event, func, select
from store_db_fixtures import cost, usage

from usageledger.models import Window
from usageledger.store import WindowWriter, start_sync_run
from usageledger.store.tables import (
    MONTHLY_ROLLUPS,
    ROLLUP_GRAINS,
    cost_rollups,
    cost_rows,
    usage_rollups,
    usage_rows,
)

D1, D2, D3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
WINDOW = Window(D1, D3)


def _write(engine: Engine, connection_id: int, usage_records: list, cost_records: list) -> None:
    with engine.begin() as conn:
        run = start_sync_run(conn, connection_id, "manual", WINDOW.start, WINDOW.end, WINDOW.days)
        writer = WindowWriter(conn, connection_id, run, WINDOW)
        writer.write_usage(usage_records[:2])  # two pages, so sums carry across pages
        writer.write_usage(usage_records[2:])
        writer.write_cost(cost_records)
        writer.finish()


def _assert_rollups_sum_the_rows(engine: Engine) -> None:
    with engine.connect() as conn:
        for base, rollups in ((usage_rows, usage_rollups), (cost_rows, cost_rollups)):
            for grain, dims in ROLLUP_GRAINS.items():
                rollup = rollups[grain]
                metrics = [c.name for c in rollup.columns if c.name not in ("connection_id", "day", *dims)]
                keys = [base.c.connection_id, base.c.day, *[base.c[d] for d in dims]]
                summed = conn.execute(
                    select(*keys, *[func.sum(base.c[m]) for m in metrics]).group_by(*keys)
                ).all()
                stored = conn.execute(select(*[rollup.c[c.name] for c in rollup.columns])).all()
                assert sorted(map(tuple, stored)) == sorted(map(tuple, summed)), rollup.name


def _records(tokens: int, requests_reported: bool | None = True) -> tuple[list, list]:
    """Usage and cost records; `requests_reported` None: some rows report requests, others of the
    same rollup keys do not (SQL's SUM skips the NULLs)."""
    usage_records = [
        usage(day, model=model, tokens=tokens + i, api_key_id=key, workspace_id=workspace)
        for i, (day, model, key, workspace) in enumerate(
            [
                (D1, "m1", "k1", "w1"),
                (D1, "m1", "k2", "w1"),  # same workspace grain as the row above: summed
                (D2, "m1", "k1", "w2"),
                (D2, "m2", "k3", "w2"),
            ]
        )
    ]
    cost_records = [cost(D1, model="m1", cents="2.5", api_key_id="k1"), cost(D1, model="m1", api_key_id="k2")]
    if requests_reported is False:  # the classic reports have no request counts: SQL's SUM gives NULL
        usage_records = [r._replace(requests=None) for r in usage_records]
        cost_records = [r._replace(requests=None) for r in cost_records]
    elif requests_reported is None:  # the first of each pair summed into one workspace/model row: NULL
        usage_records = [r._replace(requests=None) if i in (0, 3) else r for i, r in enumerate(usage_records)]
        cost_records = [cost_records[0]._replace(requests=None), cost_records[1]]
    return usage_records, cost_records


@pytest.mark.parametrize(
    "requests_reported", [True, False, None], ids=["requests", "no requests", "some requests"]
)
def test_rollups_equal_the_rows_they_sum(
    engine: Engine, connection_id: int, requests_reported: bool | None
) -> None:
    """After a backfill, a revision (some rows changed, one vanished, one new) and an identical re-sync."""
    usage_records, cost_records = _records(100, requests_reported)
    _write(engine, connection_id, usage_records, cost_records)
    _assert_rollups_sum_the_rows(engine)

    revised, _ = _records(100, requests_reported)
    revised[0] = revised[0]._replace(output_tokens=1)  # changed
    del revised[2]  # vanished upstream
    revised.append(usage(D2, model="m3", tokens=7))  # new
    _write(engine, connection_id, revised, cost_records[:1])
    _assert_rollups_sum_the_rows(engine)

    _write(engine, connection_id, revised, cost_records[:1])  # unchanged rows are not rewritten
    _assert_rollups_sum_the_rows(engine)
    with engine.connect() as conn:
        by_model = conn.execute(select(func.count()).select_from(usage_rollups["model"])).scalar()
    assert by_model == 3  # D1 m1, D2 m2, D2 m3


def _rollup_writes(engine: Engine, write) -> list[str]:
    """The statements `write()` sends that delete from or insert into a rollup or its monthly twin."""
    rollup_names = {
        t.name for tables in (usage_rollups, cost_rollups, *MONTHLY_ROLLUPS.values()) for t in tables.values()
    }
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        words = statement.split()
        if words[:2] in (["DELETE", "FROM"], ["INSERT", "INTO"]) and words[2] in rollup_names:
            seen.append(f"{words[0]} {words[2]}")

    event.listen(engine, "before_cursor_execute", record)
    try:
        write()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_window_whose_rows_did_not_move_leaves_its_rollups_alone(
    engine: Engine, connection_id: int
) -> None:
    """Re-writing a window with the same rows (an hourly sync's lookback) writes no rollup, daily or
    monthly; one changed row rebuilds its kind's rollups, still equal to the rows they sum."""
    usage_records, cost_records = _records(100)
    _write(engine, connection_id, usage_records, cost_records)
    assert _rollup_writes(engine, lambda: _write(engine, connection_id, usage_records, cost_records)) == []
    _assert_rollups_sum_the_rows(engine)

    changed = [usage_records[0]._replace(output_tokens=1), *usage_records[1:]]
    writes = _rollup_writes(engine, lambda: _write(engine, connection_id, changed, cost_records))
    assert any(w.startswith("INSERT usage_by_") for w in writes)
    assert any(w.endswith("_monthly") for w in writes)
    assert not any("cost_by_" in w for w in writes)  # the cost rows did not move
    _assert_rollups_sum_the_rows(engine)
    _assert_months_sum_the_days(engine)


def test_spend_per_api_key_reads_its_own_rollup():
    """A query by API key reads the per-key rollup, not every stored row; model and workspace queries keep theirs."""
    from usageledger.store.rollups import table_for

    assert table_for("cost", ["day", "organization_id", "api_key_id"]).name == "cost_by_api_key"
    assert table_for("usage", ["day", "workspace_id", "api_key_id"]).name == "usage_by_api_key"
    assert table_for("cost", ["day", "model"]).name == "cost_by_model"
    assert table_for("cost", ["day", "workspace_id", "model"]).name == "cost_by_workspace"
    # Both rollups hold a workspace query; the workspace one has far fewer rows a day (declared first).
    assert table_for("cost", ["day", "organization_id", "workspace_id"]).name == "cost_by_workspace"
    assert table_for("cost", ["day", "api_key_id", "model"]).name == "cost_rows"


def test_each_rollup_is_summed_from_the_rows_or_from_a_grain_that_holds_it():
    """Grains no other grain contains are summed from the rows; the rest from the smallest that holds them."""
    from usageledger.store.rollups import _base_grains

    grains = {"a": ("x",), "ab": ("x", "y"), "abc": ("x", "y", "z"), "ad": ("x", "w")}
    assert _base_grains(grains) == {"a": "ad", "ab": "abc", "abc": "abc", "ad": "ad"}


def _assert_months_sum_the_days(engine: Engine) -> None:
    """Each monthly rollup equals its daily rollup summed per connection, month and dimensions."""
    from usageledger.store.tables import GRAIN_ROLLUPS

    with engine.connect() as conn:
        for kind, monthly_tables in MONTHLY_ROLLUPS.items():
            for name, monthly in monthly_tables.items():
                daily = GRAIN_ROLLUPS["daily"][kind][name]
                summed: dict[tuple, list] = {}
                for row in conn.execute(select(daily)).mappings():
                    key = (row["connection_id"], row["day"].replace(day=1),
                           *[row[c.name] for c in daily.primary_key.columns][2:])  # fmt: skip
                    values = [row[c.name] for c in daily.columns if not c.primary_key]
                    old = summed.get(key)
                    summed[key] = (
                        values
                        if old is None
                        else [
                            a if b is None else b if a is None else a + b
                            for a, b in zip(old, values, strict=True)
                        ]
                    )
                stored = {
                    tuple(row[: len(monthly.primary_key.columns)]): list(row[len(monthly.primary_key.columns) :])
                    for row in conn.execute(select(*monthly.primary_key.columns, *[
                        c for c in monthly.columns if not c.primary_key]))
                }  # fmt: skip
                assert stored == summed, monthly.name


def test_monthly_rollups_equal_the_daily_ones_summed(engine: Engine, connection_id: int) -> None:
    """Windows across a month's end, a revision of days in both months, and a day that vanished."""
    days = [dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 2, 2)]
    window = Window(days[0], days[-1] + dt.timedelta(days=1))

    def write(tokens: int, keep: int) -> None:
        with engine.begin() as conn:
            run = start_sync_run(conn, connection_id, "manual", window.start, window.end, window.days)
            writer = WindowWriter(conn, connection_id, run, window)
            writer.write_usage([usage(d, model=m, tokens=tokens + i) for i, d in enumerate(days[:keep])
                                for m in ("m1", "m2")])  # fmt: skip
            writer.write_cost([cost(d, model="m1", cents=f"{tokens}.5") for d in days[:keep]])
            writer.finish()

    write(100, keep=4)
    _assert_months_sum_the_days(engine)
    with engine.connect() as conn:
        months = conn.execute(select(func.count()).select_from(MONTHLY_ROLLUPS["usage"]["model"])).scalar()
    assert months == 4  # (January, February) x (m1, m2)
    write(7, keep=3)  # every day revised, 2 February gone
    _assert_months_sum_the_days(engine)


def test_the_migration_sums_the_days_stored_before_it_into_months(database_url: str, tmp_path) -> None:
    """A database with daily rollups from before revision 0016 gets monthly rollups that are their sums."""
    from sqlalchemy import text

    from usageledger.config import Settings
    from usageledger.store import create_engine_for, migrate

    engine = create_engine_for(Settings(home=tmp_path, database_url=database_url))
    try:
        migrate(engine, "0014")
        with engine.begin() as conn:  # the rows as an older version wrote them, by hand: no newer column
            conn.execute(text("INSERT INTO tenants (id, name, created_at) VALUES (1, 't', '2026-01-01')"))
            conn.execute(
                text(
                    "INSERT INTO connections (id, tenant_id, name, provider, state, base_url, created_at) "
                    "VALUES (1, 1, 'c', 'anthropic', 'connected', 'http://x', '2026-01-01')"
                )
            )
            for i, day in enumerate(("2026-01-30", "2026-01-31", "2026-02-01")):
                for model in ("m1", "m2"):
                    conn.execute(
                        text(
                            "INSERT INTO usage_by_model (connection_id, day, organization_id, model, "
                            "uncached_input_tokens, output_tokens, cache_read_input_tokens, "
                            "cache_creation_5m_input_tokens, cache_creation_1h_input_tokens, requests, "
                            "web_search_requests) VALUES (1, :day, 'org', :model, :n, 1, 2, 3, 4, :requests, 0)"
                        ),
                        {"day": day, "model": model, "n": 10 + i, "requests": None if i == 1 else i},
                    )
                conn.execute(
                    text(
                        "INSERT INTO cost_by_api_key (connection_id, day, organization_id, workspace_id, "
                        "api_key_id, amount_microcents, list_amount_microcents, requests) "
                        "VALUES (1, :day, 'org', 'w', 'k', :amount, :amount, NULL)"
                    ),
                    {"day": day, "amount": 1_000_000_007 * (i + 1)},
                )
        migrate(engine)
        _assert_months_sum_the_days(engine)
        with engine.connect() as conn:
            january = conn.execute(
                select(MONTHLY_ROLLUPS["cost"]["api_key"].c.amount_microcents).where(
                    MONTHLY_ROLLUPS["cost"]["api_key"].c.month == dt.date(2026, 1, 1)
                )
            ).scalar_one()
        assert january == 3_000_000_021
    finally:
        engine.dispose()
