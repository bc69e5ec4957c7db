"""Rendering for the terminal: Rich tables, JSON and CSV of the shared read models, progress bars.

Tables never cut a digit or a name: text folds inside its column, numbers and money keep their width,
and a table whose narrowest form is still wider than the terminal is printed at that width (the
terminal wraps it) rather than clipped. Choosing fewer columns is the caller's job (see `columns.py`).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from .columns import PCT_OF_TOTAL

__all__ = [
    "console",
    "err_console",
    "fits",
    "format_cell",
    "format_usd",
    "is_numeric",
    "minimum_width",
    "print_table",
    "records_table",
    "render_records",
    "sync_progress",
]

# soft_wrap: messages stay on one line when piped, so scripts can grep them.
# Piped output gets a wide page rather than Rich's 80 columns, so tables stay readable in logs;
# COLUMNS, when set, wins (as it does for Rich in a terminal).
_PIPED_WIDTH = 200
console = Console(
    soft_wrap=True, width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else _PIPED_WIDTH
)
err_console = Console(stderr=True, soft_wrap=True)

_CENT = Decimal("0.01")
_UNBOUNDED = 10_000
_PROBE_WIDTH = 8


def format_usd(amount: Decimal | str) -> str:
    """Money as people read it: `$54,619.04`, `-$3.10` (rounded half-even to the cent for display only)."""
    value = Decimal(amount).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def is_numeric(column: str, sample: Any) -> bool:
    """Right-aligned and never wrapped: counts, money and shares."""
    return isinstance(sample, int | Decimal) or column.endswith("_usd") or column == PCT_OF_TOTAL


def format_cell(column: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column.endswith("_usd"):
        try:
            return format_usd(value)
        except (InvalidOperation, ValueError):
            return str(value)
    if column == PCT_OF_TOTAL:  # exact in JSON and CSV; one decimal is enough to read
        return f"{Decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _header(column: str) -> str:
    # Spaces let a long header wrap over two lines instead of widening its column.
    return column.replace("_", " ")


def records_table(
    records: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    caption: str | None = None,
    total: dict[str, Any] | None = None,
    cells: dict[str, list[Text]] | None = None,
) -> Table:
    """A Rich table of `records` showing `columns`; `total`, when given, is a last row under a rule.

    `cells` caches each column's formatted cells: callers that build several tables of the same
    records (to find the columns that fit) pass one dict and format each cell once."""
    cells = {} if cells is None else cells
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in columns:
        sample = next((r.get(column) for r in records if r.get(column) is not None), None)
        if is_numeric(column, sample):
            table.add_column(_header(column), justify="right", no_wrap=True, overflow="fold")
        else:
            table.add_column(_header(column), justify="left", overflow="fold")
    for column in columns:
        if column not in cells:
            # Text, not str: a value is never read as Rich markup or emoji codes (and is not parsed twice).
            cells[column] = [Text(format_cell(column, record.get(column))) for record in records]
    for i in range(len(records)):
        table.add_row(*(cells[column][i] for column in columns))
    if total is not None:
        table.add_section()
        table.add_row(
            *(Text(format_cell(c, total.get(c)) if c in total else "") for c in columns), style="bold"
        )
    return table


def _column_ranges(table: Table) -> list[tuple[int, int]]:
    """(narrowest, widest) content width of each column: its longest word, its longest line."""
    ranges = []
    for column in table.columns:
        texts = [str(column.header), *(str(cell) for cell in column.cells)]
        lines = [line for text in texts for line in text.splitlines() or [""]]
        widest = max(cell_len(line) for line in lines)
        narrowest = (
            widest if column.no_wrap else max(cell_len(w) for line in lines for w in line.split() or [""])
        )
        ranges.append((narrowest, widest))
    return ranges


def _overhead(table: Table) -> int:
    """Borders and padding: what Rich adds to the columns' content (the same with or without rows)."""
    return _overhead_of(
        table.box, table.padding, table.pad_edge, table.collapse_padding, table.show_edge, len(table.columns)
    )


@lru_cache(maxsize=64)
def _overhead_of(
    box: box.Box | None,
    padding: tuple[int, int, int, int],
    pad_edge: bool,
    collapse_padding: bool,
    show_edge: bool,
    columns: int,
) -> int:
    # Cached: choosing the default columns asks this for every candidate table (a Rich measurement each).
    probe = Table(
        box=box, padding=padding, pad_edge=pad_edge, collapse_padding=collapse_padding, show_edge=show_edge
    )
    for _ in range(columns):
        probe.add_column("x" * _PROBE_WIDTH, no_wrap=True)
    # Measured on the widest form, where Rich's idea of a column's width and ours agree.
    measured = Measurement.get(console, console.options.update_width(_UNBOUNDED), probe).maximum
    return measured - _PROBE_WIDTH * columns


def minimum_width(table: Table) -> int:
    """The narrowest this table can be drawn without cutting a word or a number."""
    return sum(narrowest for narrowest, _ in _column_ranges(table)) + _overhead(table)


def fits(table: Table) -> bool:
    """Whether the table can be drawn at the console's width with nothing cut."""
    return minimum_width(table) <= console.width


def _allot_widths(ranges: list[tuple[int, int]], room: int) -> list[int]:
    """Column widths within `room`: every column its longest word, then the spare room to the columns
    closest to fitting on one line (so short names stop wrapping first), the rest shared out."""
    widths = [narrowest for narrowest, _ in ranges]
    spare = room - sum(widths)
    for i in sorted(range(len(ranges)), key=lambda i: ranges[i][1] - ranges[i][0]):
        grow = min(ranges[i][1] - widths[i], max(spare, 0))
        widths[i] += grow
        spare -= grow
    return widths


def print_table(table: Table) -> None:
    """Print within the console's width with no word or number cut; wider only if it cannot fit.

    Rich shrinks wrappable columns below their longest word when space is short (and folds the word),
    so when a table is wider than the console its column widths are decided here instead."""
    ranges = _column_ranges(table)
    overhead = _overhead(table)
    if sum(widest for _, widest in ranges) + overhead > console.width:
        room = max(console.width - overhead, sum(narrowest for narrowest, _ in ranges))
        widths = _allot_widths(ranges, room)
        table.width = room + overhead  # wider than the console only when nothing narrower is whole
    else:
        # Each column as wide as its widest line, which Rich would measure again cell by cell.
        widths = [widest for _, widest in ranges]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    console.print(table, crop=False)


def render_records(
    records: Sequence[dict[str, Any]],
    fmt: str,
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Print a list of flat dicts as a table, JSON (a list of objects) or CSV, in the given key order.

    `columns` narrows the output to the keys named (all formats); by default every key is shown."""
    keys = list(columns) if columns else (list(records[0].keys()) if records else [])
    if columns:
        records = [{k: r.get(k) for k in keys} for r in records]
    if fmt == "json":
        sys.stdout.write(json.dumps(list(records), indent=2, default=str) + "\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return
    if not records:
        console.print("[dim]No rows.[/dim]")
        return
    print_table(records_table(records, keys, title=title))


@contextmanager
def sync_progress(label: str) -> Iterator[Any]:
    """Yield a `progress(done, total)` callback; draws a bar only when stderr is a terminal."""
    if not err_console.is_terminal:
        yield None
        return
    # Imported here: only a sync draws a bar, and the query commands should not pay for it at start.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
