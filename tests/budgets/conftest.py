"""Budget fixtures: `engine` (SQLite and PostgreSQL, from tests/store) and helpers that write hand-made cost."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))

from store_db_fixtures import engine, pg_database_url  # noqa: E402

__all__ = ["engine", "pg_database_url"]
