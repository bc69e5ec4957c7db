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


def test_a_connection_closed_under_a_command_is_exit_9_too(tmp_path, monkeypatch, capsys):
    """psycopg's InterfaceError (the connection was closed under us: a server restart, a proxy's idle
    timeout) says the database cannot be used now, as an OperationalError does: exit 9, not a traceback."""
    import psycopg
    from sqlalchemy.exc import InterfaceError

    import usageledger.cli.queries

    monkeypatch.setenv("USAGELEDGER_HOME", str(tmp_path))

    def closed(*_args, **_kwargs):
        raise InterfaceError(
            "SELECT secret_parameter", {"p": "sealed"}, psycopg.InterfaceError("the connection is closed")
        )

    monkeypatch.setattr(usageledger.cli.queries, "status_report", closed)
    assert main(["status"]) == 9
    captured = capsys.readouterr()
    said = " ".join(captured.err.split())
    assert "The database could not be used: the connection is closed." in said
    assert "Traceback" not in captured.err and "secret_parameter" not in captured.err + captured.out
