"""Turning what happened during a sync into the integration event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from .. import store
from ..anthropic import RateLimitNotice
from ..errors import UsageLedgerError
from ..models import SkippedEndpoint

__all__ = [
    "note_directory_skipped",
    "record_error",
    "record_event",
    "record_grain_mismatch",
    "record_rate_limits",
]

# What each optional directory list brings, and what to do when it is refused.
_SKIPPED_MEANING = {
    "/v1/organizations/workspaces/{workspace_id}/members": (
        "who belongs to which workspace is not known",
        "use an Admin API key of an organization admin",
    ),
    "/v1/organizations/rbac_groups": (
        "RBAC group names are not known (the API offers RBAC groups to Claude Enterprise organizations only)",
        "nothing, unless this is an Enterprise organization: then use an Admin API key of an organization admin",
    ),
    "/v1/organizations/rbac_groups/{rbac_group_id}/members": (
        "who belongs to which RBAC group is not known",
        "use an Admin API key of an organization admin",
    ),
}


def record_event(
    conn: Connection, connection: store.ConnectionRow, kind: str, level: str, message: str, **extra: Any
) -> None:
    """An event in this connection's log (and its tenant's); `extra` is request_id and/or details."""
    store.add_event(
        conn,
        tenant_id=connection.tenant_id,
        connection_id=connection.id,
        kind=kind,
        level=level,
        message=message,
        **extra,
    )


def record_rate_limits(
    conn: Connection, connection: store.ConnectionRow, notices: list[RateLimitNotice]
) -> None:
    """One event per burst of 429s: how many, on which endpoint, how long the API asked us to wait."""
    by_path: dict[str, list[RateLimitNotice]] = {}
    for notice in notices:
        by_path.setdefault(notice.path, []).append(notice)
    for path, burst in by_path.items():
        waited = sum(n.retry_after or 0.0 for n in burst)
        record_event(
            conn,
            connection,
            "rate_limit",
            "warning",
            (
                f"Rate limited {len(burst)} time(s) on {path}; the API asked to wait {waited:.2f} s in all "
                "(retry-after honoured)."
            ),
            request_id=burst[-1].request_id,
            details={"count": len(burst), "retry_after_seconds": round(waited, 3), "path": path},
        )


def record_error(conn: Connection, connection: store.ConnectionRow, exc: BaseException) -> None:
    if isinstance(exc, UsageLedgerError):
        kind, message, request_id = exc.event_kind, exc.message, exc.request_id
    else:
        kind, message, request_id = "error", f"Sync stopped by {type(exc).__name__}.", None
    kind = {"error": "sync_failed"}.get(kind, kind)
    record_event(conn, connection, kind, "error", message, request_id=request_id)


def note_directory_skipped(
    conn: Connection, connection: store.ConnectionRow, skipped: list[SkippedEndpoint]
) -> None:
    """One event per sync naming every optional directory list the API refused; the sync goes on."""
    parts = []
    for skip in skipped:
        meaning, todo = _SKIPPED_MEANING.get(skip.path, ("that list is not known", "check the key's role"))
        answer = "403, not allowed for this key" if skip.status == 403 else "404, not offered here"
        parts.append(f"{skip.path} answered {answer}: {meaning}; to get it, {todo}")
    record_event(
        conn,
        connection,
        "directory_skipped",
        "info" if all(s.path.startswith("/v1/organizations/rbac_groups") for s in skipped) else "warning",
        "Optional directory lists were skipped and the sync went on. " + ". ".join(parts) + ". What was "
        "stored from an earlier sync that could read them is kept.",
        request_id=skipped[-1].request_id,
        details={"endpoints": [{"path": s.path, "status": s.status} for s in skipped]},
    )


def record_grain_mismatch(
    conn: Connection, connection: store.ConnectionRow, grain: str, said: str, problems: list[str], advice: str
) -> None:
    """A `mismatch` warning for days on which two grains disagree: `said` names them, the first five days
    are listed (and how many more), then `advice` on what to do."""
    listed = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    record_event(
        conn,
        connection,
        "mismatch",
        "warning",
        f"{said}: {listed}. Both were stored as reported; {advice}",
        details={"grain": grain, "days": len(problems)},
    )
