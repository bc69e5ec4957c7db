"""The hourly grain's rows: made equal to each sync's hours (only what moved is written), summed by hour
exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from usageledger.models import CostRecord, HourlyDimensions, UsageRecord
from usageledger.reports.today_by_hour import today_by_hour, today_by_hour_json
from usageledger.store import RepeatedRowError, ensure_default_tenant, purge_usage, update_connection
from usageledger.store.hourly import hourly_totals, replace_hours
from usageledger.store.tables import hourly_cost_rows, hourly_usage_rows

NOW = dt.datetime(2026, 11, 26, 14, 37, tzinfo=dt.UTC)
MIDNIGHT = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def _hour(offset: int) -> dt.datetime:
    return MIDNIGHT + dt.timedelta(hours=offset)


def _usage(offset: int, model: str = "claude-a", tokens: int = 10, org: str = "org-demo") -> UsageRecord:
    dims = HourlyDimensions(org, "wrk_a", model)
    return UsageRecord(_hour(offset), dims, tokens, 2 * tokens, 3 * tokens, 0, 0, 1, 0)


def _cost(offset: int, cents: str, model: str = "claude-a") -> CostRecord:
    """An hour's cost of one model, whole: the hourly grain does not break cost out by type."""
    dims = HourlyDimensions("org-demo", "wrk_a", model)
    return CostRecord(_hour(offset), dims, Decimal(cents), Decimal(cents), "USD", 3, ())


def _count(conn, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_hours_are_replaced_and_summed_exactly(engine, connection_id):
    with engine.begin() as conn:
        stored = replace_hours(
            conn,
            connection_id,
            1,
            [_usage(-10), _usage(1), _usage(1, "claude-b", 5), _usage(14)],
            [
                _cost(1, "0.000001"),
                _cost(1, "12.345678", model="claude-b"),
                _cost(14, "100"),
            ],
        )
    assert stored == (4, 3)
    with engine.connect() as conn:
        rows = hourly_totals(conn, [connection_id], MIDNIGHT, MIDNIGHT + dt.timedelta(days=1))
    assert [(r.hour, r.amount_microcents, r.tokens) for r in rows] == [
        (_hour(1), 12_345_679, 90),  # 0.000001 + 12.345678 cents, exactly; (10 + 20 + 30) + (5 + 10 + 15)
        (_hour(14), 100_000_000, 60),
    ]
    assert rows[0].hour.tzinfo is not None  # aware UTC back from both databases

    # The next sync's hours replace every stored one: an hour no longer listed is gone.
    with engine.begin() as conn:
        replace_hours(conn, connection_id, 2, [_usage(2, tokens=1)], [])
        assert _count(conn, hourly_usage_rows) == 1
        assert _count(conn, hourly_cost_rows) == 0


def _runs(conn, table) -> dict[tuple, int]:
    """Each stored row's (hour, model) → the sync run that last wrote it."""
    c = table.c
    return {
        (r[0].replace(tzinfo=dt.UTC) if r[0].tzinfo is None else r[0], *r[1:-1]): r[-1]
        for r in conn.execute(select(c.hour, c.model, c.sync_run_id))
    }


def test_only_the_hours_that_moved_are_written(engine, connection_id):
    """A second sync's hours: unchanged rows keep the run that wrote them, a changed or new one is written
    by the new run, one no longer listed is gone, and the stored rows equal the second sync's exactly."""
    first_usage = [_usage(1), _usage(2), _usage(3), _usage(3, "claude-b")]
    first_cost = [_cost(1, "1"), _cost(2, "2"), _cost(3, "3")]
    with engine.begin() as conn:
        replace_hours(conn, connection_id, 1, first_usage, first_cost)
    # Hour 1 left the range, hour 2 is as it was, hour 3 moved (one model more tokens, the other gone from
    # usage; its cost changed), hour 4 is new.
    second_usage = [_usage(2), _usage(3, tokens=11), _usage(4)]
    second_cost = [_cost(2, "2"), _cost(3, "3.5"), _cost(4, "4")]
    with engine.begin() as conn:
        assert replace_hours(conn, connection_id, 2, second_usage, second_cost) == (3, 3)
    with engine.connect() as conn:
        usage_runs, cost_runs = _runs(conn, hourly_usage_rows), _runs(conn, hourly_cost_rows)
        totals = hourly_totals(conn, [connection_id], _hour(0), _hour(24))
    assert usage_runs == {(_hour(2), "claude-a"): 1, (_hour(3), "claude-a"): 2, (_hour(4), "claude-a"): 2}
    assert cost_runs == {(_hour(2), "claude-a"): 1, (_hour(3), "claude-a"): 2, (_hour(4), "claude-a"): 2}
    assert [(r.hour, r.amount_microcents, r.tokens) for r in totals] == [
        (_hour(2), 2_000_000, 60),
        (_hour(3), 3_500_000, 66),
        (_hour(4), 4_000_000, 60),
    ]


def test_a_repeated_hourly_row_fails_and_keeps_the_old_rows(engine, connection_id):
    with engine.begin() as conn:
        replace_hours(conn, connection_id, 1, [_usage(3)], [_cost(3, "1")])
    with pytest.raises(RepeatedRowError), engine.begin() as conn:
        replace_hours(conn, connection_id, 2, [_usage(4), _usage(4)], [])
    with (
        pytest.raises(RepeatedRowError),
        engine.begin() as conn,
    ):  # in the cost rows: usage not written either
        replace_hours(conn, connection_id, 2, [_usage(5)], [_cost(5, "1"), _cost(5, "2")])
    with engine.connect() as conn:
        assert [r.hour for r in hourly_totals(conn, [connection_id], _hour(0), _hour(24))] == [_hour(3)]


def test_purge_deletes_the_hours_too(engine, connection_id):
    with engine.begin() as conn:
        replace_hours(conn, connection_id, 1, [_usage(3)], [_cost(3, "1")])
        purge_usage(conn, connection_id)
        assert _count(conn, hourly_usage_rows) == _count(conn, hourly_cost_rows) == 0


def test_today_by_hour_lists_midnight_to_now_beside_yesterday(engine, connection_id):
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        replace_hours(
            conn,
            connection_id,
            1,
            [_usage(5), _usage(5, org="org-other")],
            [_cost(-24 + 5, "250"), _cost(5, "1000"), _cost(16, "7")],  # 16:00 is after now: not listed
        )
        update_connection(conn, connection_id, last_sync_succeeded_at=NOW - dt.timedelta(minutes=7))
    with engine.connect() as conn:
        today = today_by_hour(conn, tenant, NOW, organization="org-demo")
        nobody = today_by_hour(conn, tenant, NOW, organization="org-nobody")
    assert [h.hour for h in today.hours] == [_hour(i) for i in range(15)]  # 00:00 … 14:00
    assert today.hours[5].amount == Decimal("10.00") and today.hours[5].tokens == 60
    assert today.hours[5].previous == Decimal("2.50")
    assert today.total == Decimal("10.00")
    assert today.synced_at == NOW - dt.timedelta(minutes=7)
    body = today_by_hour_json(today)
    assert body["total_usd"] == "10.00000000"
    assert body["hours"][5] == {
        "hour": "2026-11-26T05:00:00Z",
        "cost_usd": "10.00000000",
        "tokens": 60,
        "yesterday_cost_usd": "2.50000000",
    }
    assert not nobody.has_data and nobody.total == 0 and nobody.hours[5].previous is None
