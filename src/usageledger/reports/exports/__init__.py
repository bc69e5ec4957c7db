"""Exports of the stored cost in formats other tools read: FOCUS 1.2 (CSV and Parquet)."""

from __future__ import annotations

from .focus import FOCUS_COLUMNS, FocusScope, StoredCost, iter_focus_rows, plan_focus_row
from .writers import FORMATS, focus_csv_cells, format_decimal, write_focus_csv, write_focus_parquet

__all__ = [
    "FOCUS_COLUMNS",
    "FORMATS",
    "FocusScope",
    "StoredCost",
    "focus_csv_cells",
    "format_decimal",
    "iter_focus_rows",
    "plan_focus_row",
    "write_focus_csv",
    "write_focus_parquet",
]
