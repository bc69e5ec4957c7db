"""Rendering for the terminal: Rich tables, JSON and CSV of the shared read models, progress bars."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["console", "err_console", "render_records", "sync_progress"]

# soft_wrap: messages stay on one line when piped, so scripts can grep them.
# Piped output gets a wide page rather than Rich's 80 columns, so tables stay readable in logs.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, soft_wrap=True)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_records(
    records: Sequence[dict[str, Any]],
    fmt: str,
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Print a list of flat dicts as a table, JSON (a list of objects) or CSV, in the given key order.

    `columns` narrows a table to the columns named (JSON and CSV always carry every key)."""
    if fmt == "json":
        sys.stdout.write(json.dumps(list(records), indent=2, default=str) + "\n")
        return
    keys = list(records[0].keys()) if records else []
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return
    if not records:
        console.print("[dim]No rows.[/dim]")
        return
    shown = [c for c in columns if c in records[0]] if columns else keys
    table = Table(title=title, show_lines=False)
    for column in shown:
        numeric = isinstance(records[0].get(column), int) or column.endswith("_usd")
        table.add_column(column, justify="right" if numeric else "left")
    for record in records:
        table.add_row(*(_cell(record.get(c)) for c in shown))
    console.print(table)


@contextmanager
def sync_progress(label: str) -> Iterator[Any]:
    """Yield a `progress(done, total)` callback; draws a bar only when stderr is a terminal."""
    if not err_console.is_terminal:
        yield None
        return
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
