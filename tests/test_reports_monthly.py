"""Months read from the monthly rollups answer exactly as the days they sum: same rows, same totals.

The reference answer of each query is the same query at a grain only the stored rows hold (by date, model
and API key), added up per group here; the query itself reads whole months from a monthly rollup and the
days of a month it cuts through from a daily one (`reports.usage._parts`).
"""

# ruff: noqa: F811  (the database fixtures are imported from tests/store and used as arguments)

from __future__ import annotations

import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent / "store"))

from store_db_fixtures import connection_id, cost, engine, pg_database_url, usage  # noqa: E402, F401

from usageledger.models import Window  # noqa: E402
from usageledger.reports.usage import UsageQuery, _parts, query_cost, query_usage  # noqa: E402
from usageledger.store import WindowWriter, start_sync_run  # noqa: E402
from usageledger.store.rollups import MONTHLY_ROLLUPS  # noqa: E402

FIRST, LAST = dt.date(2026, 1, 20), dt.date(2026, 4, 10)  # stored days: parts of January and April
MODELS = ("claude-a", "claude-b", None)
KEYS = ("apikey_a", "apikey_b", "apikey_c")
_SUM_METRICS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "requests",
    "amount_usd",
    "list_amount_usd",
)


def _records(day: dt.date) -> tuple[list[Any], list[Any]]:
    """A few groups a day whose numbers differ by day; some groups only on some days, some without requests."""
    n = day.toordinal()
    usage_records, cost_records = [], []
    for i, (model, key) in enumerate((m, k) for m in MODELS for k in KEYS):
        if (n + i) % 4 == 0:  # this group has nothing this day
            continue
        record = usage(day, model=model, tokens=(n * 7 + i * 13) % 997 + 1, api_key_id=key,
                       workspace_id=f"wrk_{i % 2}")  # fmt: skip
        if (n + i) % 5 == 0:  # the classic source reports no requests
            record = record._replace(requests=None)
        usage_records.append(record)
        if (n + i) % 3:
            cost_records.append(cost(day, model=model, cents=f"{(n + i) % 89}.{i}00001", api_key_id=key,
                                     workspace_id=f"wrk_{i % 2}"))  # fmt: skip
    return usage_records, cost_records


@pytest.fixture
def months(engine: Engine, connection_id: int) -> int:
    """Twelve weeks of rows written in windows of up to 31 days that do not line up with the months."""
    start = FIRST
    while start <= LAST:
        window = Window(start, min(start + dt.timedelta(days=31), LAST + dt.timedelta(days=1)))
        with engine.begin() as conn:
            run = start_sync_run(conn, connection_id, "manual", window.start, window.end, window.days)
            writer = WindowWriter(conn, connection_id, run, window)
            for i in range(window.days):
                usage_records, cost_records = _records(window.start + dt.timedelta(days=i))
                writer.write_usage(usage_records)
                writer.write_cost(cost_records)
            writer.finish()
        start = window.end
    return connection_id


def _from_rows(engine: Engine, q: UsageQuery, kind: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The reference: the query by date, model and API key (only the rows hold that), summed per group here."""
    fine = ("date", "model", "api_key", *(g for g in q.group_by if g not in ("model", "api_key")))
    with engine.connect() as conn:
        query = UsageQuery(tenant_id=q.tenant_id, connection_id=q.connection_id, since=q.since,
                           until=q.until, group_by=fine, filters=q.filters, with_cost=q.with_cost)  # fmt: skip
        assert {p.table.name for p in _parts(conn, kind, query)} == {f"{kind}_rows"}
        report = query_usage(conn, query) if kind == "usage" else query_cost(conn, query)
    out: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(dict)
    for row in report.rows:
        key = tuple(
            row.date.strftime("%Y-%m") if g == "month" and row.date else getattr(row, _column(g))
            for g in q.group_by
        )
        sums = out[key]
        for metric in (m for m in _SUM_METRICS if hasattr(row, m)):
            value = getattr(row, metric)
            if value is not None:
                sums[metric] = (sums.get(metric) or 0) + value  # SQL's SUM: NULLs are skipped
            elif metric not in sums:
                sums[metric] = None
    return dict(out)


def _column(group: str) -> str:
    return {"organization": "organization_id", "workspace": "workspace_id", "api_key": "api_key_id"}.get(
        group, group
    )


def _answered(engine: Engine, q: UsageQuery, kind: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    with engine.connect() as conn:
        report = query_usage(conn, q) if kind == "usage" else query_cost(conn, q)
    return {
        tuple(getattr(row, _column(g)) for g in q.group_by): {
            m: getattr(row, m, None) for m in _SUM_METRICS if hasattr(row, m)
        }
        for row in report.rows
    }


RANGES = {
    "every stored day": (None, None),
    "whole months": (dt.date(2026, 2, 1), dt.date(2026, 3, 31)),
    "cut through two months": (dt.date(2026, 1, 25), dt.date(2026, 3, 15)),
    "inside one month": (dt.date(2026, 2, 10), dt.date(2026, 2, 20)),
    "to past the last stored day": (dt.date(2026, 2, 14), dt.date(2026, 4, 20)),
    "from before the first stored day": (dt.date(2026, 1, 5), dt.date(2026, 2, 27)),
    "open start": (None, dt.date(2026, 3, 9)),
    "open end": (dt.date(2026, 3, 3), None),
    "the last stored day alone": (LAST, LAST),
}
GROUPS = [("model",), ("workspace",), ("api_key",), ("organization",), ("month", "workspace"), ()]


@pytest.mark.parametrize("group_by", GROUPS, ids=lambda g: ",".join(g) or "totals")
def test_months_from_the_monthly_rollups_equal_the_rows(
    engine: Engine, months: int, group_by: tuple[str, ...]
) -> None:
    """Usage with cost, cost alone and a filtered usage per group, over ranges that cut months or do not:
    identical to the stored rows summed, to the micro-cent."""
    for label, (since, until) in RANGES.items():
        for kind, q in (
            ("usage", UsageQuery(tenant_id=1, since=since, until=until, group_by=group_by, with_cost=True)),
            ("cost", UsageQuery(tenant_id=1, since=since, until=until, group_by=group_by)),
            (
                "usage",
                UsageQuery(
                    connection_id=months,
                    tenant_id=1,
                    since=since,
                    until=until,
                    group_by=group_by,
                    filters={"model": ["claude-a", ""]},
                ),
            ),  # fmt: skip
        ):
            expected = _from_rows(engine, q, kind)
            assert expected, f"{label}: the reference is empty, the test would prove nothing"
            answered = _answered(engine, q, kind)
            assert answered.keys() == expected.keys(), label
            for key, sums in answered.items():
                assert {m: v for m, v in sums.items() if m in expected[key]} == expected[key], (label, key)


def test_whole_months_are_read_from_the_monthly_rollup(engine: Engine, months: int) -> None:
    """Year to date reads months; a month cut where days are stored reads those days; by date reads days."""
    monthly = MONTHLY_ROLLUPS["cost"]["model"].name
    with engine.connect() as conn:

        def tables(since: dt.date | None, until: dt.date | None, *group_by: str) -> list[str]:
            q = UsageQuery(tenant_id=1, since=since, until=until, group_by=group_by or ("model",))
            return sorted(p.table.name for p in _parts(conn, "cost", q))

        assert tables(dt.date(2026, 1, 1), dt.date(2026, 4, 30)) == [monthly]
        # No day after 10 April is stored, so April up to the 12th is April whole.
        assert tables(dt.date(2026, 2, 1), dt.date(2026, 4, 12)) == [monthly]
        assert tables(dt.date(2026, 2, 1), dt.date(2026, 3, 12)) == ["cost_by_model", monthly]
        assert tables(dt.date(2026, 1, 25), dt.date(2026, 3, 31)) == ["cost_by_model", monthly]
        assert tables(dt.date(2026, 2, 3), dt.date(2026, 2, 5)) == ["cost_by_model"]
        assert tables(None, None, "date") == ["cost_by_model"]
