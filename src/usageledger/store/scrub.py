"""Making a deleted credential's bytes leave the disk, or saying that they have not yet and retrying.

Deleting the row is not enough. SQLite (secure_delete on) zeroes the freed cell, but the page that held
the ciphertext stays in the database file, and its frames in the `-wal` file, until a checkpoint copies
the WAL back and truncates it; a reader holding an older snapshot keeps the checkpoint from finishing.
PostgreSQL keeps deleted tuple versions in the table's file until a vacuum; `VACUUM FULL credentials`
rewrites the table into a new file with the live rows only, but it copies a deleted version too while
any snapshot might still see it. That horizon is cluster-wide in effect: a snapshot taken in this
database while a transaction of *any* database was running since before the deletion is older than
the deletion. So the scrub first waits until no session of the server holds a transaction id or a
snapshot older than a fresh transaction id taken after the deletion, then vacuums with a lock_timeout.

So the scrub is tried a few times with backoff for a bounded time. A marker file in the home folder
says a scrub is pending from before the first attempt until one succeeds; `resume_pending_scrub` retries
it when the next command, app, sync or disconnect starts. A caller is never told "done" while it is not.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from usageledger.config import Settings
from usageledger.errors import ScrubPendingError
from usageledger.store.engine import checkpoint

__all__ = [
    "SECRET_TABLES",
    "pending_scrub_marker",
    "resume_pending_scrub",
    "scrub_deleted_secrets",
    "scrub_soon",
]

log = logging.getLogger(__name__)

SCRUB_WITHIN_SECONDS = 5.0  # how long a disconnect keeps trying before it reports the scrub pending
_ATTEMPT_WAIT_MS = 250  # how long one attempt waits for a reader (SQLite) or the table lock (PostgreSQL)
_MARKER_NAME = "secret-scrub-pending"
# The tables whose deleted rows held a sealed secret: admin keys, and notification destinations' SMTP
# passwords, Slack URLs and webhook signing secrets. (SCIM tokens are stored as hashes: nothing to scrub.)
SECRET_TABLES: tuple[str, ...] = ("credentials", "notification_destinations")

# A transaction id taken after the deletion committed: every older id is the deletion's or before it.
_FRESH_XID = text("SELECT xid(pg_current_xact_id())::text")
# Sessions (of any database: snapshots here take their xmin from every running transaction) that
# hold an id or a snapshot at least as old: while one does, VACUUM FULL keeps the deleted version.
_OLDER_TRANSACTIONS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
    "AND (age(backend_xmin) >= age(CAST(:fresh AS xid)) OR age(backend_xid) >= age(CAST(:fresh AS xid)))"
)


def pending_scrub_marker(settings: Settings) -> Path:
    """The file whose presence means: a deleted credential's bytes may still be on disk."""
    return settings.home / _MARKER_NAME


def _try_sqlite(engine: Engine) -> bool:
    return checkpoint(engine, busy_timeout_ms=_ATTEMPT_WAIT_MS).complete


def _try_postgresql(engine: Engine, fresh_xid: str) -> bool:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.execute(_OLDER_TRANSACTIONS, {"fresh": fresh_xid}).scalar():
            return False
        conn.exec_driver_sql(f"SET lock_timeout = '{_ATTEMPT_WAIT_MS}ms'")
        try:
            for table in SECRET_TABLES:
                conn.exec_driver_sql(f"VACUUM FULL {table}")
        except OperationalError:  # lock_timeout: a transaction holds the table; try again later
            return False
        finally:
            conn.exec_driver_sql("RESET lock_timeout")
    return True


def _fresh_xid(engine: Engine) -> str:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return str(conn.execute(_FRESH_XID).scalar())


def _scrub(engine: Engine, within: float) -> bool:
    """Try until done or `within` seconds passed; True when the bytes are gone."""
    deadline = time.monotonic() + within
    fresh = _fresh_xid(engine) if engine.dialect.name == "postgresql" else None
    delay = 0.05
    while True:
        done = _try_postgresql(engine, fresh) if fresh is not None else _try_sqlite(engine)
        if done:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 1.0)


def scrub_deleted_secrets(
    settings: Settings, engine: Engine, *, within: float = SCRUB_WITHIN_SECONDS
) -> None:
    """Remove deleted credentials' bytes from the database's files; raise ScrubPendingError if not yet.

    Call after the transaction that deleted them committed. The marker is written first, so a crash
    mid-scrub is retried too.
    """
    marker = pending_scrub_marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{dt.datetime.now(dt.UTC).isoformat()}\n", encoding="ascii")
    if _scrub(engine, within):
        marker.unlink(missing_ok=True)
        return
    raise ScrubPendingError(
        "The stored key was deleted and can no longer be used, but its encrypted bytes are still in the "
        "database files because another transaction is reading them. usageledger removes them "
        "automatically when the next command, sync or disconnect starts; to do it now, close long-running "
        "database sessions (SQL consoles, backups) and run `usageledger status`."
    )


def scrub_soon(settings: Settings, engine: Engine, *, within: float = 2.0) -> bool:
    """Like `scrub_deleted_secrets`, for a deletion that has nothing else to report: True when the bytes are
    gone now; False when a reader holds them, and then the marker makes the next start finish the job."""
    try:
        scrub_deleted_secrets(settings, engine, within=within)
    except ScrubPendingError:
        return False
    return True


def resume_pending_scrub(settings: Settings, engine: Engine, *, within: float = 0.5) -> bool:
    """Retry a pending scrub, if any; True when none is pending any more. Never raises for a busy database."""
    marker = pending_scrub_marker(settings)
    if not marker.exists():
        return True
    try:
        done = _scrub(engine, within)
    except OperationalError:
        done = False
    if done:
        marker.unlink(missing_ok=True)
        log.info("a pending scrub of deleted credentials completed")
    else:
        log.warning("deleted credentials' bytes are still on disk; the scrub is retried later")
    return done
