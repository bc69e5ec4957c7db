"""The engine and the migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from usageledger.config import Settings
from usageledger.errors import ConfigError
from usageledger.store import create_engine_for, migrate, sync_writer_connection
from usageledger.store.engine import _normalize_url
from usageledger.store.tables import metadata


def test_migrations_produce_exactly_the_schema_of_tables_py(engine: Engine) -> None:
    """After `migrate`, autogenerate finds nothing to change: migrations == tables.py."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diffs = [d for d in compare_metadata(context, metadata) if not _same_empty_default(d)]
    assert diffs == []


def _same_empty_default(diff: Any) -> bool:
    """Alembic's SQLite comparison reports DEFAULT '' as different from server_default="" (a false positive)."""
    if not isinstance(diff, list) or len(diff) != 1 or diff[0][0] != "modify_default":
        return False
    reflected, declared = diff[0][5], diff[0][6]
    reflected_text = getattr(getattr(reflected, "arg", None), "text", getattr(reflected, "arg", None))
    return reflected_text in ("''", "('')") and getattr(declared, "arg", None) == ""


def test_migrate_twice_is_a_no_op(engine: Engine) -> None:
    """Running the upgrade again changes nothing."""
    migrate(engine)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_sqlite_connections_get_the_pragmas(tmp_path: Path) -> None:
    """WAL, foreign keys, secure delete, busy timeout and synchronous=NORMAL on every connection."""
    engine = create_engine_for(Settings(home=tmp_path / "new-home"))
    assert (tmp_path / "new-home").is_dir()
    try:
        with engine.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("secure_delete") == 1
            assert pragma("busy_timeout") == 30000
            assert pragma("synchronous") == 1
    finally:
        engine.dispose()


def test_the_sync_writer_connection_skips_foreign_key_checks_and_gives_them_back(tmp_path: Path) -> None:
    """Inside, a row naming no connection is accepted; the pooled connection has its checks again after,
    also when the writer failed with a transaction open."""
    engine = create_engine_for(Settings(home=tmp_path), poolclass=StaticPool)  # one connection, reused
    migrate(engine)
    insert = "INSERT INTO sync_runs (connection_id, trigger, status, started_at) VALUES (999, 'x', 'x', '2026-01-01')"
    try:
        with sync_writer_connection(engine) as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
            conn.commit()
            with conn.begin():
                conn.exec_driver_sql(insert)
        with pytest.raises(RuntimeError), sync_writer_connection(engine) as conn:
            conn.begin()
            conn.exec_driver_sql(insert)
            raise RuntimeError("the writer failed mid-window")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert (
                conn.exec_driver_sql("SELECT count(*) FROM sync_runs").scalar() == 1
            )  # the failed one rolled back
            with pytest.raises(IntegrityError):
                conn.exec_driver_sql(insert)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_postgres_urls_use_psycopg3(given: str, expected: str) -> None:
    """Bare PostgreSQL URLs are pointed at the psycopg 3 driver."""
    assert _normalize_url(given) == expected


def test_unsupported_database_is_a_config_error(tmp_path: Path) -> None:
    """Only SQLite and PostgreSQL are supported."""
    with pytest.raises(ConfigError):
        create_engine_for(Settings(home=tmp_path, database_url="mysql://u@h/db"))


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_home_and_its_database_are_the_owners_alone(tmp_path: Path, secret_key: str) -> None:
    """Home 0700; the database and its WAL/SHM files 0600, even under a permissive umask."""
    import os

    home = tmp_path / "fresh" / "home"
    previous = os.umask(0o002)
    try:
        engine = create_engine_for(Settings(home=home, secret_key=secret_key))
        migrate(engine)
        with engine.connect() as conn:  # keep a connection open so the WAL and SHM files exist
            conn.exec_driver_sql("SELECT 1")
            files = [home / "usageledger.db", home / "usageledger.db-wal", home / "usageledger.db-shm"]
            assert all(path.exists() for path in files)
            modes = {path.name: _mode(path) for path in files}
        engine.dispose()
    finally:
        os.umask(previous)
    assert _mode(home) == 0o700
    assert modes == {name: 0o600 for name in modes}


def test_an_existing_world_readable_database_is_narrowed(tmp_path: Path, secret_key: str) -> None:
    """A database file left 0644 by an older version becomes 0600 when opened."""
    database = tmp_path / "usageledger.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    create_engine_for(Settings(home=tmp_path, secret_key=secret_key)).dispose()
    assert _mode(database) == 0o600


def test_the_generated_key_files_folder_is_private(tmp_path: Path) -> None:
    """The key file's folder, made by the vault, is 0700 and the key file 0600."""
    from usageledger.store import Vault

    home = tmp_path / "keys"
    Vault.from_settings(Settings(home=home))
    assert (_mode(home), _mode(home / "secret.key")) == (0o700, 0o600)
