"""The web app's background syncs call the after-sync hook, so budgets are evaluated after every sync."""

from __future__ import annotations

from usageledger.store.alerts import list_alerts
from usageledger.store.budgets import create_budget
from usageledger.sync import BackgroundSyncs


def test_a_background_sync_runs_the_hook_and_the_apps_hook_raises_the_alerts(
    app, settings, engine, accounts, acme_connection
) -> None:
    """A recording hook sees (engine, connection); the app's own syncs evaluate a budget set without evaluation."""
    seen: list[tuple[object, int]] = []
    syncs = BackgroundSyncs(settings, engine, lambda e, cid: seen.append((e, cid)))
    assert syncs.start(acme_connection)
    syncs.join(60)
    assert seen == [(engine, acme_connection)]
    tenant = accounts["acme_admin"].tenant_id
    with engine.begin() as conn:
        org = conn.exec_driver_sql(
            "SELECT organization_id FROM connections WHERE id = ?", (acme_connection,)
        ).scalar_one()
        create_budget(conn, tenant, subject_type="organization", subject_id=org, amount="0.01", actor="test")
    services = app.state.services
    assert services.syncs.start(acme_connection)
    services.syncs.join(60)
    with engine.connect() as conn:
        assert len(list_alerts(conn, tenant, kind="budget")) == 3
