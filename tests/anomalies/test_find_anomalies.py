"""`find_anomalies` over the stored rollups (SQLite and PostgreSQL): findings with stable crossing keys,
names beside ids, scoped to the tenant."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert

from usageledger.alerting.anomalies import find_anomalies, notice_for
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.fake.anomalies import Injection
from usageledger.models import DAILY
from usageledger.store import create_engine_for, insert_connection, migrate
from usageledger.store.accounts import create_tenant
from usageledger.store.tables import anthropic_api_keys, cost_rollups, usage_rollups

FIRST, END = dt.date(2026, 3, 1), dt.date(2026, 6, 13)
SPIKE_DAY = dt.date(2026, 6, 10)
MODEL = "claude-opus-4-5"
_W = len(DAILY.dimensions)


def _store_rollups(engine: Engine, connection_id: int, fake: FakeOrganization) -> None:
    """The model and API-key rollups of the fake's rows, as a sync would write them."""
    sums: dict[str, dict[tuple, list[int]]] = {
        "model": defaultdict(lambda: [0] * 7),
        "api_key": defaultdict(lambda: [0] * 7),
    }
    costs: dict[str, dict[tuple, int]] = {"model": defaultdict(int), "api_key": defaultdict(int)}
    for day, row in fake.iter_rows(FIRST, END):
        keys = {"model": (day, row[0], row[3] or ""), "api_key": (day, row[0], row[1] or "", row[2] or "")}
        for grain, key in keys.items():
            metrics = sums[grain][key]
            for i in range(7):
                metrics[i] += row[_W + i]
            costs[grain][key] += row[_W + 7] * 9 // 1000
    with engine.begin() as conn:
        for grain, dims in (("model", ("organization_id", "model")),
                            ("api_key", ("organization_id", "workspace_id", "api_key_id"))):  # fmt: skip
            usage = usage_rollups[grain]
            conn.execute(insert(usage), [
                {"connection_id": connection_id, "day": key[0], **dict(zip(dims, key[1:], strict=True)),
                 **dict(zip(DAILY.usage_metrics, metrics, strict=True))}
                for key, metrics in sums[grain].items()
            ])  # fmt: skip
            conn.execute(insert(cost_rollups[grain]), [
                {"connection_id": connection_id, "day": key[0], **dict(zip(dims, key[1:], strict=True)),
                 "amount_microcents": amount, "list_amount_microcents": amount, "requests": None}
                for key, amount in costs[grain].items()
            ])  # fmt: skip
        conn.execute(insert(anthropic_api_keys), [
            {"connection_id": connection_id, "id": key.id, "name": f"Key {key.id[-4:]}"}
            for key in fake.fake_keys if key.id
        ])  # fmt: skip


@pytest.fixture
def engine(database_url: str, tmp_path) -> Iterator[Engine]:
    engine = create_engine_for(Settings(home=tmp_path, database_url=database_url))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def tenants(engine: Engine) -> tuple[int, int]:
    fake = FakeOrganization(
        seed=7, rows_per_day=120, today=END, anomalies=(Injection("spike", SPIKE_DAY, 10, model=MODEL),)
    )
    with engine.begin() as conn:
        acme, globex = create_tenant(conn, "Acme"), create_tenant(conn, "Globex")
        connection_id = insert_connection(
            conn, tenant_id=acme, name="Acme org", provider="anthropic", base_url="http://fake",
            organization_id=fake.organization.id, organization_name="Acme", key_hint=None, source="analytics",
        )  # fmt: skip
    _store_rollups(engine, connection_id, fake)
    return acme, globex


def test_the_injected_spike_is_found_in_cost_and_tokens_with_stable_keys(engine, tenants):
    """Evaluated on two consecutive days, the spike has the same crossing key: the alert is raised once."""
    acme, _ = tenants
    with engine.connect() as conn:
        first = find_anomalies(conn, acme, dt.date(2026, 6, 12))
        second = find_anomalies(conn, acme, dt.date(2026, 6, 13))
    keys = {f.crossing_key for f in first}
    assert f"anomaly:spike:cost:model={MODEL}:2026-06-10" in keys
    assert f"anomaly:spike:tokens:model={MODEL}:2026-06-10" in keys
    assert keys <= {f.crossing_key for f in second}
    [cost] = [f for f in first if f.crossing_key == f"anomaly:spike:cost:model={MODEL}:2026-06-10"]
    assert cost.title == f"Cost spike on model {MODEL}"
    assert (
        cost.message.startswith("$") and "against a usual $" in cost.message and "on weekdays" in cost.message
    )
    assert cost.observed > 5 * cost.baseline and cost.details["model"] == MODEL
    notice = notice_for(
        cost, alert_id=7, tenant_id=acme, occurred_at=dt.datetime(2026, 6, 12, 6, tzinfo=dt.UTC)
    )
    assert (notice.kind, notice.title, notice.details["day"]) == ("anomaly_spike", cost.title, "2026-06-10")


def test_days_not_yet_complete_and_old_spikes_are_left_out(engine, tenants):
    """As of the spike's own day it is not judged (the day is not over); two weeks on it is no longer new."""
    acme, _ = tenants
    with engine.connect() as conn:
        same_day = find_anomalies(conn, acme, SPIKE_DAY)
        later = find_anomalies(conn, acme, SPIKE_DAY + dt.timedelta(days=14))
    assert all(f.day < SPIKE_DAY for f in same_day)
    assert not any(f.kind == "spike" and f.day == SPIKE_DAY for f in later)


def test_another_tenant_sees_none_of_it(engine, tenants):
    """Findings are scoped by tenant: Globex has no connections, so no series."""
    _, globex = tenants
    with engine.connect() as conn:
        assert find_anomalies(conn, globex, dt.date(2026, 6, 12)) == []
