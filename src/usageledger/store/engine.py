"""The engine: SQLite by default (WAL, foreign keys, secure delete), PostgreSQL by URL; Alembic migrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from usageledger.config import Settings
from usageledger.errors import ConfigError, DatabaseUnavailableError
from usageledger.private_files import make_private_dir, make_private_file

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "DATABASE_UNAVAILABLE_ERRORS",
    "CheckpointResult",
    "checkpoint",
    "create_engine_for",
    "database_unavailable",
    "migrate",
    "migrations_config",
    "sync_writer_connection",
]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Applied to every new SQLite connection. secure_delete zeroes freed content, so deleted
# credentials leave the file; busy_timeout makes concurrent writers wait instead of failing.
# A 16 MiB page cache per connection: a backfill and the report pages ran no slower than with 64 MiB
# (measured), and the sync's peak memory stays well under its 300 MB budget.
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-16384",
)


# The driver's errors that say the database cannot be used now (down, full, read-only, a connection
# closed under us), not that a statement is wrong: a message and exit 9 / HTTP 503, and a job retries.
DATABASE_UNAVAILABLE_ERRORS: tuple[type[DBAPIError], ...] = (OperationalError, InterfaceError)


def database_unavailable(exc: DBAPIError) -> DatabaseUnavailableError:
    """Our error for a database that refused a connection or a statement, saying what to do next.

    Only the driver's first line is shown: never the statement, its parameters or the URL, which can
    hold sealed secrets or a password.
    """
    said = str(exc.orig).strip().splitlines() if exc.orig is not None else []
    reason = said[0] if said else type(exc).__name__
    return DatabaseUnavailableError(
        f"The database could not be used: {reason}. Check that the server USAGELEDGER_DATABASE_URL names "
        "is running and reachable (for the embedded SQLite, that its disk has free space and is writable), "
        "then run the command again. Whatever was committed is kept, and a sync resumes from it."
    )


def _normalize_url(url: str) -> str:
    """Point bare PostgreSQL URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


@contextmanager
def sync_writer_connection(engine: Engine) -> Iterator[Connection]:
    """The connection a sync writes its windows through: on SQLite, without per-row foreign key checks.

    SQLite checks every inserted row's `connection_id` against `connections`, a lookup per row: a
    year's backfill of a large organization used 5-15% more CPU with them (README, "Measured"). Those checks
    cannot fail here: each window's transaction first claims its connection's row (a write, so on
    SQLite it holds the database's one write lock until it commits), connection rows are never deleted
    while a sync holds one, and every row it writes names that connection. The pragma only takes effect
    outside a transaction, so it is set once on a connection held for the whole sync and set back
    before the connection returns to the pool; a connection that cannot be set back is discarded.
    PostgreSQL keeps its checks.
    """
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            yield conn
            return
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()  # ends the transaction SQLAlchemy began for the pragma: the writer begins its own
        try:
            yield conn
        finally:
            try:
                conn.rollback()  # a window's transaction that an error left open
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
            except BaseException:
                conn.invalidate()  # never back to the pool without its checks
                raise


def _prepare_sqlite_file(path: Path) -> None:
    """The database file exists with mode 0600 before SQLite opens it; its -wal and -shm files inherit that."""
    make_private_dir(path.parent)
    make_private_file(path)


def create_engine_for(settings: Settings, **kwargs: Any) -> Engine:
    """Build the engine for `settings` (creating `settings.home` for the default SQLite file)."""
    raw_url = _normalize_url(settings.resolved_database_url())
    try:
        url = make_url(raw_url)
    except Exception as exc:  # ArgumentError; never echo the URL, it may hold a password
        raise ConfigError("USAGELEDGER_DATABASE_URL is not a valid database URL.") from exc
    backend = url.get_backend_name()
    # SQL errors and echo never show parameters: they can be password hashes, token hashes or ciphertext.
    kwargs.setdefault("hide_parameters", True)
    if backend == "sqlite":
        make_private_dir(settings.home)
        if url.database and url.database != ":memory:":
            _prepare_sqlite_file(Path(url.database))
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    raise ConfigError(f"Unsupported database {backend!r}: use sqlite:///… or postgresql+psycopg://….")


def migrations_config(engine: Engine) -> Config:
    """An Alembic config built in code, so migrations run from an installed package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*(.+)$", re.MULTILINE)


def _head_revisions() -> set[str] | None:
    """The newest revisions, read from the migration files' `revision`/`down_revision` lines.

    Importing Alembic costs a quarter of a second (it loads every dialect's support and Mako), which a
    query command would pay on every start only to learn that nothing is to do. None when a file does
    not read as expected: then Alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"].strip("\"' "))
        down = found["down_revision"].strip()
        if down != "None":
            if not re.fullmatch(r"[\"'][\w-]+[\"']", down):  # a tuple (a merge): let Alembic read it
                return None
            parents.add(down.strip("\"'"))
    return (revisions - parents) or None


def _schema_is_current(engine: Engine) -> bool:
    """Whether the database already stands at the newest revision, read without importing Alembic."""
    heads = _head_revisions()
    if heads is None:
        return False
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        stamped = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    return stamped == heads


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default: the newest); a current schema costs one query."""
    if revision == "head" and _schema_is_current(engine):
        return
    from alembic import command

    command.upgrade(migrations_config(engine), revision)


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    """What `PRAGMA wal_checkpoint(TRUNCATE)` answered: (busy, frames in the WAL, frames checkpointed)."""

    busy: bool
    log_frames: int
    checkpointed_frames: int

    @property
    def complete(self) -> bool:
        """Every frame is in the database file and the WAL was truncated (-1, -1: not in WAL mode)."""
        return not self.busy and self.log_frames == self.checkpointed_frames


def checkpoint(engine: Engine, busy_timeout_ms: int | None = None) -> CheckpointResult:
    """On SQLite, move the WAL into the database file and truncate it (after deleting secrets).

    A reader with an older snapshot keeps the checkpoint from finishing: the result says so (`busy`).
    `busy_timeout_ms` bounds how long this attempt waits for readers (default: the connection's 30 s).
    On other databases there is no WAL file of ours: the result is complete.
    """
    if engine.dialect.name != "sqlite":
        return CheckpointResult(busy=False, log_frames=0, checkpointed_frames=0)
    with engine.connect() as conn:
        if busy_timeout_ms is not None:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        try:
            row = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        finally:
            if busy_timeout_ms is not None:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        conn.commit()
    return CheckpointResult(busy=bool(row[0]), log_frames=int(row[1]), checkpointed_frames=int(row[2]))
