"""Budgets cross each threshold exactly once a month, on actual spend and on the forecast (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from tests.budgets.helpers import ORG, connect, spend
from usageledger.alerting import evaluate_after_sync
from usageledger.errors import UsageError
from usageledger.store.alerts import list_alerts
from usageledger.store.budgets import create_budget, delete_budget, update_budget
from usageledger.store.runs import list_events

NOV = dt.date(2026, 11, 1)


def _day(n: int, month: dt.date = NOV) -> dt.date:
    return month + dt.timedelta(days=n - 1)


def _evaluate(engine: Engine, tenant: int, as_of: dt.date) -> list[tuple[str | None, int | None]]:
    with engine.begin() as conn:
        return [(a.basis, a.threshold_pct) for a in evaluate_after_sync(conn, tenant, as_of)]


def test_each_threshold_alerts_once_on_the_day_it_is_crossed_and_again_next_month(engine: Engine) -> None:
    """$10 a day against $200: 50 % on the 10th, 80 % on the 16th, 100 % on the 20th, once each; December again."""
    tenant, cid = connect(engine)
    with engine.begin() as conn:
        create_budget(conn, tenant, subject_type="organization", subject_id=ORG, amount="200", actor="test")
    raised: dict[dt.date, list[tuple[str | None, int | None]]] = {}
    for n in range(1, 31):
        spend(engine, cid, _day(n), "10")
        raised[_day(n)] = _evaluate(engine, tenant, _day(n))
        assert _evaluate(engine, tenant, _day(n)) == []  # the next sync of the same day raises nothing
    actual = {day: [pct for basis, pct in found if basis == "actual"] for day, found in raised.items()}
    assert {day: pcts for day, pcts in actual.items() if pcts} == {
        _day(10): [50],
        _day(16): [80],
        _day(20): [100],
    }
    # The forecast warned first: on the 8th (7 complete days of history) it saw all three coming.
    forecast = {
        day: sorted(pct for basis, pct in found if basis == "forecast") for day, found in raised.items()
    }
    assert {day: pcts for day, pcts in forecast.items() if pcts} == {_day(8): [50, 80, 100]}
    with engine.connect() as conn:
        history = list_alerts(conn, tenant)
        assert len(history) == 6 and len({a.crossing_key for a in history}) == 6
        # The forecast warnings were resolved once actual spend crossed; the crossings themselves stay open.
        assert {(a.basis, a.state) for a in history} == {("forecast", "resolved"), ("actual", "open")}
        assert len(list_events(conn, tenant_id=tenant, kind="alert", limit=50)) == 6
    dec = dt.date(2026, 12, 1)
    december = []
    for n in range(1, 21):
        spend(engine, cid, _day(n, dec), "10")
        december += [pct for basis, pct in _evaluate(engine, tenant, _day(n, dec)) if basis == "actual"]
    assert december == [50, 80, 100]
    with engine.connect() as conn:
        november_open = [a for a in list_alerts(conn, tenant, state="open") if a.month == NOV]
    assert november_open == []  # a month that ended resolves its alerts


def test_a_changed_amount_is_a_new_level_and_a_deleted_budget_resolves_its_alerts(engine: Engine) -> None:
    """Raising the budget resolves the crossings it undoes; crossing the new amount alerts again."""
    tenant, cid = connect(engine)
    for n in range(1, 6):
        spend(engine, cid, _day(n), "30")  # $150 by the 5th
    with engine.begin() as conn:
        budget = create_budget(
            conn, tenant, subject_type="organization", subject_id=ORG, amount="100", actor="test"
        )
    assert sorted(p for b, p in _evaluate(engine, tenant, _day(5)) if b == "actual") == [50, 80, 100]
    with engine.begin() as conn:
        update_budget(conn, tenant, budget.id, amount="1000", actor="test")
    assert _evaluate(engine, tenant, _day(5)) == []
    with engine.connect() as conn:
        assert list_alerts(conn, tenant, state="open") == []
    with engine.begin() as conn:
        delete_budget(conn, tenant, budget.id, actor="test")
        kinds = [
            e.details["action"] for e in list_events(conn, tenant_id=tenant, kind="budget_changed", limit=10)
        ]
    assert sorted(kinds) == ["changed", "created", "deleted"]


def test_a_workspace_budget_counts_only_its_workspace_and_a_model_budget_only_its_model(
    engine: Engine,
) -> None:
    """Spend elsewhere in the organization does not move a workspace's or a model's budget."""
    tenant, cid = connect(engine)
    spend(engine, cid, _day(3), "60", workspace="wrk_big", model="claude-big")
    with engine.begin() as conn:
        create_budget(conn, tenant, subject_type="workspace", subject_id="wrk_a", amount="100", actor="test")
        create_budget(conn, tenant, subject_type="model", subject_id="claude-big", amount="100", actor="test")
    found = _evaluate(engine, tenant, _day(3))
    assert found == [("actual", 50)]
    with engine.connect() as conn:
        assert list_alerts(conn, tenant)[0].subject_id == "claude-big"


def test_a_team_budget_counts_the_spend_its_owned_keys_carry(engine: Engine) -> None:
    """An API key owned by a team: the team's budget sees that key's spend day by day, an application's
    likewise; a team that does not exist is refused, never a budget that silently counts nothing."""
    from tests.allocation.identity_helpers import add_team
    from usageledger.reports.budgets import read_budget_statuses
    from usageledger.store.accounts import create_user
    from usageledger.store.ownership import Editor, create_application, set_owner

    tenant, cid = connect(engine, source="classic")  # spend by key comes from the daily grain
    for n in range(1, 11):
        spend(engine, cid, _day(n), "12")
    with engine.begin() as conn:
        editor = Editor(
            create_user(conn, tenant, "fin@example.com", "correct horse battery", "admin"), "fin@example.com"
        )
        team = add_team(conn, tenant, "Platform")
        set_owner(conn, tenant, "api_key", "apikey_a", team_id=team, editor=editor)
        app = create_application(
            conn, tenant, "Support bot", resources=[("api_key", "apikey_a")], editor=editor
        )
        create_budget(conn, tenant, subject_type="team", subject_id=str(team), amount="200", actor="test")
        create_budget(
            conn, tenant, subject_type="application", subject_id=str(app.id), amount="100", actor="test"
        )
        with pytest.raises(UsageError, match="no team '999'"):
            create_budget(conn, tenant, subject_type="team", subject_id="999", amount="100", actor="test")
    with engine.connect() as conn:
        statuses = {s.label: s for s in read_budget_statuses(conn, tenant, _day(10))}
    assert statuses["Team Platform"].actual == 120 and statuses["Application Support bot"].actual == 120
    assert statuses["Team Platform"].forecast.low == 12 * 30  # $12 a day, every day the same
    found = _evaluate(engine, tenant, _day(10))
    assert sorted(found) == [("actual", 50), ("actual", 50), ("actual", 80), ("actual", 100), ("forecast", 80),
                             ("forecast", 100)]  # fmt: skip


def test_anthropics_monthly_limit_is_set_against_spend_and_its_forecast(engine: Engine) -> None:
    """$10 a day against Anthropic's $200 organization limit: on the 8th the forecast reaches it by the 20th."""
    from usageledger.models import SpendLimit
    from usageledger.reports.budgets import read_limit_statuses
    from usageledger.store.spend_limits import replace_spend_limits

    tenant, cid = connect(engine)
    for n in range(1, 9):
        spend(engine, cid, _day(n), "10")
    limits = [SpendLimit("spl_org", "organization", "", 20000, "USD", "monthly", True),
              SpendLimit("spl_daily", "organization", "", 500, "USD", "daily", True)]  # fmt: skip
    with engine.begin() as conn:
        replace_spend_limits(conn, cid, limits, read_at=dt.datetime.now(dt.UTC))
        found = {s.stored.limit.id: s for s in read_limit_statuses(conn, tenant, _day(8))}
    monthly = found["spl_org"]
    assert monthly.forecast is not None and monthly.forecast.spent == 80
    assert monthly.reached is not None and monthly.reached.forecast and monthly.reached.by_day == _day(20)
    assert found["spl_daily"].reached is None  # a daily cap is not set against the month
    # …and alerts once: the forecast's warnings now, then 80 % on actual spend on the 16th
    with engine.begin() as conn:
        first = [(a.kind, a.basis, a.threshold_pct) for a in evaluate_after_sync(conn, tenant, _day(8))]
        assert evaluate_after_sync(conn, tenant, _day(8)) == []
    assert sorted(first) == [("spend_limit", "forecast", 80), ("spend_limit", "forecast", 100)]
    for n in range(9, 17):
        spend(engine, cid, _day(n), "10")
    with engine.begin() as conn:
        replace_spend_limits(
            conn, cid, limits, read_at=dt.datetime.now(dt.UTC)
        )  # the next sync reads them again
        later = [(a.kind, a.basis, a.threshold_pct) for a in evaluate_after_sync(conn, tenant, _day(16))]
        assert later == [("spend_limit", "actual", 80)]
        assert "Anthropic stops the requests" in list_alerts(conn, tenant, kind="spend_limit")[0].message
