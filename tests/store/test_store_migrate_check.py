"""The quick check that spares a current database from Alembic, and never spares an old one."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from usageledger.config import Settings
from usageledger.store import create_engine_for, migrate
from usageledger.store.engine import _head_revisions, _schema_is_current, migrations_config


def test_the_heads_read_from_the_files_are_alembics_heads(tmp_path):
    """The revision lines read by hand name the same newest revision(s) as Alembic's own script directory."""
    engine = create_engine_for(Settings(home=tmp_path))
    try:
        assert _head_revisions() == set(ScriptDirectory.from_config(migrations_config(engine)).get_heads())
    finally:
        engine.dispose()


def test_an_older_schema_is_upgraded_and_a_current_one_is_recognised(database_url, tmp_path):
    """A database stamped at the first revision is not taken for current; `migrate` brings it to head."""
    engine = create_engine_for(Settings(home=tmp_path, database_url=database_url))
    try:
        assert not _schema_is_current(engine)  # empty: no alembic_version table yet
        migrate(engine, "0001")
        assert not _schema_is_current(engine)
        migrate(engine)
        assert _schema_is_current(engine)
        with engine.connect() as conn:
            stamped = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        assert stamped == _head_revisions()
    finally:
        engine.dispose()
