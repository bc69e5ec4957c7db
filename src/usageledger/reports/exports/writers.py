"""Writers of FOCUS rows: CSV (stdlib, streamed) and Parquet (pyarrow, in row groups).

Both consume an iterator and hold at most one row group, so memory is bounded by `row_group_rows`, not by
the period. Decimals keep their exact value: in CSV always written with a decimal point (a reader that
infers types would otherwise read `1207000` as an integer), in Parquet as `decimal128`. Timestamps are full
UTC instants (`2026-10-01T00:00:00Z`), never a bare date.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from .focus import DECIMAL_COLUMNS, FOCUS_COLUMNS, INTEGER_COLUMNS, TIMESTAMP_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMATS", "focus_csv_cells", "format_decimal", "write_focus_csv", "write_focus_parquet"]

FORMATS = ("csv", "parquet")
# Parquet decimals: 38 digits, of which this many after the point. Costs are exact at 8 places (micro-cents);
# unit prices are rounded to 10; quantities of millions of tokens need 6.
_DECIMAL_SCALE = 10
Progress = Callable[[int], None]


def format_decimal(value: Decimal) -> str:
    """A decimal as plain digits that always contain a point: `1207000.0`, `0.00000005`, never `5E-8`."""
    text = format(value, "f")
    return text if "." in text else f"{text}.0"


def _csv_value(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column in DECIMAL_COLUMNS:
        return format_decimal(value)
    if column in TIMESTAMP_COLUMNS:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def focus_csv_cells(row: dict[str, Any]) -> list[Any]:
    """One FOCUS row as CSV cells, in `FOCUS_COLUMNS` order."""
    return [_csv_value(c, row[c]) for c in FOCUS_COLUMNS]


def write_focus_csv(
    rows: Iterable[dict[str, Any]], out: IO[str], *, progress: Progress | None = None, every: int = 10_000
) -> int:
    """Write the header and every row to `out`; returns the rows written. `progress(n)` every `every` rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FOCUS_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(focus_csv_cells(row))
        count += 1
        if progress is not None and count % every == 0:
            progress(count)
    return count


def _schema() -> pa.Schema:
    import pyarrow as pa

    def kind(column: str) -> pa.DataType:
        if column in DECIMAL_COLUMNS:
            return pa.decimal128(38, _DECIMAL_SCALE)
        if column in TIMESTAMP_COLUMNS:
            return pa.timestamp("us", tz="UTC")
        if column in INTEGER_COLUMNS:
            return pa.int64()
        return pa.string()

    return pa.schema([(c, kind(c)) for c in FOCUS_COLUMNS])


def write_focus_parquet(
    rows: Iterable[dict[str, Any]],
    path: str,
    *,
    row_group_rows: int = 50_000,
    progress: Progress | None = None,
) -> int:
    """Write every row to a Parquet file at `path`, `row_group_rows` rows a row group; returns the rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema()
    count = 0
    columns: dict[str, list[Any]] = {c: [] for c in FOCUS_COLUMNS}

    def flush(writer: pq.ParquetWriter) -> None:
        writer.write_table(pa.Table.from_pydict(columns, schema=schema))
        for values in columns.values():
            values.clear()

    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for row in rows:
            for c in FOCUS_COLUMNS:
                columns[c].append(row[c])
            count += 1
            if count % row_group_rows == 0:
                flush(writer)
                if progress is not None:
                    progress(count)
        if count % row_group_rows or count == 0:
            flush(writer)
    return count
