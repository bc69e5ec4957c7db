"""Fixtures of the store tests: `engine` (SQLite and PostgreSQL), `connection_id`, `settings`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from store_db_fixtures import connection_id, engine, pg_database_url  # noqa: E402

from usageledger.config import Settings  # noqa: E402

__all__ = ["connection_id", "engine", "pg_database_url"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private home folder and no secret key (so the key file is used)."""
    return Settings(home=tmp_path / "home", secret_key=None)
