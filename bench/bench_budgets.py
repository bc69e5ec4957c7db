"""Benchmark (not a test): how long the alert evaluation after a sync and the budgets page's read model take.

Fills a SQLite database with one fake organization's last `--days` days (usage and cost through the store's
window writer, as a sync would; the connection reads spend by key from the daily grain, `classic`), sets
budgets on the organization, 3 workspaces, 3 API keys and 3 models (read from the daily grain) and on 3 teams
and 2 applications (read through the allocation's attribution, one day at a time), then times:

- `evaluate_after_sync` the first time (it raises the alerts) and again (nothing new: the steady state),
- `read_budgets` (the budgets page and the overview card's read model),

median of `--repeat` runs after one warm-up, grain budgets alone and with the attributed ones.
Usage: python bench/bench_budgets.py [--rows-per-day 600] [--days 60] [--repeat 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fake_store import store_fake_organization  # bench/'s shared set-up (bench/ is on sys.path)
from sqlalchemy import Engine, func, select

from usageledger import store
from usageledger.alerting import evaluate_after_sync
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.reports.budgets import read_budgets
from usageledger.store.accounts import create_user
from usageledger.store.budgets import create_budget
from usageledger.store.ownership import Editor, create_application, set_owner
from usageledger.store.tables import cost_rows, teams

TODAY = dt.datetime.now(dt.UTC).date()


def _fill(engine: Engine, fake: FakeOrganization, days: int) -> tuple[int, int]:
    with engine.begin() as conn:
        tenant_id = store.ensure_default_tenant(conn)
    start, end = TODAY - dt.timedelta(days=days - 1), TODAY + dt.timedelta(days=1)
    return tenant_id, store_fake_organization(engine, tenant_id, fake, start, end, source="classic")


def _top(engine: Engine, column: str, n: int) -> list[str]:
    c = cost_rows.c[column]
    query = (
        select(c).where(c != "").group_by(c).order_by(func.sum(cost_rows.c.amount_microcents).desc()).limit(n)
    )
    with engine.connect() as conn:
        return [str(v) for (v,) in conn.execute(query)]


def _budgets(engine: Engine, tenant_id: int, fake: FakeOrganization, attributed: bool) -> int:
    made = 0
    with engine.begin() as conn:
        editor = Editor(
            create_user(conn, tenant_id, f"bench{attributed}@example.com", "bench-password-123", "admin"),
            "bench",
        )
        grain = [("organization", fake.organization.id)]
        grain += [("workspace", w) for w in _top(engine, "workspace_id", 3)]
        grain += [("api_key", k) for k in _top(engine, "api_key_id", 3)]
        grain += [("model", m) for m in _top(engine, "model", 3)]
        wanted = grain
        if attributed:
            keys = _top(engine, "api_key_id", 6)
            team_ids = []
            for i in range(3):
                result = conn.execute(teams.insert().values(tenant_id=tenant_id, display_name=f"Team {i}", source="manual",
                                                            created_at=dt.datetime.now(dt.UTC), updated_at=dt.datetime.now(dt.UTC)))  # fmt: skip
                assert result.inserted_primary_key is not None
                team_ids.append(int(result.inserted_primary_key[0]))
            for key, team in zip(keys, team_ids * 2, strict=False):
                set_owner(conn, tenant_id, "api_key", key, team_id=team, editor=editor)
            apps = [create_application(conn, tenant_id, f"App {i}", resources=[("api_key", keys[i])], editor=editor)
                    for i in range(2)]  # fmt: skip
            wanted = grain + [("team", str(t)) for t in team_ids] + [("application", str(a.id)) for a in apps]
        for subject_type, subject_id in wanted:
            create_budget(
                conn,
                tenant_id,
                subject_type=subject_type,
                subject_id=subject_id,
                amount="100000",
                actor="bench",
            )
            made += 1
    return made


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _run(rows_per_day: int, days: int, repeat: int, attributed: bool) -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        engine = store.create_engine_for(settings)
        store.migrate(engine)
        fake = FakeOrganization(seed=3, rows_per_day=rows_per_day, today=TODAY, name="Bench org")
        started = time.perf_counter()
        tenant_id, _ = _fill(engine, fake, days)
        fill = time.perf_counter() - started
        count = _budgets(engine, tenant_id, fake, attributed)
        with engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(cost_rows)).scalar_one()
        started = time.perf_counter()
        with engine.begin() as conn:
            raised = len(evaluate_after_sync(conn, tenant_id, TODAY))
        first = (time.perf_counter() - started) * 1000

        def again() -> None:
            with engine.begin() as conn:
                assert evaluate_after_sync(conn, tenant_id, TODAY) == []

        def page() -> None:
            with engine.connect() as conn:
                read_budgets(conn, tenant_id, TODAY)

        steady, view = _median_ms(again, repeat), _median_ms(page, repeat)
        kind = "grain + attributed" if attributed else "grain only"
        print(
            f"{kind:>18}: {count} budgets, {rows:,} cost rows ({days} days, filled in {fill:.1f} s) | "
            f"first evaluation {first:.0f} ms ({raised} alerts) | evaluation, nothing new {steady:.0f} ms | "
            f"read_budgets {view:.0f} ms"
        )
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-day", type=int, default=600)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"SQLite, today {TODAY}, median of {args.repeat} after one warm-up")
    for attributed in (False, True):
        _run(args.rows_per_day, args.days, args.repeat, attributed)


if __name__ == "__main__":
    main()
