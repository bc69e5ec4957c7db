"""New alerts reach the sink once, after their transaction commits; a failing sink loses no alert; the sync's
hooks (the CLI's `sync`, the web app's background syncs) evaluate budgets after every sync."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, create_engine

from tests.budgets.helpers import ORG, connect, spend
from usageledger.alerting import RecordingSink, evaluate_and_deliver
from usageledger.store.alerts import AlertRow, list_alerts
from usageledger.store.budgets import create_budget

DAY = dt.date(2026, 11, 5)


class _FailingSink:
    def __init__(self) -> None:
        self.tried: list[int] = []

    def deliver(self, alert: AlertRow) -> None:
        self.tried.append(alert.id)
        raise RuntimeError("the notifier is down")


def test_the_sink_gets_each_new_alert_once_and_a_failing_one_loses_nothing(engine: Engine) -> None:
    """Two evaluations hand over the crossings once; a sink that raises is tried for each, the alerts stay."""
    tenant, cid = connect(engine)
    spend(engine, cid, DAY, "90")
    with engine.begin() as conn:
        create_budget(conn, tenant, subject_type="organization", subject_id=ORG, amount="100", actor="test")
    sink = RecordingSink()
    evaluate_and_deliver(engine, tenant, DAY, sink)
    evaluate_and_deliver(engine, tenant, DAY, sink)
    assert sorted(a.threshold_pct for a in sink.delivered) == [50, 80]
    spend(engine, cid, DAY, "120")  # the day re-synced higher: 100 % crossed now
    failing = _FailingSink()
    raised = evaluate_and_deliver(engine, tenant, DAY, failing)
    assert [a.threshold_pct for a in raised] == [100] and failing.tried == [raised[0].id]
    with engine.connect() as conn:
        assert len(list_alerts(conn, tenant, state="open")) == 3


def test_the_cli_sync_evaluates_budgets_set_without_evaluation(fake, connected, cli, cli_env) -> None:
    """A budget written straight to the store raises nothing until the next `usageledger sync` evaluates it."""
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            tenant = connect_tenant(conn)
            create_budget(conn, tenant, subject_type="organization", subject_id=fake.organization.id, amount="0.01",
                          actor="test")  # fmt: skip
        budget_alerts = lambda: [a for a in cli("alerts", "list", "--json").json() if a["kind"] == "budget"]  # noqa: E731
        assert budget_alerts() == []
        assert cli("sync").exit_code == 0
        assert len(budget_alerts()) == 3
    finally:
        engine.dispose()


def connect_tenant(conn) -> int:
    from usageledger.store import ensure_default_tenant

    return ensure_default_tenant(conn)
