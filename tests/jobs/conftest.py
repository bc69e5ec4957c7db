"""Fixtures of the job-queue tests: a fresh PostgreSQL database, several fake organizations behind one
served fake, the CLI pointed at both, and `usageledger worker` processes to start and kill."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import CliResult
from usageledger.cli import main
from usageledger.fake import FakeOrganization, FakeOrganizations, RunningFake, serve_in_thread

ORGANIZATIONS = 6
ROWS_PER_DAY = 12
BACKFILL_DAYS = 45  # two windows: a worker killed after the first one committed leaves a resumable cursor
RUN_CLI = "import sys; from usageledger.cli import main; sys.exit(main(sys.argv[1:]))"
# Workers that notice a dead peer within seconds and retry at once: the production defaults, shortened.
FAST_WORKER = (
    "--heartbeat", "0.5", "--stalled-after", "2", "--retry-wait", "0", "--recovery-cron", "* * * * * *",
)  # fmt: skip


def org_key(index: int) -> str:
    return f"sk-ant-admin01-fake-jobs-org-{index:02d}-{'0' * 28}"


@pytest.fixture
def postgres_url(postgres_problem) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards (these tests need PostgreSQL: no SQLite twin)."""
    with fresh_postgres_database("ul_jobs", postgres_problem) as url:
        yield url


@pytest.fixture
def organizations() -> list[FakeOrganization]:
    return [
        FakeOrganization(seed=300 + i, rows_per_day=ROWS_PER_DAY, name=f"Jobs Org {i}", admin_key=org_key(i))
        for i in range(ORGANIZATIONS)
    ]


@pytest.fixture
def served(organizations) -> Iterator[RunningFake]:
    with serve_in_thread(FakeOrganizations(*organizations)) as running:
        yield running


@pytest.fixture
def env(monkeypatch, tmp_path, postgres_url, served, secret_key) -> dict[str, str]:
    values = {
        "USAGELEDGER_HOME": str(tmp_path / "home"),
        "USAGELEDGER_DATABASE_URL": postgres_url,
        "USAGELEDGER_ANTHROPIC_BASE_URL": served.url,
        "USAGELEDGER_SECRET_KEY": secret_key,
        "USAGELEDGER_BACKFILL_DAYS": str(BACKFILL_DAYS),
        "USAGELEDGER_MAX_RETRIES": "1",  # injected faults outlast the SDK's retries: the queue retries
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def cli(env, capsys, monkeypatch) -> Callable[..., CliResult]:
    """Run `usageledger ARGS…` in-process; `stdin` feeds --key-stdin."""

    def run(*args: str, stdin: str | None = None) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def engine(env) -> Iterator[Engine]:
    engine = create_engine(env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def connections(cli, organizations) -> list[int]:
    """Every fake organization connected without its first sync (the workers run it); their ids."""
    ids = []
    for i in range(len(organizations)):
        result = cli(
            "connect", "anthropic", "--no-sync", "--name", f"Jobs Org {i}", "--key-stdin", stdin=org_key(i)
        )
        assert result.exit_code == 0, result.err
        ids.append(int(result.out.strip().splitlines()[-1]))
    return ids


@dataclass
class Workers:
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]]

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUN_CLI, "worker", *args],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.processes.append(proc)
        return proc


@pytest.fixture
def workers(env) -> Iterator[Workers]:
    """Start `usageledger worker` processes; each is stopped (SIGTERM, then SIGKILL) at the end."""
    started = Workers(env, [])
    yield started
    for proc in started.processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in started.processes:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()
