"""`usageledger people import` (preview, --apply, bad files) and `people list`, run in process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from usageledger.cli import main

GOOD = "email,name,team,cost_center\nann@acme.io,Ann Lee,Platform,CC-1\nbob@acme.io,Bob Ray,Data,\n"


@pytest.fixture
def cli(monkeypatch, tmp_path, secret_key, capsys):
    monkeypatch.setenv("USAGELEDGER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USAGELEDGER_SECRET_KEY", secret_key)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _file(tmp_path, text: str, name: str = "people.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_import_previews_by_default_and_applies_with_apply(cli, tmp_path):
    path = _file(tmp_path, GOOD)
    code, out, _ = cli("people", "import", path)
    assert code == 0 and "2 to add" in out and "--apply" in out
    assert json.loads(cli("people", "list", "--format", "json")[1] or "[]") == []
    code, out, _ = cli("people", "import", path, "--apply")
    assert code == 0 and "Applied" in out
    listed = json.loads(cli("people", "list", "--format", "json")[1])
    assert [(p["email"], p["team"], p["cost_center"], p["source"]) for p in listed] == [
        ("ann@acme.io", "Platform", "CC-1", "csv"), ("bob@acme.io", "Data", "", "csv")]  # fmt: skip
    code, out, _ = cli("people", "import", path, "--apply")
    assert code == 0 and "Nothing to change" in out


def test_a_bad_file_exits_2_lists_every_bad_line_and_writes_nothing(cli, tmp_path):
    path = _file(tmp_path, GOOD + "nope,X,,\nann@acme.io,Again,,\n")
    code, _, err = cli("people", "import", path, "--apply")
    assert code == 2
    assert f"{path}:line 4: 'nope' is not an email address" in err
    assert f"{path}:line 5: ann@acme.io is already on line 2" in err
    assert "Nothing was imported" in err
    assert json.loads(cli("people", "list", "--format", "json")[1] or "[]") == []


def test_a_missing_file_is_a_clear_error(cli, tmp_path):
    code, _, err = cli("people", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "Cannot read" in err and "Traceback" not in err


def test_people_list_does_not_import_the_web_stack_or_scim(tmp_path, secret_key):
    """Like the query commands, `people list` starts without fastapi, starlette, jinja2 or scim2-models."""
    probe = "import json, sys\nfrom usageledger.cli import main\nmain(['people', 'list'])\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "USAGELEDGER_HOME": str(tmp_path / "home"), "USAGELEDGER_SECRET_KEY": secret_key,
           "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    modules = json.loads(done.stdout.splitlines()[-1])
    heavy = [
        m
        for m in modules
        if m.split(".")[0] in {"fastapi", "starlette", "jinja2", "scim2_models", "anthropic"}
    ]
    assert heavy == []


def test_the_preview_counts_team_cost_centers_to_set(cli, tmp_path):
    """A `team_cost_center` column sets the team's cost center: the preview says how many it sets."""
    path = _file(tmp_path, "email,name,team,team_cost_center\nann@acme.io,Ann,Platform,CC-9\n")
    code, out, _ = cli("people", "import", path)
    assert code == 0 and "1 team cost centers to set" in out
    code, out, _ = cli("people", "import", path, "--apply")
    assert code == 0 and "Applied" in out
    code, out, _ = cli("people", "import", path)
    assert code == 0 and "0 team cost centers to set" in out and "Nothing to change" in out
