"""CSV exports, streamed: the whole result of any range, in bounded memory.

Each export holds its own database connection for the life of its response and reads the query
with a streaming cursor, a chunk of rows at a time, writing each chunk out before reading the next.
The connection is closed when the export ends, fails, or the client goes away mid-download.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator
from decimal import Decimal
from typing import Any

import anyio
from sqlalchemy import Connection, Engine
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from usageledger.reports.usage import UsageRow, iter_usage
from usageledger.store import get_connection
from usageledger.web.params import UsageParams
from usageledger.web.views import csv_header

__all__ = ["CHUNK_ROWS", "CsvStream", "csv_cell", "csv_response", "open_usage_csv"]

CHUNK_ROWS = 1_000
# A leading one of these makes a spreadsheet read a cell as a formula (or, for tab and CR, hides it).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_DECIMAL_KEYS = ("amount_usd", "list_amount_usd", "cost_share")


def csv_cell(value: Any) -> Any:
    """Empty for None; text a spreadsheet would run as a formula gets a leading apostrophe.

    Only text is guarded: numbers (a negative one too) are written as numbers, Decimals in plain
    notation (0.00000002, not 2E-8).
    """
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class CsvStream(Iterator[str]):
    """The CSV text of a query, chunk by chunk; owns its connection until exhausted or closed."""

    def __init__(self, conn: Connection, chunks: Iterator[list[UsageRow]], columns: list[str]) -> None:
        self._conn = conn
        self._parts = self._render(chunks, columns)

    def __next__(self) -> str:
        try:
            return next(self._parts)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop reading and give the connection back (safe to call more than once)."""
        self._parts.close()
        self._conn.close()

    @staticmethod
    def _render(chunks: Iterator[list[UsageRow]], columns: list[str]) -> Generator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for rows in chunks:
            for row in rows:
                values = row.as_json(names=True)  # money and shares rounded to their JSON places ...
                for key in _DECIMAL_KEYS:  # ... and numbers again, so the formula guard leaves a minus alone
                    if values.get(key) is not None:
                        values[key] = Decimal(values[key])
                writer.writerow([csv_cell(values.get(column)) for column in columns])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()


def open_usage_csv(
    engine: Engine, tenant_id: int, params: UsageParams, chunk_rows: int = CHUNK_ROWS
) -> CsvStream:
    """The usage table as CSV (same filters, grouping, sort and columns), every row of it.

    Checked before it returns (another workspace's connection is NotFoundError, a bad sort UsageError),
    so a route can still answer with an error instead of a broken download.
    """
    conn = engine.connect()
    try:
        if params.connection_id is not None:
            get_connection(conn, params.connection_id, tenant_id)
        query = params.to_query(tenant_id, limit=None, offset=0)
        return CsvStream(conn, iter_usage(conn, query, chunk_rows), csv_header(params.group_by))
    except BaseException:
        conn.close()
        raise


class _ClosingStreamingResponse(StreamingResponse):
    """Closes its stream once the response is over, whether it ended, failed or the client left."""

    def __init__(self, stream: CsvStream, filename: str) -> None:
        super().__init__(
            stream,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # The body was read in worker threads; a read in progress has finished by now (anyio waits
            # for it before delivering a cancellation), so closing cannot race it.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._stream.close)


def csv_response(stream: CsvStream, filename: str) -> StreamingResponse:
    """A download of `stream`, written to the client as it is read."""
    return _ClosingStreamingResponse(stream, filename)
