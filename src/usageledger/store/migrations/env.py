"""Alembic environment: the engine comes from `migrate()` (config.attributes), never from an ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from usageledger.store.tables import metadata

config = context.config
target_metadata = metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if engine is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError(
                "usageledger migrations need an engine: call usageledger.store.migrate(engine)"
            )
        engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise RuntimeError("usageledger migrations run online only")
run_migrations_online()
