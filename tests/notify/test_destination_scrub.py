"""A deleted destination's sealed secret leaves the database files (SQLite's and PostgreSQL's), as a
disconnected admin key does: deleting the row is not enough on PostgreSQL, whose table file keeps the dead
tuple until a VACUUM FULL."""

from __future__ import annotations

from sqlalchemy import select

from tests.notify.test_notify_delivery import SIGNING_SECRET, _add
from tests.store.test_secret_deletion import _on_disk, _raw_files
from usageledger.config import Settings
from usageledger.notify import remove_destination
from usageledger.store import Vault, create_engine_for, migrate, pending_scrub_marker, scrub_soon
from usageledger.store.accounts import create_tenant
from usageledger.store.destinations import notification_destinations


def test_a_deleted_destination_s_secret_is_in_no_database_file(tmp_path, database_url) -> None:
    settings = Settings(home=tmp_path / "home", database_url=database_url, secret_key=None)
    engine = create_engine_for(settings)
    try:
        migrate(engine)
        with engine.begin() as conn:
            tenant = create_tenant(conn, "Acme")
        added = _add(engine, Vault.from_settings(settings), tenant, "webhook", {"url": "http://127.0.0.1:9/h"},
                     SIGNING_SECRET)  # fmt: skip
        with engine.connect() as conn:
            sealed = conn.execute(
                select(notification_destinations.c.secret_ciphertext).where(
                    notification_destinations.c.id == added.row.id
                )
            ).scalar_one()
        if engine.dialect.name == "sqlite":
            engine.connect().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").close()
        before = _raw_files(engine, "notification_destinations")
        assert _on_disk(before, sealed)  # the scan sees it while it is there
        with engine.begin() as conn:
            remove_destination(conn, added.row.id, tenant_id=tenant, by="ada@example.com")
        assert scrub_soon(settings, engine)
        assert not _on_disk(_raw_files(engine, "notification_destinations") + before, sealed)
        assert not pending_scrub_marker(settings).exists()
    finally:
        engine.dispose()
