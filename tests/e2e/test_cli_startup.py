"""What the query commands load at start: not the Anthropic SDK, the web stack, the fake, Alembic,
pydantic-settings, cryptography, SQLAlchemy's ORM or another database's dialect.

No timings here (they belong to `bench/bench_cli.py`): each name below was measured there as a cost of
the start, and these tests keep it from coming back through a new top-level import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Run the command in a fresh interpreter (this one imported everything already), then list what loaded.
_PROBE = """
import json, sys
from usageledger.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
NOT_FOR_QUERIES = (
    "anthropic",
    "httpx",
    "uvicorn",
    "fastapi",
    "starlette",
    "jinja2",
    "usageledger.fake",
    "usageledger.sync",
    "usageledger.web",
    # Settings are a dataclass (config.py); pydantic-settings cost ~55 ms of each start.
    "pydantic_settings",
    # Typer 0.29 builds a pydantic TypeAdapter per parameter (~60 ms); constraints pin 0.28.0, which does not.
    "pydantic",
    # The allocation and overview read models: only their own commands and pages need them (~40 ms).
    "usageledger.reports.allocation",
    "usageledger.reports.overview",
    # Only sealing or opening a stored key needs it; queries read no key (~10 ms).
    "cryptography",
    # The store and the reports speak SQLAlchemy Core; the ORM would add ~60 ms.
    "sqlalchemy.orm",
    "sqlalchemy.ext",
    # Progress bars belong to a sync; tracebacks are never shown (pretty_exceptions_enable=False).
    "rich.progress",
    "rich.traceback",
)
# The other database's dialect (~20 ms): an upsert imports its dialect's INSERT when it runs.
OTHER_DIALECT = {"sqlite": "sqlalchemy.dialects.postgresql", "postgresql": "sqlalchemy.dialects.sqlite"}


def _loaded_by(env: dict[str, str], *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["code"] == 0
    return report["modules"]


def _heavy(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == r or m.startswith(r + ".") for r in roots)]


@pytest.mark.parametrize("command", [("status",), ("usage",), ("cost",), ("cost", "--format", "json")])
def test_query_commands_do_not_import_the_sdk_or_the_web_stack(connected, cli_env, command):
    """`status`, `usage` and `cost` run without importing anthropic, httpx, the web app or the fake."""
    env = {**os.environ, **cli_env, "PYTHONPATH": os.pathsep.join(sys.path)}
    assert _heavy(_loaded_by(env, *command), NOT_FOR_QUERIES) == []


@pytest.mark.parametrize("command", [("status",), ("usage",), ("cost",)])
def test_query_commands_load_only_their_own_database_dialect(connected, cli_env, command):
    """On SQLite the PostgreSQL dialect stays unloaded, and the other way round."""
    env = {**os.environ, **cli_env, "PYTHONPATH": os.pathsep.join(sys.path)}
    backend = "postgresql" if cli_env["USAGELEDGER_DATABASE_URL"].startswith("postgresql") else "sqlite"
    modules = _loaded_by(env, *command)
    assert f"sqlalchemy.dialects.{backend}" in modules  # the probe saw the command's own database
    assert _heavy(modules, (OTHER_DIALECT[backend],)) == []


def test_a_current_schema_is_not_checked_with_alembic(connected, cli_env):
    """Once the database is migrated, a query command does not import Alembic at all."""
    env = {**os.environ, **cli_env, "PYTHONPATH": os.pathsep.join(sys.path)}
    assert _heavy(_loaded_by(env, "status"), ("alembic", "mako")) == []


def test_importing_the_cli_package_loads_no_command_yet():
    """`main()` raises the collector's thresholds before importing the commands, so the package is light."""
    probe = "import json, sys, usageledger.cli; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout)
    assert "usageledger.cli" in modules
    assert _heavy(modules, ("typer", "rich", "sqlalchemy", "pydantic", "usageledger.store")) == []
