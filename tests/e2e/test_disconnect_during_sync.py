"""A disconnect (or a replaced key) stops a running sync at its next page: issue 8, items 1 and 15.

The fake answers every Admin API request slowly, so the disconnect lands while a window is being
fetched; the sync runs in another process (the CLI) or in the web app's background thread.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text

from usageledger import store
from usageledger.config import Settings
from usageledger.errors import SyncStoppedError
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, RunningFake
from usageledger.store.accounts import create_access_token, create_tenant, create_user
from usageledger.sync import connect_anthropic, run_sync
from usageledger.sync.credentials import store_admin_key
from usageledger.web import create_app

RUN_CLI = "import sys; from usageledger.cli import main; sys.exit(main(sys.argv[1:]))"
# Four windows (31 + 31 + 31 + 7 days), each a few slow pages: a disconnect lands mid-sync.
BACKFILL_DAYS = 100
PAGE_DELAY = 0.3
STOPPED_BY_DISCONNECT = "Sync stopped: the connection was disconnected"


def _slow_api(fake: FakeOrganization) -> None:
    fake.faults.add("/v1/organizations/", "slow", times=100_000, delay=PAGE_DELAY)


def _calls(fake: FakeOrganization) -> int:
    return sum(fake.calls.values())


def _scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _wait_until(condition: Callable[[], bool], what: str, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert alive(), f"the sync ended before {what}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.02)


def _first_window_committed(engine: Engine) -> Callable[[], bool]:
    return lambda: (_scalar(engine, "select max(days_done) from sync_runs") or 0) > 0


def _assert_stopped_and_purged(engine: Engine, connection_id: int) -> None:
    """Nothing of the connection survives, its key is gone, it stays disconnected, the run says why."""
    for table in (
        "usage_rows",
        "cost_rows",
        "actor_usage_rows",
        "actor_cost_rows",
        "anthropic_actors",
        "credentials",
    ):
        assert _scalar(engine, f"select count(*) from {table} where connection_id = :c", c=connection_id) == 0
    assert _scalar(engine, "select state from connections where id = :c", c=connection_id) == "disconnected"
    assert _scalar(engine, "select lock_owner from connections where id = :c", c=connection_id) is None
    with engine.connect() as conn:
        run = conn.execute(text("select status, error from sync_runs order by id desc limit 1")).one()
        events = conn.execute(text("select kind, message from events where connection_id = :c"), {"c": connection_id}).all()  # fmt: skip
    assert run.status == "failed" and STOPPED_BY_DISCONNECT in run.error
    assert any(kind == "sync_failed" and STOPPED_BY_DISCONNECT in message for kind, message in events)


@pytest.fixture
def db(cli_env) -> Iterator[Engine]:
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


def test_a_disconnect_with_purge_stops_a_cli_sync_in_another_process(cli, fake, cli_env, db):
    """Mid-window disconnect --purge: at most the call in flight follows, no row survives, state stays disconnected."""
    result = cli("connect", "anthropic", "--key-stdin", "--no-sync", stdin=FAKE_ADMIN_KEY + "\n")
    assert result.exit_code == 0, result.err
    connection_id = int(result.out.strip().splitlines()[-1])
    _slow_api(fake)
    env = {**os.environ, **cli_env, "USAGELEDGER_BACKFILL_DAYS": str(BACKFILL_DAYS)}
    sync = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "sync", str(connection_id)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        _wait_until(_first_window_committed(db), "a committed window", lambda: sync.poll() is None)
        result = cli("disconnect", str(connection_id), "--yes", "--purge")
        calls_when_disconnected = _calls(fake)
        assert result.exit_code == 0, result.err
        assert sync.wait(60) == 7
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
        assert sync.stderr is not None
        err = sync.stderr.read().decode()
        sync.stderr.close()
    assert STOPPED_BY_DISCONNECT in err and "Traceback" not in err
    # At most the requests already in flight (windows are fetched side by side, up to the limit).
    assert _calls(fake) <= calls_when_disconnected + Settings().max_in_flight  # the sync's, from cli_env
    _assert_stopped_and_purged(db, connection_id)


@pytest.fixture
def web_settings(tmp_path, database_url, secret_key, running_fake: RunningFake) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        secret_key=secret_key,
        anthropic_base_url=running_fake.url,
        backfill_days=BACKFILL_DAYS,
        max_retries=1,
    )


@pytest.fixture
def web_engine(web_settings: Settings) -> Iterator[Engine]:
    engine = store.create_engine_for(web_settings)
    store.migrate(engine)
    yield engine
    engine.dispose()


def test_an_api_delete_with_purge_stops_the_background_sync(fake, web_settings, web_engine):
    """DELETE /api/v1/connections/{id}?purge=true while the web app's sync runs: it stops, nothing survives."""
    with web_engine.begin() as conn:
        tenant = create_tenant(conn, "Acme")
        admin = create_user(conn, tenant, "admin@example.com", "correct horse battery", "admin")
        token = create_access_token(conn, tenant_id=tenant, user_id=admin, name="test").token
    headers = {"authorization": f"Bearer {token}"}
    app = create_app(web_settings, web_engine)
    syncs = app.state.services.syncs
    _slow_api(fake)
    with TestClient(app) as client:
        created = client.post("/api/v1/connections", json={"admin_key": FAKE_ADMIN_KEY}, headers=headers)
        assert created.status_code == 201, created.text
        connection_id = created.json()["id"]
        _wait_until(
            _first_window_committed(web_engine), "a committed window", lambda: syncs.is_running(connection_id)
        )
        deleted = client.delete(f"/api/v1/connections/{connection_id}?purge=true", headers=headers)
        calls_when_disconnected = _calls(fake)
        assert deleted.status_code == 204, deleted.text
        syncs.join(60)
        assert not syncs.is_running(connection_id)
        state = client.get(f"/api/v1/connections/{connection_id}", headers=headers).json()["state"]
    assert state == "disconnected"
    assert _calls(fake) <= calls_when_disconnected + web_settings.max_in_flight
    _assert_stopped_and_purged(web_engine, connection_id)


@pytest.mark.parametrize("change", ["replace_key", "rotate_kek"])
def test_a_replaced_key_stops_the_sync_and_a_kek_rotation_does_not(
    fake, web_settings, web_engine, secret_key, change
):
    """A new credential row stops the sync at its next page; re-sealing in place (rotate-key) lets it finish."""
    with web_engine.begin() as conn:
        tenant = store.ensure_default_tenant(conn)
    connection_id = connect_anthropic(
        web_settings, web_engine, tenant_id=tenant, admin_key=FAKE_ADMIN_KEY
    ).connection_id
    _slow_api(fake)
    outcome: dict[str, Any] = {}

    def sync() -> None:
        try:
            outcome["summary"] = run_sync(web_settings, web_engine, connection_id)
        except BaseException as exc:  # handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=sync)
    thread.start()
    _wait_until(_first_window_committed(web_engine), "a committed window", thread.is_alive)
    with web_engine.begin() as conn:
        if change == "replace_key":
            store_admin_key(web_settings, conn, connection_id, FAKE_ADMIN_KEY)
        else:
            newer = Fernet.generate_key().decode()
            rotated = web_settings.model_copy(update={"secret_key": SecretStr(f"{newer},{secret_key}")})
            assert store.rotate_credentials(conn, store.Vault.from_settings(rotated)) == 1
    calls_when_changed = _calls(fake)
    thread.join(60)
    assert not thread.is_alive()
    if change == "rotate_kek":
        assert "error" not in outcome, outcome.get("error")
        assert outcome["summary"].days == BACKFILL_DAYS
        assert _scalar(web_engine, "select state from connections") == "connected"
        return
    error = outcome["error"]
    assert isinstance(error, SyncStoppedError) and "key was replaced" in error.message
    assert _calls(fake) <= calls_when_changed + web_settings.max_in_flight  # those already in flight
    # Committed windows stay (nothing was purged) and the new key is kept for the next sync.
    assert _scalar(web_engine, "select count(*) from usage_rows") > 0
    assert _scalar(web_engine, "select count(*) from credentials") == 1
    assert _scalar(web_engine, "select lock_owner from connections") is None
    fake.faults.clear()
    assert run_sync(web_settings, web_engine, connection_id).days > 0


def test_an_unreachable_stored_address_names_it_and_how_to_change_it(cli, fake, cli_env, db):
    """A sync that cannot reach the connection's stored base URL says which URL and that reconnecting changes it."""
    result = cli("connect", "anthropic", "--key-stdin", "--no-sync", stdin=FAKE_ADMIN_KEY + "\n")
    assert result.exit_code == 0, result.err
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens there
    with db.begin() as conn:
        conn.execute(text("update connections set base_url = :u"), {"u": dead})
    result = cli("sync")
    assert result.exit_code == 5
    message = " ".join(result.err.split())
    assert f"Could not reach the Anthropic API at {dead}" in message
    assert "disconnect and connect again with USAGELEDGER_ANTHROPIC_BASE_URL" in message
