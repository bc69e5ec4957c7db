"""`GET /api/v1/exports/focus`: the period's stored cost as a FinOps FOCUS 1.2 download (CSV or Parquet).

CSV is streamed: the rows are read a day at a time on a connection the response owns until it ends, and
written out a chunk at a time. Parquet ends with a footer written after the last row, so it is built in a
temporary file (bounded memory: one row group) and sent from there, then deleted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Connection
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from usageledger.errors import UsageError
from usageledger.reports.exports import (
    FOCUS_COLUMNS,
    FORMATS,
    FocusScope,
    focus_csv_cells,
    iter_focus_rows,
    write_focus_parquet,
)
from usageledger.reports.periods import Period, resolve_period
from usageledger.web.deps import ApiUser, ServicesDep
from usageledger.web.schemas import ErrorOut

__all__ = ["router"]

_CHUNK_ROWS = 2_000
_ERRORS = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "Bad period, format or organization",
        401: "Not signed in / bad token",
    }.items()
}
router = APIRouter(prefix="/api/v1", tags=["exports"], responses=_ERRORS)  # type: ignore[arg-type]


def _day(text: str, name: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{name} takes a day as YYYY-MM-DD, not {text!r}.") from None


def _csv_chunks(conn: Connection, scope: FocusScope) -> Iterator[str]:
    """The CSV text, `_CHUNK_ROWS` rows at a time; closes the connection when done, failed or abandoned."""
    try:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FOCUS_COLUMNS)
        for count, row in enumerate(iter_focus_rows(conn, scope), 1):
            writer.writerow(focus_csv_cells(row))
            if count % _CHUNK_ROWS == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()
    finally:
        conn.close()


def _filename(period: Period, fmt: str) -> str:
    return f"focus-{period.start}-to-{period.last_day}.{fmt}"


@router.get("/exports/focus", summary="The period's cost as FinOps FOCUS 1.2 (CSV or Parquet)")
def export_focus(
    user: ApiUser,
    services: ServicesDep,
    period: Annotated[str, Query(max_length=20, description="A preset or a month YYYY-MM")] = "last-month",
    since: Annotated[str, Query(max_length=20, description="First day, inclusive (YYYY-MM-DD, UTC).")] = "",
    until: Annotated[str, Query(max_length=20, description="Last day, inclusive (YYYY-MM-DD, UTC).")] = "",
    format: Annotated[str, Query(max_length=10, description="csv or parquet")] = "csv",  # noqa: A002
    organization: Annotated[str, Query(max_length=200, description="Only this organization id.")] = "",
) -> Response:
    """One row per day × stored cost row (model × cost type × token type); passes the FinOps validator."""
    if format not in FORMATS:
        raise UsageError(f"format takes {' or '.join(FORMATS)}; not {format!r}.")
    chosen = resolve_period(
        period, _day(since, "since"), _day(until, "until"), today=dt.datetime.now(dt.UTC).date()
    )
    scope = FocusScope(user.tenant_id, chosen, organization or None)
    disposition = {"Content-Disposition": f'attachment; filename="{_filename(chosen, format)}"'}
    if format == "parquet":
        fd, path = tempfile.mkstemp(suffix=".parquet")
        os.close(fd)
        try:
            with services.engine.connect() as conn:
                scope.connection_ids(conn)  # a bad organization is a 400, not a broken download
                write_focus_parquet(iter_focus_rows(conn, scope), path)
        except BaseException:
            os.unlink(path)
            raise
        return FileResponse(path, media_type="application/vnd.apache.parquet", headers=disposition,
                            background=BackgroundTask(os.unlink, path))  # fmt: skip
    conn = services.engine.connect()
    try:
        scope.connection_ids(conn)
    except BaseException:
        conn.close()
        raise
    return StreamingResponse(
        _csv_chunks(conn, scope), media_type="text/csv; charset=utf-8", headers=disposition
    )
