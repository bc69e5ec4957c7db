"""The CLI's tables at 80 columns, money and counts formatted, --period, --columns, the organization column."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from usageledger.cli import render
from usageledger.cli.render import format_usd
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, FakeOrganizations, RunningFake, serve_in_thread

SECOND_KEY = "sk-ant-admin01-fake-test-key-second-org-0000000000000000"  # a fake key, served by the fake


@pytest.fixture
def running_fake(fake: FakeOrganization) -> Iterator[RunningFake]:
    """Two organizations behind one fake API: the first's key and a second one."""
    second = FakeOrganization(seed=12, rows_per_day=30, name="Globex Fake Labs", admin_key=SECOND_KEY)
    with serve_in_thread(FakeOrganizations(fake, second)) as running:
        yield running


@pytest.fixture
def terminal_80(monkeypatch) -> None:
    """The CLI's console as an 80-column terminal."""
    monkeypatch.setattr(render.console, "width", 80)


def _longest_line(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_status_fits_80_columns_with_ids_and_states_whole(cli, connected, terminal_80):
    """`status` at 80 columns: no line is longer, and the id, organization and state are whole."""
    result = cli("status")
    assert result.exit_code == 0, result.err
    assert _longest_line(result.out) <= 80
    row = next(line for line in result.out.splitlines() if line.strip().startswith(str(connected)))
    assert re.search(rf"^\s*{connected}\s+Acme Fake Robotics\s+connected\s", row)


def test_status_wide_shows_every_field_of_the_json(cli, connected, terminal_80):
    """`status --wide` has a column for every key `status --json` gives; `--json` is unchanged."""
    keys = list(cli("status", "--json").json()[0])
    assert "key_hint" in keys and "last_error" in keys
    wide = cli("status", "--wide").out
    words = set(wide.split())
    for key in keys:
        assert set(key.split("_")) <= words, key


def test_cost_with_no_options_is_a_summary_by_month_with_money_and_a_total(cli, connected, terminal_80):
    """`cost` alone: one row per month, amounts as `$1,234.56`, a Total row equal to the exact sum."""
    months = cli("cost", "--group-by", "month", "--format", "json").json()
    result = cli("cost")
    assert result.exit_code == 0, result.err
    assert _longest_line(result.out) <= 80
    table_rows = [line for line in result.out.splitlines() if re.match(r"^\s*\d{4}-\d{2}\s", line)]
    assert len(table_rows) == len(months) >= 2
    for line, month in zip(table_rows, months, strict=True):
        assert line.split()[0] == month["month"]
        assert format_usd(month["amount_usd"]) in line.split()
    total = sum(Decimal(m["amount_usd"]) for m in months)
    total_line = next(line for line in result.out.splitlines() if line.strip().startswith("Total"))
    assert format_usd(total) in total_line.split() and "100.0%" in total_line
    assert f"{len(months):,} rows" in result.out


def test_usage_table_never_cuts_a_digit_or_a_model_name(cli, connected, terminal_80):
    """`usage` at 80 columns: every model name, its cost beside its tokens, each whole and formatted."""
    rows = cli("usage", "--group-by", "month,model", "--format", "json").json()
    result = cli("usage")
    assert result.exit_code == 0, result.err
    assert _longest_line(result.out) <= 80
    cells = result.out.split()
    for row in rows:
        assert row["model"] is None or row["model"] in cells
        assert format_usd(row["amount_usd"]) in cells and f"{row['input_tokens']:,}" in cells


def test_columns_chooses_the_table_and_an_unknown_one_lists_the_valid(cli, connected):
    """`--columns` shows exactly the columns named; an unknown name is exit 2 with the valid names."""
    result = cli("usage", "--group-by", "model", "--columns", "model,requests")
    assert result.exit_code == 0, result.err
    header = next(line for line in result.out.splitlines() if "model" in line and "requests" in line)
    assert header.split() == ["model", "requests"]
    bad = cli("usage", "--columns", "model,colour")
    assert bad.exit_code == 2
    assert "colour" in bad.err and "cache_read_input_tokens" in bad.err and "Traceback" not in bad.err


def test_csv_keeps_exact_decimals_and_takes_columns(cli, connected):
    """`cost --format csv --columns` keeps the exact decimal strings of the JSON, in the columns named."""
    exact = cli("cost", "--group-by", "month", "--format", "json").json()
    result = cli("cost", "--group-by", "month", "--format", "csv", "--columns", "month,amount_usd")
    lines = result.out.splitlines()
    assert lines[0] == "month,amount_usd"
    assert lines[1:] == [f"{m['month']},{m['amount_usd']}" for m in exact]


def test_period_preset_equals_the_same_explicit_days(cli, connected):
    """`--period 7d` reads the same rows as --since (today - 6) --until today."""
    today = dt.datetime.now(dt.UTC).date()
    by_period = cli("usage", "--period", "7d", "--group-by", "date", "--format", "json").json()
    by_days = cli(
        "usage",
        "--since",
        str(today - dt.timedelta(days=6)),
        "--until",
        str(today),
        "--group-by",
        "date",
        "--format",
        "json",
    ).json()
    assert by_period == by_days and len(by_period) >= 6


@pytest.mark.parametrize(
    "args",
    [
        ("cost", "--since", "2026-05-02", "--until", "2026-05-01"),
        ("usage", "--period", "7d", "--since", "2026-05-01"),
        ("usage", "--period", "last-week"),
        ("cost", "--period", "2026-13"),
        ("cost", "--until", "2026-02-30"),
        ("cost", "--columns", ""),
        ("sync", "--since", "2026-05-02", "--until", "2026-05-01"),
        ("sync", "--period", "7d", "--until", "2026-05-01"),
    ],
)
def test_a_bad_range_is_a_clear_message_and_exit_2(cli, connected, args):
    """Reversed, mixed or invalid ranges: exit 2, a message on stderr, never a traceback."""
    result = cli(*args)
    assert result.exit_code == 2
    assert result.err.startswith("Error:") and "Traceback" not in result.err


def test_tables_mixing_organizations_have_an_organization_column(cli, connected, terminal_80):
    """With a second organization connected, usage and cost tables name each row's organization."""
    second = cli("connect", "anthropic", "--key-stdin", stdin=SECOND_KEY + "\n")
    assert second.exit_code == 0, second.err
    for command in (("cost",), ("usage", "--group-by", "model")):
        out = cli(*command).out
        assert "Acme Fake Robotics" in out and "Globex Fake Labs" in out, command
        assert _longest_line(out) <= 80
    one = cli("cost", "--connection", str(connected)).out
    assert "Globex Fake Labs" not in one and "organization" not in one
    assert "organization_id" not in cli("cost", "--format", "json").json()[0]  # JSON keeps the keys asked for


def test_first_key_was_the_first_organization(fake):
    """The fixture's first organization is the one FAKE_ADMIN_KEY reaches (the tests above rely on it)."""
    assert fake.keys.get(FAKE_ADMIN_KEY) == "admin" and fake.organization.name == "Acme Fake Robotics"


def test_tables_say_which_days_are_provisional(cli, connected, terminal_80):
    """A range that reaches the re-fetched days says from which day figures may still change; a past one does not."""
    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=2)  # the default lookback of 3 days: today and the 2 before it
    recent = cli("cost", "--period", "7d")
    assert recent.exit_code == 0, recent.err
    assert f"Days from {first} on are provisional" in recent.out
    settled = cli("cost", "--until", str(today - dt.timedelta(days=10)))
    assert settled.exit_code == 0, settled.err
    assert "provisional" not in settled.out


def test_events_json_carries_what_the_sync_measured(cli, connected, terminal_80):
    """`events --json` gives each event's details (a sync's calls and requests in flight) for scripts; the
    table keeps to its columns."""
    finished = cli("events", "--kind", "sync_finished", "--json").json()
    assert finished and finished[0]["details"]["api_calls"] > 0
    assert finished[0]["details"]["in_flight"]["peak"] >= 1
    table = cli("events", "--kind", "sync_finished")
    assert table.exit_code == 0 and "api_calls" not in table.out and "in_flight" not in table.out
