"""Budget fixtures: `engine` (SQLite and PostgreSQL, from tests/store), and the fake on loopback with the real
CLI pointed at it (`fake`, `cli`, `connected`, from tests/e2e)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))

from store_db_fixtures import engine, pg_database_url  # noqa: E402

from tests.e2e.conftest import cli, cli_env, connected, fake, running_fake  # noqa: E402

__all__ = ["cli", "cli_env", "connected", "engine", "fake", "pg_database_url", "running_fake"]
