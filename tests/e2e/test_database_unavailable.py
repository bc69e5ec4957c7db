"""A database that cannot be used ends a command with exit 9 and a message, never a traceback or a secret."""

from __future__ import annotations

import pytest

from usageledger.cli import main

PASSWORD = "pw-never-shown-7f3a"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"postgresql://ledger:{PASSWORD}@127.0.0.1:1/ledger", "Connection refused"),
        ("sqlite:///{home}", "unable to open database file"),  # a folder where the file should be
    ],
    ids=["postgresql-down", "sqlite-unopenable"],
)
def test_a_database_that_cannot_be_opened_is_exit_9_with_what_to_do(
    tmp_path, monkeypatch, capsys, url, reason
):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("USAGELEDGER_HOME", str(home))
    monkeypatch.setenv("USAGELEDGER_DATABASE_URL", url.format(home=home))
    assert main(["status"]) == 9
    captured = capsys.readouterr()
    said = " ".join(captured.err.split())  # the console wraps long lines
    assert "The database could not be used: " in said and reason in said
    assert "USAGELEDGER_DATABASE_URL" in said and "run the command again" in said
    assert "Traceback" not in captured.err and PASSWORD not in captured.err + captured.out
