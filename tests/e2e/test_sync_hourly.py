"""The hourly grain (UTC hour × workspace × model for the recent days), synced after the daily windows.

The real CLI against the fake on loopback, on SQLite and PostgreSQL: what is stored equals the fake's
ground truth exactly, it adds up to the daily grain, `usageledger today` shows it, and a refused hourly
fetch never fails the sync.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from sqlalchemy import Engine, create_engine, func, select

from usageledger.anthropic import hourly
from usageledger.models import HOURLY
from usageledger.store.tables import events, hourly_cost_rows, hourly_usage_rows, sync_runs
from usageledger.sync.hourly import hourly_range

_MICROCENT = Decimal("0.000001")


@pytest.fixture
def db(cli_env) -> Iterator[Engine]:
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _span(fake) -> tuple[dt.datetime, dt.datetime]:
    return hourly_range(fake.today, dt.datetime.now(dt.UTC), lookback_days=3)


def _stored(db: Engine) -> tuple[dict, dict]:
    dims = HOURLY.dimensions
    with db.connect() as conn:
        usage = {
            (_aware(r.hour), *(r[d] for d in dims)): tuple(r[m] for m in HOURLY.usage_metrics)
            for r in conn.execute(select(hourly_usage_rows)).mappings()
        }
        cost: dict[tuple, int] = {}
        for r in conn.execute(select(hourly_cost_rows)).mappings():
            key = (_aware(r.hour), *(r[d] for d in dims))
            cost[key] = cost.get(key, 0) + r["amount_microcents"]
    return usage, cost


def _truth(fake, start: dt.datetime, end: dt.datetime) -> tuple[dict, dict]:
    usage = {(r.day, *(v or "" for v in r.dims)): tuple(r[2:]) for r in fake.truth_hourly_usage(start, end)}
    cost: dict[tuple, int] = {}
    for r in fake.truth_hourly_cost(start, end):
        key = (r.day, *(v or "" for v in r.dims))
        # An hour's cost of a workspace and model is one amount on the wire, stored as exact micro-cents.
        part = r.amount_cents.quantize(_MICROCENT, rounding=ROUND_HALF_EVEN).scaleb(6)
        cost[key] = cost.get(key, 0) + int(part)
    return usage, {k: v for k, v in cost.items()}


def test_the_stored_hours_equal_the_truth_and_the_daily_grain(cli, fake, connected, db):
    start, end = _span(fake)
    stored_usage, stored_cost = _stored(db)
    truth_usage, truth_cost = _truth(fake, start, end)
    assert stored_usage and stored_usage == truth_usage
    assert stored_cost == truth_cost
    hours = {key[0] for key in stored_usage}
    assert min(hours) >= start and max(hours) < end  # the lookback's midnight to the current hour
    # The whole days add up to the daily grain (the sync checks it): no mismatch, no skipped hours.
    kinds = [e["kind"] for e in cli("events", "--json").json()]
    assert "mismatch" not in kinds and "hourly_skipped" not in kinds


def test_a_second_sync_replaces_the_hours_and_today_shows_them(cli, fake, connected, db):
    before = _stored(db)
    assert cli("sync").exit_code == 0
    assert _stored(db) == before  # replaced, not added to
    # Only the hours that moved were written again (here: none, or the current hour): the rest keep the run
    # that wrote them.
    with db.connect() as conn:
        second_run = conn.execute(select(func.max(sync_runs.c.id))).scalar_one()
        for table in (hourly_usage_rows, hourly_cost_rows):
            runs = [r.sync_run_id for r in conn.execute(select(table.c.sync_run_id))]
            assert runs and sum(run == second_run for run in runs) < len(runs) / 4, table.name
    result = cli("today", "--format", "json")
    assert result.exit_code == 0, result.err
    shown = result.json()
    now = dt.datetime.now(dt.UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert [h["hour"] for h in shown][0] == midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
    today_cost = sum(v for k, v in before[1].items() if k[0] >= midnight)
    assert sum(Decimal(h["cost_usd"]) for h in shown) == Decimal(today_cost).scaleb(-8)
    table = cli("today")
    assert table.exit_code == 0 and "Today so far: $" in table.out


def test_the_hours_are_fetched_while_the_last_window_is_still_being_written(
    cli, fake, connected, db, monkeypatch
):
    """Once every window's pages are fetched, the hours' calls go out while the writer still stores the
    last window, instead of after it. The writer here waits in the window's finish until they went out:
    had they waited for the windows to be written, it would wait in vain."""
    from usageledger import store
    from usageledger.sync import hourly as sync_hourly

    said: list[str] = []
    called = threading.Event()
    real_fetch, real_finish = sync_hourly._fetch, store.WindowWriter.finish

    def fetch(*args):
        said.append("hours called")
        called.set()
        return real_fetch(*args)

    def finish(self):
        said.append("window waits" if called.wait(timeout=10) else "window waited in vain")
        return real_finish(self)

    monkeypatch.setattr(sync_hourly, "_fetch", fetch)
    monkeypatch.setattr(store.WindowWriter, "finish", finish)
    result = cli("sync")
    assert result.exit_code == 0, result.err
    assert said[0] == "hours called" and "window waited in vain" not in said
    assert _stored(db) == _truth(fake, *_span(fake))


def test_a_refused_hourly_fetch_does_not_fail_the_sync(cli, fake, connected, db, monkeypatch):
    """An API that refuses the hourly request (here: minute buckets over four days, a 400): the daily
    windows commit, the sync succeeds, the old hours stay and an event says why."""
    before = _stored(db)
    real = hourly.HourlySource._params

    def refused(self, *args, **kwargs):
        return {**real(self, *args, **kwargs), "time_bucket_width": "1m"}

    monkeypatch.setattr(hourly.HourlySource, "_params", refused)
    result = cli("sync")
    assert result.exit_code == 0, result.err
    assert _stored(db) == before
    with db.connect() as conn:
        skipped = conn.execute(
            select(events.c.level, events.c.message).where(events.c.kind == "hourly_skipped")
        ).all()
    assert len(skipped) == 1 and skipped[0].level == "warning"
    assert "not refreshed" in skipped[0].message and "daily data of this sync is stored" in skipped[0].message


def test_hours_that_do_not_add_up_to_their_day_are_a_mismatch(fake, connected, db):
    """The check the sync runs after storing the hours: a day whose hours differ from the daily grain is
    named in a `mismatch` warning; days that agree are not."""
    from usageledger import store
    from usageledger.sync.hourly import _check_days

    start, _ = _span(fake)
    day_end = start + dt.timedelta(days=1)
    usage = fake.truth_hourly_usage(start, day_end)
    cost = fake.truth_hourly_cost(start, day_end)
    with db.begin() as conn:
        connection = store.get_connection(conn, connected)
        _check_days(conn, connection, start.date(), day_end.date(), usage, cost)  # agrees: nothing said
        first = usage[0]
        tampered = [first._replace(output_tokens=first.output_tokens + 1), *usage[1:]]
        _check_days(conn, connection, start.date(), day_end.date(), tampered, cost)
    with db.connect() as conn:
        said = conn.execute(
            select(events.c.message, events.c.details).where(events.c.kind == "mismatch")
        ).all()
    assert len(said) == 1
    assert "hourly data does not add up" in said[0].message and start.date().isoformat() in said[0].message
    assert '"grain": "hourly"' in said[0].details
