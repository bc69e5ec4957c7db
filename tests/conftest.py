"""Fixtures shared by the whole suite: settings in a temp home, databases (SQLite and PostgreSQL), the fake API."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet

POSTGRES_URL = os.environ.get(
    "USAGELEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI") == "true"


def _postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: no server to test against
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(exc).__name__})"


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    return _postgres_reachable()


@pytest.fixture(autouse=True)
def _instant_sdk_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries keep their count and order, but back off in milliseconds (like stamina's testing mode)."""
    import anthropic._base_client as base_client

    monkeypatch.setattr(base_client, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(base_client, "MAX_RETRY_DELAY", 0.004)


@pytest.fixture(autouse=True)
def _no_ambient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a key or a setting from the developer's environment."""
    for name in list(os.environ):
        if name.startswith(("USAGELEDGER_", "ANTHROPIC_")):
            monkeypatch.delenv(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path, postgres_problem) -> Iterator[str]:
    """A fresh, empty database of each kind: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'usageledger.db'}"
        return
    with fresh_postgres_database("ul_test", postgres_problem) as url:
        yield url


@contextmanager
def fresh_postgres_database(prefix: str, postgres_problem: str | None) -> Iterator[str]:
    """A new, empty PostgreSQL database named `<prefix>_<random>`, dropped afterwards; a skip where there is
    no PostgreSQL (a failure in CI, where its tests are mandatory)."""
    if postgres_problem:
        if IN_CI:
            pytest.fail(f"{postgres_problem}; PostgreSQL tests are mandatory in CI")
        pytest.skip(postgres_problem)
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def secret_key() -> str:
    return Fernet.generate_key().decode()
