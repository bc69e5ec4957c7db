"""Days the query and export commands refuse, each with what to type instead (exit 2, never a traceback)."""

from __future__ import annotations

import pytest

from usageledger.cli import main


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["usage", "--until", "9999-12-31"],
            "9999-12-31 is out of range: name days from 2000-01-01 to 2999-12-31",
        ),
        (
            ["cost", "--since", "2000-01-01", "--until", "2999-12-31"],
            "spans 365,243 days; pick at most 3,660",
        ),
        (["usage", "--since", "2026-05-02", "--until", "2026-05-01"], "swap the two days"),
        (["usage", "--period", "9999-12"], "9999-12-01 is out of range"),
        (["export", "focus", "--since", "0001-01-01"], "0001-01-01 is out of range"),
    ],
)
def test_days_out_of_range_are_exit_2_with_what_to_type(tmp_path, monkeypatch, capsys, argv, said):
    monkeypatch.setenv("USAGELEDGER_HOME", str(tmp_path))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert said in " ".join(captured.err.split())
    assert "Traceback" not in captured.err
