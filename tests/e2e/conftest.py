"""End-to-end fixtures: the fake Admin API on loopback and the real CLI pointed at it."""

from __future__ import annotations

import io
import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest

from usageledger.cli import main
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, RunningFake, serve_in_thread

# Small enough to backfill in a second, large enough to need several pages of 1,000 rows a window.
_MICROCENT = Decimal("0.000001")  # of a cent: the stored precision
ROWS_PER_DAY = 60
BACKFILL_DAYS = 45
GRAIN = ("date", "organization", "workspace", "api_key", "model", "service_tier", "context_window")
METRICS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "requests",
)


@dataclass
class CliResult:
    exit_code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def fake() -> FakeOrganization:
    return FakeOrganization(seed=11, rows_per_day=ROWS_PER_DAY)


@pytest.fixture
def running_fake(fake: FakeOrganization) -> Iterator[RunningFake]:
    with serve_in_thread(fake) as running:
        yield running


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url, running_fake, secret_key) -> dict[str, str]:
    env = {
        "USAGELEDGER_HOME": str(tmp_path / "home"),
        "USAGELEDGER_DATABASE_URL": database_url,
        "USAGELEDGER_ANTHROPIC_BASE_URL": running_fake.url,
        "USAGELEDGER_SECRET_KEY": secret_key,
        "USAGELEDGER_BACKFILL_DAYS": str(BACKFILL_DAYS),
        "USAGELEDGER_MAX_RETRIES": "3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def cli(cli_env, capsys, monkeypatch):
    """Run `usageledger ARGS…` in-process; `stdin` feeds --key-stdin."""

    def run(*args: str, stdin: str | None = None) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def connected(cli) -> int:
    """A connection to the fake organization, backfilled; returns its id."""
    result = cli("connect", "anthropic", "--key-stdin", stdin=FAKE_ADMIN_KEY + "\n")
    assert result.exit_code == 0, result.err
    return int(result.out.strip().splitlines()[-1])


def truth_at_grain(fake: FakeOrganization, start, end) -> dict[tuple, tuple[int, ...]]:
    """Ground truth summed to what the sync stores: day × org × workspace × key × model × tier × window."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(METRICS))
    for r in fake.truth_usage(start, end):
        d = r.dims
        key = (
            r.day.isoformat(),
            d.organization_id,
            d.workspace_id,
            d.api_key_id,
            d.model,
            d.service_tier,
            d.context_window,
        )
        values = (
            r.uncached_input_tokens,
            r.output_tokens,
            r.cache_read_input_tokens,
            r.cache_creation_5m_input_tokens,
            r.cache_creation_1h_input_tokens,
            r.requests or 0,
        )
        for i, v in enumerate(values):
            sums[key][i] += v
    return {k: tuple(v) for k, v in sums.items()}


def cost_truth_at_grain(
    fake: FakeOrganization, start, end, *, with_api_key: bool = True
) -> dict[tuple, Decimal]:
    """Cost truth summed to the CLI's grain. The API serves each cost and token type of a group (day × the
    five grouped dimensions) as one amount, stored as exact micro-cents (1e-6 cent): each such part is
    rounded so before the parts are summed, as the stored rows are."""
    parts: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in fake.truth_cost_by_type(start, end):
        d = r.dims
        key = (
            r.day.isoformat(),
            d.organization_id,
            d.workspace_id,
            d.api_key_id if with_api_key else None,
            d.model,
            d.service_tier,
            d.context_window,
        )
        parts[(key, r.breakdown)] += r.amount_cents
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for (key, _), amount in parts.items():
        sums[key] += amount.quantize(_MICROCENT, rounding=ROUND_HALF_EVEN)
    return dict(sums)


def served_actor_rows(fake: FakeOrganization, start, end) -> int:
    """Rows the API serves for the actor grain: every hidden identity its own row (stored summed as one)."""
    from usageledger.fake.catalog import ACTOR_AT

    return len(
        {
            (day, row[ACTOR_AT], row[ACTOR_AT + 1], row[3], row[1], row[7])
            for day, row in fake.iter_rows(start, end)
        }
    )


def stored_at_grain(cli, *extra: str) -> dict[tuple, tuple[int, ...]]:
    result = cli("usage", "--group-by", ",".join(GRAIN), "--format", "json", *extra)
    assert result.exit_code == 0, result.err
    rows = {}
    for row in result.json():
        key = (
            row["date"],
            row["organization_id"],
            row["workspace_id"],
            row["api_key_id"],
            row["model"],
            row["service_tier"],
            row["context_window"],
        )
        assert key not in rows, f"duplicate group {key}"
        metrics = tuple(row[m] or 0 for m in METRICS)
        if not any(metrics):  # a group with cost and no tokens (usage shows cost beside tokens)
            assert Decimal(row["amount_usd"]) != 0, f"an empty group {key}"
            continue
        rows[key] = metrics
    return rows


def stored_cost_at_grain(cli) -> dict[tuple, Decimal]:
    result = cli("cost", "--group-by", ",".join(GRAIN), "--format", "json")
    assert result.exit_code == 0, result.err
    return {
        (
            row["date"],
            row["organization_id"],
            row["workspace_id"],
            row["api_key_id"],
            row["model"],
            row["service_tier"],
            row["context_window"],
        ): Decimal(row["amount_usd"]) * 100
        for row in result.json()
    }
