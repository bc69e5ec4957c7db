"""Database fixtures shared by tests/store and tests/test_reports.py: SQLite (a temp file) and PostgreSQL.

PostgreSQL: a fresh database per test session at USAGELEDGER_TEST_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), migrated once, emptied before every test and
dropped at the end. When the server is unreachable the PostgreSQL tests are skipped, except on CI
(CI=true), where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import OperationalError

from usageledger.config import Settings
from usageledger.models import CostRecord, Dimensions, UsageRecord
from usageledger.store import create_engine_for, ensure_default_tenant, insert_connection, migrate
from usageledger.store.tables import metadata

PG_URL = os.environ.get("USAGELEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[URL]:
    """A fresh, migrated PostgreSQL database for this session."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        conn = admin.connect()
    except OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL is not reachable at {make_url(PG_URL).render_as_string()}: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"usageledger_test_{uuid.uuid4().hex[:12]}"
    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name)
    engine = create_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    try:
        yield url
    finally:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
        admin.dispose()


def _empty_postgres(engine: Engine) -> None:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: SQLite in a temp folder, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        created = create_engine_for(Settings(home=tmp_path / "home"))
        migrate(created)
    else:
        url: URL = request.getfixturevalue("pg_database_url")
        created = create_engine_for(
            Settings(home=tmp_path / "home", database_url=url.render_as_string(hide_password=False))
        )
        _empty_postgres(created)
    try:
        yield created
    finally:
        created.dispose()


@pytest.fixture
def connection_id(engine: Engine) -> int:
    """One Anthropic connection of the default tenant."""
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        return insert_connection(
            conn,
            tenant_id=tenant,
            name="Demo org",
            provider="anthropic",
            base_url="http://fake.test",
            organization_id="org-demo",
            organization_name="Demo Org",
            key_hint="sk-ant-admin01-…fake",
            source="analytics",
        )


def _dims(model: str | None, **dims: str | None) -> Dimensions:
    """The fixtures' dimensions: one organization, workspace, API key, tier and window unless given."""
    base: dict[str, str | None] = {
        "organization_id": "org-demo",
        "workspace_id": "wrk_a",
        "api_key_id": "apikey_a",
        "model": model,
        "service_tier": "standard",
        "context_window": "0-200k",
    }
    return Dimensions(**(base | dims))


def usage(
    day: dt.date, model: str | None = "claude-test", tokens: int = 100, **dims: str | None
) -> UsageRecord:
    """A usage record with easy-to-check numbers (every metric derived from `tokens`)."""
    return UsageRecord(
        day=day,
        dims=_dims(model, **dims),
        uncached_input_tokens=tokens,
        output_tokens=tokens * 2,
        cache_read_input_tokens=tokens * 3,
        cache_creation_5m_input_tokens=tokens * 4,
        cache_creation_1h_input_tokens=tokens * 5,
        requests=tokens // 10,
        web_search_requests=1,
    )


def cost(
    day: dt.date, model: str | None = "claude-test", cents: str = "1.5", **dims: str | None
) -> CostRecord:
    from decimal import Decimal

    return CostRecord(
        day=day,
        dims=_dims(model, **dims),
        amount_cents=Decimal(cents),
        list_amount_cents=Decimal(cents) * 2,
        requests=3,
    )
