"""Fixtures of the allocation tests: the store's databases (SQLite and PostgreSQL) and identity helpers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "store"))

from store_db_fixtures import connection_id, engine, pg_database_url  # noqa: E402

__all__ = ["connection_id", "engine", "pg_database_url"]
