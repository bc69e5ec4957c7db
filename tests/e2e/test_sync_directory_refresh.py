"""A scheduled sync reads the directory once a day, a person's sync every time, and sooner for unlisted ids.

The real CLI and `run_sync` against the fake on loopback, on SQLite and PostgreSQL; the directory's calls
are counted at the fake, and what was stored is read from the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, delete, select, update

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.store.tables import anthropic_api_keys, anthropic_workspace_members, connections, usage_rows
from usageledger.sync import SCHEDULED_TRIGGER, run_sync

_DIRECTORY_PATHS = (
    "/v1/organizations/workspaces",
    "/v1/organizations/api_keys",
    "/v1/organizations/users",
    "/v1/organizations/rbac_groups",
)
_SPEND_LIMITS = "/v1/organizations/spend_limits"


@pytest.fixture
def fake() -> FakeOrganization:
    return FakeOrganization(seed=11, rows_per_day=20)


@pytest.fixture
def db(cli_env) -> Iterator[Engine]:
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


def _directory_calls(fake: FakeOrganization) -> int:
    """Calls to the directory's lists (workspaces and their members, API keys, users, RBAC groups)."""
    return sum(n for path, n in fake.calls.items() if path.startswith(_DIRECTORY_PATHS))


def _scheduled_sync(connection_id: int) -> None:
    settings = Settings()
    engine = store.create_engine_for(settings)
    try:
        run_sync(settings, engine, connection_id, trigger=SCHEDULED_TRIGGER)
    finally:
        engine.dispose()


def _last_sync_directory(cli) -> dict:
    finished = [e for e in cli("events", "--json").json() if e["kind"] == "sync_finished"]
    return max(finished, key=lambda e: e["id"])["details"]["directory"]


def _read_at(db: Engine, connection_id: int) -> dt.datetime:
    with db.connect() as conn:
        return store.get_connection(conn, connection_id).directory_read_at


def _age_directory(db: Engine, connection_id: int, hours: float) -> None:
    with db.begin() as conn:
        conn.execute(
            update(connections)
            .where(connections.c.id == connection_id)
            .values(directory_read_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours))
        )


def _members(db: Engine) -> set[tuple]:
    with db.connect() as conn:
        return {
            tuple(r)
            for r in conn.execute(
                select(anthropic_workspace_members.c.workspace_id, anthropic_workspace_members.c.user_id)
            )
        }


def test_a_scheduled_sync_keeps_a_fresh_directory_and_a_persons_sync_reads_it(fake, connected, db, cli):
    """Right after connecting, a scheduled sync makes no directory call (spend limits still read); `sync` does."""
    read_at = _read_at(db, connected)
    assert read_at is not None and dt.datetime.now(dt.UTC) - read_at < dt.timedelta(minutes=5)
    assert _last_sync_directory(cli) == {"read": True, "why": "a connect sync reads it"}

    fake.calls.reset()
    _scheduled_sync(connected)
    assert _directory_calls(fake) == 0
    assert fake.calls[_SPEND_LIMITS] == 1
    assert (
        fake.calls["/v1/organizations/usage_report/messages"]
        + fake.calls["/v1/organizations/analytics/usage"]
        > 0
    )  # the data was still synced
    directory = _last_sync_directory(cli)
    assert directory["read"] is False and directory["why"].startswith("read ")
    assert _read_at(db, connected) == read_at

    fake.calls.reset()
    assert cli("sync").exit_code == 0
    assert _directory_calls(fake) >= 3  # workspaces, API keys, users (and the workspaces' members)
    assert _last_sync_directory(cli) == {"read": True, "why": "a manual sync reads it"}
    assert _read_at(db, connected) > read_at


def test_a_scheduled_sync_reads_a_directory_as_old_as_the_refresh_hours(
    fake, connected, db, cli, monkeypatch
):
    """A member removed upstream stays until the directory is a day old; then the scheduled sync reads it."""
    removed = fake.members.pop(0)
    _age_directory(db, connected, hours=23)
    fake.calls.reset()
    _scheduled_sync(connected)
    assert _directory_calls(fake) == 0 and (removed[0], removed[1]) in _members(db)  # 23 h: still fresh

    _age_directory(db, connected, hours=24.5)
    _scheduled_sync(connected)
    assert _directory_calls(fake) >= 3
    assert (removed[0], removed[1]) not in _members(db)
    directory = _last_sync_directory(cli)
    assert directory["read"] is True and directory["why"] == "24.5 h old"
    assert dt.datetime.now(dt.UTC) - _read_at(db, connected) < dt.timedelta(minutes=5)

    monkeypatch.setenv("USAGELEDGER_DIRECTORY_REFRESH_HOURS", "0")  # every sync, as before
    fake.calls.reset()
    _scheduled_sync(connected)
    assert _directory_calls(fake) >= 3


def test_rows_naming_a_key_the_directory_does_not_list_make_a_scheduled_sync_read_it(
    fake, connected, db, cli
):
    """A key created since the directory was read (here: its row deleted) has its name after the next sync."""
    today = dt.datetime.now(dt.UTC).date()
    with db.begin() as conn:
        key_id = conn.execute(
            select(usage_rows.c.api_key_id)
            .where(usage_rows.c.day >= today - dt.timedelta(days=2), usage_rows.c.api_key_id != "")
            .limit(1)
        ).scalar_one()
        conn.execute(delete(anthropic_api_keys).where(anthropic_api_keys.c.id == key_id))

    fake.calls.reset()
    _scheduled_sync(connected)
    assert _directory_calls(fake) >= 3
    with db.connect() as conn:
        assert conn.execute(
            select(anthropic_api_keys.c.name).where(anthropic_api_keys.c.id == key_id)
        ).scalar()
    directory = _last_sync_directory(cli)
    assert directory["read"] is True and key_id in directory["why"]

    fake.calls.reset()  # every id listed again: the next scheduled sync keeps the directory
    _scheduled_sync(connected)
    assert _directory_calls(fake) == 0
