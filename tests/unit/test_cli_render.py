"""Terminal rendering: money as money, tables that never cut a word or a digit, columns that fit."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from rich.console import Console

from usageledger.cli import render
from usageledger.cli.columns import PCT_OF_TOTAL, add_share_of_total, choose_columns, parse_columns
from usageledger.cli.render import fits, format_cell, format_usd, print_table, records_table
from usageledger.errors import UsageError


@pytest.fixture
def terminal(monkeypatch):
    """The CLI's console as a terminal of a given width; returns a function reading what was printed."""

    def at(width: int) -> io.StringIO:
        out = io.StringIO()
        monkeypatch.setattr(render, "console", Console(file=out, width=width, soft_wrap=True))
        return out

    return at


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("54619.03986927", "$54,619.04"),
        ("0.00500000", "$0.00"),  # half-even: half a cent rounds to the even cent
        ("0.01500000", "$0.02"),
        (Decimal("-3.1"), "-$3.10"),
        ("1234567.5", "$1,234,567.50"),
    ],
)
def test_money_is_shown_in_dollars_and_cents(amount, shown):
    """Amounts read `$54,619.04`, never `54619.03986927`."""
    assert format_usd(amount) == shown


def test_counts_get_thousands_separators_and_missing_values_a_dash():
    """Counts read `45,708`; a missing value is `—`, a share `12.5%`."""
    assert format_cell("requests", 45708) == "45,708"
    assert format_cell("requests", None) == "—"
    assert format_cell(PCT_OF_TOTAL, "12.5") == "12.5%"
    assert format_cell("amount_usd", "10") == "$10.00"


def _table(names: list[str]) -> object:
    records = [
        {"model": name, "workspace_name": "A Rather Long Workspace Name", "input_tokens": 1_234_567_890}
        for name in names
    ]
    return records_table(records, ["model", "workspace_name", "input_tokens"], title="Usage")


def test_a_narrow_terminal_wraps_names_at_spaces_and_keeps_numbers_whole(terminal):
    """At 60 columns the workspace wraps between words; model names and numbers stay whole."""
    out = terminal(60)
    print_table(_table(["claude-sonnet-4-5-20250929", "claude-haiku-4-5"]))
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 60
    words = text.split()
    assert "claude-sonnet-4-5-20250929" in words and "1,234,567,890" in words
    assert "Workspace" in words and "Rather" in words


def test_a_table_that_cannot_fit_is_printed_wider_rather_than_cut(terminal):
    """When even the narrowest whole table is wider than the terminal, nothing is folded or clipped."""
    out = terminal(30)
    table = _table(["claude-sonnet-4-5-20250929"])
    assert not fits(table)
    print_table(table)
    words = out.getvalue().split()
    assert "claude-sonnet-4-5-20250929" in words and "1,234,567,890" in words


def test_default_columns_are_the_group_fields_then_metrics_that_fit(terminal):
    """The default keeps the group fields, puts money first when the rows carry it, and stops at the width."""
    terminal(80)
    keys = ["month", "model", "input_tokens", "output_tokens", "cache_read_input_tokens", "requests"]
    keys_with_cost = [*keys, "amount_usd", PCT_OF_TOTAL]
    records = [
        {k: 123_456_789_012 for k in keys_with_cost}
        | {"month": "2026-05", "model": "claude-opus-4-5"}
        | {"amount_usd": "54619.03986927", PCT_OF_TOTAL: "100.0"}
    ]

    def build(columns):
        return records_table(records, columns)

    chosen = choose_columns(keys_with_cost, build, fits)
    assert chosen[:4] == ["month", "model", "amount_usd", PCT_OF_TOTAL]
    assert fits(build(chosen)) and not fits(build([*chosen, "requests", "cache_read_input_tokens"]))
    assert choose_columns(keys, build, fits)[:3] == ["month", "model", "input_tokens"]


def test_names_replace_ids_in_the_default_columns(terminal):
    """A workspace shows by name when the report carries the name beside the id."""
    terminal(120)
    keys = ["date", "workspace_id", "workspace_name", "input_tokens"]
    record = {"date": "2026-05-01", "workspace_id": "wrkspc_01", "workspace_name": "Prod", "input_tokens": 1}
    assert choose_columns(keys, lambda c: records_table([record], c), fits) == [
        "date",
        "workspace_name",
        "input_tokens",
    ]


def test_columns_option_lists_the_valid_columns_when_one_is_unknown():
    """`--columns model,colour` is a UsageError that names the unknown column and every valid one."""
    assert parse_columns(" model , requests", ["model", "requests"]) == ["model", "requests"]
    with pytest.raises(UsageError, match=r"model, requests; unknown: colour"):
        parse_columns("model,colour", ["model", "requests"])


def test_share_of_total_is_exact_and_shown_with_one_decimal():
    """Each cost row's share, by the read model's rule (exact percent string), shown with one decimal."""
    records = [{"amount_usd": "1.00000000"}, {"amount_usd": "2.00000000"}]
    add_share_of_total(records, "3.00000000")
    assert [r[PCT_OF_TOTAL] for r in records] == ["33.333333", "66.666667"]
    assert [format_cell(PCT_OF_TOTAL, r[PCT_OF_TOTAL]) for r in records] == ["33.3%", "66.7%"]


def test_share_of_nothing_is_left_empty():
    """A period that cost nothing has no shares (not 0 %, not a division error)."""
    records = [{"amount_usd": "0E-8"}]
    add_share_of_total(records, "0.00000000")
    assert records[0][PCT_OF_TOTAL] is None and format_cell(PCT_OF_TOTAL, None) == "—"
