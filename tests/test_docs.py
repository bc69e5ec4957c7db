"""Docs that cannot rot: every command and every setting is in the README."""

from __future__ import annotations

from pathlib import Path

import typer

from usageledger.cli import app
from usageledger.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


def _command_paths(command: object, prefix: str = "usageledger") -> list[str]:
    if hasattr(command, "commands"):  # a group (Typer vendors its own click)
        paths = []
        for name, sub in command.commands.items():
            paths += _command_paths(sub, f"{prefix} {name}")
        return paths
    return [prefix]


def test_every_cli_command_is_in_the_readme():
    paths = _command_paths(typer.main.get_command(app))
    assert len(paths) >= 11
    missing = [p for p in paths if f"`{p}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme():
    missing = [
        f"USAGELEDGER_{name.upper()}"
        for name in Settings.names()
        if f"USAGELEDGER_{name.upper()}" not in README
    ]
    assert missing == []


def test_the_readme_first_screen_gives_the_two_commands():
    first_screen = "\n".join(README.splitlines()[:20])
    assert "make demo" in first_screen and "make test" in first_screen
