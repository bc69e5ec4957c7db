"""Rollups summed while writing equal the stored rows summed by the database, through every change."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select
from store_db_fixtures import cost, usage

from usageledger.models import Window
from usageledger.store import WindowWriter, start_sync_run
from usageledger.store.tables import ROLLUP_GRAINS, cost_rollups, cost_rows, usage_rollups, usage_rows

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
