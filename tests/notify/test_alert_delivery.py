"""The alerts reach the destinations: a budget crossing raised by the evaluation that runs after every sync is
delivered once to a signed webhook (and logged), an anomaly in the stored days raises an `anomaly` alert
through the same path, and the Alerts page's deliveries come from the delivery log."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine

from tests.budgets.helpers import ORG, connect, spend
from tests.notify.receivers import webhook_receiver
from tests.notify.test_notify_delivery import SIGNING_SECRET, _add
from usageledger.alerting import configured_sink, evaluate_and_deliver
from usageledger.alerting.anomaly_alerts import ANOMALY_KIND
from usageledger.config import Settings
from usageledger.store import Vault
from usageledger.store.alerts import list_alerts
from usageledger.store.budgets import create_budget
from usageledger.store.destinations import last_delivery_per_destination

DAY = dt.date(2026, 11, 5)


def _settings(tmp_path, secret_key: str) -> Settings:
    return Settings(home=tmp_path, secret_key=secret_key, public_url="https://ledger.example.com")


def test_a_budget_crossing_is_delivered_once_to_a_signed_webhook(
    engine: Engine, tmp_path, secret_key
) -> None:
    """Two evaluations, one crossing: the receiver verifies one signed message per threshold crossed."""
    settings = _settings(tmp_path, secret_key)
    tenant, cid = connect(engine)
    spend(engine, cid, DAY, "90")
    with engine.begin() as conn:
        create_budget(conn, tenant, subject_type="organization", subject_id=ORG, amount="100", actor="test")
    with webhook_receiver(secret=SIGNING_SECRET) as receiver:
        _add(engine, Vault.from_settings(settings), tenant, "webhook", {"url": receiver.url}, SIGNING_SECRET)
        sink = configured_sink(settings, engine)
        first = evaluate_and_deliver(engine, tenant, DAY, sink)
        again = evaluate_and_deliver(engine, tenant, DAY, sink)  # the next sync: nothing new to tell
    assert sorted(a.threshold_pct for a in first) == [50, 80] and again == []
    assert receiver.rejections == [] and len(receiver.received) == 2
    payloads = [json.loads(r.body) for r in receiver.received]
    assert {p["data"]["alert_id"] for p in payloads} == {a.id for a in first}
    assert all(p["type"] == "alert.budget" for p in payloads)
    assert all(p["data"]["link"] == "https://ledger.example.com/alerts" for p in payloads)
    with engine.connect() as conn:
        shown = last_delivery_per_destination(conn, tenant, [a.id for a in first])
    assert {a: [d.status for d in rows] for a, rows in shown.items()} == {a.id: ["delivered"] for a in first}


def test_a_spike_in_the_stored_days_raises_one_anomaly_alert(engine: Engine) -> None:
    """Eight weeks of a steady model, then a day at 20×: the evaluation after a sync raises it, once; the
    evaluation after a budget change does not scan for anomalies."""
    tenant, cid = connect(engine)
    start = DAY - dt.timedelta(days=60)
    for offset in range(60):
        day = start + dt.timedelta(days=offset)
        spend(engine, cid, day, "4000" if day == DAY - dt.timedelta(days=2) else "200")
    assert evaluate_and_deliver(engine, tenant, DAY) == []  # a budget change's evaluation does not scan
    first = evaluate_and_deliver(engine, tenant, DAY, scan_anomalies=True)  # as after a sync
    again = evaluate_and_deliver(engine, tenant, DAY, scan_anomalies=True)
    anomalies = [a for a in first if a.kind == ANOMALY_KIND]
    assert again == []
    assert anomalies and {a.details["day"] for a in anomalies} == {(DAY - dt.timedelta(days=2)).isoformat()}
    assert all(a.details["anomaly"] == "spike" for a in anomalies)
    with engine.connect() as conn:
        assert {a.id for a in list_alerts(conn, tenant, kind=ANOMALY_KIND)} == {a.id for a in anomalies}
