"""The core journey from the CLI against the fake API on loopback, checked against the generator's ground truth."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from usageledger.fake import FAKE_ADMIN_KEY
from usageledger.models import TOKEN_METRICS
from usageledger.sync import plan_windows
from usageledger.sync.hourly import hourly_range

from .conftest import (
    BACKFILL_DAYS,
    METRICS,
    cost_truth_at_grain,
    served_actor_rows,
    stored_at_grain,
    stored_cost_at_grain,
    truth_at_grain,
)


def _span(fake):
    today = fake.today
    return today - dt.timedelta(days=BACKFILL_DAYS - 1), today + dt.timedelta(days=1)


def _coarser(rows: dict[tuple, tuple[int, ...]], positions: tuple[int, ...]) -> dict[tuple, tuple[int, ...]]:
    out: dict[tuple, list[int]] = {}
    for key, values in rows.items():
        sums = out.setdefault(tuple(key[i] for i in positions), [0] * len(values))
        for i, v in enumerate(values):
            sums[i] += v
    return {k: tuple(v) for k, v in out.items()}


def _assert_matches_truth(cli, fake) -> None:
    start, end = _span(fake)
    truth = truth_at_grain(fake, start, end)
    assert stored_at_grain(cli) == truth
    # Coarser groupings are read from the rollups: they must agree with the same truth.
    for group_by, positions in (
        ("date,model", (0, 4)),
        ("date,workspace,service_tier,context_window", (0, 2, 5, 6)),
    ):
        rows = cli("usage", "--group-by", group_by, "--format", "json").json()
        fields = ["date", *group_by.split(",")[1:]]
        keys = {"workspace": "workspace_id"}
        got = {tuple(r[keys.get(f, f)] for f in fields): tuple(r[m] or 0 for m in METRICS) for r in rows}
        assert got == _coarser(truth, positions), group_by
    stored_cost = stored_cost_at_grain(cli)
    truth_cost = cost_truth_at_grain(fake, start, end)
    assert stored_cost.keys() == truth_cost.keys()
    assert stored_cost == truth_cost


def test_connect_backfills_exactly_the_ground_truth(cli, fake, connected):
    """Every total by day × workspace × API key × model × tier × context window equals the generator's."""
    _assert_matches_truth(cli, fake)
    status = cli("status", "--json").json()
    assert len(status) == 1
    row = status[0]
    assert row["state"] == "connected"
    assert row["source"] == "analytics"
    assert row["organization_id"] == fake.organization.id
    assert row["organization_name"] == fake.organization.name
    assert FAKE_ADMIN_KEY not in json.dumps(status)
    assert row["key_hint"].startswith("sk-ant-admin01-") and row["key_hint"].endswith(FAKE_ADMIN_KEY[-4:])


def minimum_backfill_calls(fake, start: dt.date, end: dt.date) -> int:
    """Per window and grain: ceil(rows/1000) usage and cost pages; one total check each; the directory's calls."""
    windows = [(w.start, w.end) for w in plan_windows(start, end)]
    # workspaces, api_keys, users; members of each live workspace; rbac_groups (403: not Enterprise);
    # spend_limits (one page)
    expected = 3 + sum(1 for w in fake.workspaces if w.archived_at is None) + 1 + 1
    for w_start, w_end in windows:
        usage = {
            (
                r.day,
                r.dims.workspace_id,
                r.dims.api_key_id,
                r.dims.model,
                r.dims.service_tier,
                r.dims.context_window,
            )
            for r in fake.truth_usage(w_start, w_end)
        }
        cost = {
            (
                r.day,
                r.dims.workspace_id,
                r.dims.api_key_id,
                r.dims.model,
                r.dims.service_tier,
                r.dims.context_window,
            )
            for r in fake.truth_cost(w_start, w_end)
        }
        expected += -(-len(usage) // 1000) + -(-len(cost) // 1000) + 2
        # The actor grain, in the same windows: usage and cost pages of its served rows.
        expected += 2 * -(-served_actor_rows(fake, w_start, w_end) // 1000)
    # The hourly grain of the recent days, once: usage and cost pages of its hour × workspace × model rows.
    hours_start, hours_end = hourly_range(fake.today, dt.datetime.now(dt.UTC), lookback_days=3)
    hourly = len(fake.truth_hourly_usage(hours_start, hours_end))
    expected += 2 * max(1, -(-hourly // 1000))
    return expected


def test_backfill_uses_the_fewest_calls_the_limits_allow(cli, fake, running_fake, connected):
    """Per window and grain: ceil(rows/1000) usage and cost pages; one total check each; the directory's calls."""
    runs = [e for e in cli("events", "--json").json() if e["kind"] == "sync_finished"]
    api_calls = json.loads(json.dumps(runs))[0]["message"]
    assert f"{minimum_backfill_calls(fake, *_span(fake))} API calls" in api_calls


def test_syncing_twice_equals_syncing_once(cli, fake, connected):
    """A second sync re-fetches the lookback and changes nothing."""
    before = stored_at_grain(cli)
    result = cli("sync")
    assert result.exit_code == 0, result.err
    assert "0 revised" in result.out
    assert stored_at_grain(cli) == before
    _assert_matches_truth(cli, fake)


def test_revised_days_replace_their_numbers_and_leave_an_event(cli, fake, connected):
    """Late data: the provider revises yesterday and the day before; the sync replaces, never adds."""
    yesterday = fake.today - dt.timedelta(days=1)
    fake.revise_days([yesterday, yesterday - dt.timedelta(days=1)])
    result = cli("sync")
    assert result.exit_code == 0, result.err
    _assert_matches_truth(cli, fake)
    late = [e for e in cli("events", "--json").json() if e["kind"] == "late_data"]
    assert late and "revised" in late[0]["message"]


def test_since_until_refetches_a_range(cli, fake, connected):
    """--since/--until re-fetch exactly those days and keep the totals right."""
    day = fake.today - dt.timedelta(days=20)
    fake.revise_days([day])
    result = cli("sync", "--since", day.isoformat(), "--until", day.isoformat())
    assert result.exit_code == 0, result.err
    assert "1 days" in result.out
    _assert_matches_truth(cli, fake)


def test_usage_json_shape_and_month_grouping(cli, fake, connected):
    """--group-by month,model gives YYYY-MM months, integer metrics whose sum equals the truth, and cost."""
    rows = cli("usage", "--group-by", "month,model", "--format", "json").json()
    assert rows and set(rows[0]) == {
        "month",
        "model",
        "amount_usd",
        "list_amount_usd",
        "cost_share",
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "cache_creation_5m_input_tokens",
        "cache_creation_1h_input_tokens",
        "requests",
    }
    assert all(len(r["month"]) == 7 and isinstance(r["output_tokens"], int) for r in rows)
    start, end = _span(fake)
    truth_output = sum(r.output_tokens for r in fake.truth_usage(start, end))
    assert sum(r["output_tokens"] for r in rows) == truth_output
    assert all(
        r["cache_creation_input_tokens"]
        == r["cache_creation_5m_input_tokens"] + r["cache_creation_1h_input_tokens"]
        for r in rows
    )


def test_csv_and_dates_are_inclusive(cli, fake, connected):
    """--since/--until on queries are inclusive UTC days; CSV has a header and one line per group."""
    day = (fake.today - dt.timedelta(days=3)).isoformat()
    result = cli("usage", "--since", day, "--until", day, "--group-by", "date", "--format", "csv")
    lines = result.out.strip().splitlines()
    assert lines[0].startswith("date,input_tokens")
    assert len(lines) == 2 and lines[1].startswith(day)


def test_cost_amounts_are_decimal_strings_in_dollars(cli, fake, connected):
    rows = cli("cost", "--group-by", "month", "--format", "json").json()
    start, end = _span(fake)
    truth = sum((r.amount_cents for r in fake.truth_cost(start, end)), Decimal(0)) / 100
    assert isinstance(rows[0]["amount_usd"], str)
    assert abs(sum(Decimal(r["amount_usd"]) for r in rows) - truth) < Decimal("0.0001")
    assert all(Decimal(r["list_amount_usd"]) >= Decimal(r["amount_usd"]) for r in rows)


@pytest.mark.parametrize(
    ("kind", "exit_code", "event_kind"),
    [
        ("server_error", 5, "upstream_error"),
        ("overloaded", 5, "upstream_error"),
        ("rate_limit", 5, "rate_limit"),
    ],
)
def test_a_failure_storm_gives_up_keeps_earlier_windows_and_recovers(
    cli, fake, connected, kind, exit_code, event_kind
):
    """After retries the sync exits 5 with an event; earlier windows stay; the next sync heals everything."""
    fake.revise_days([fake.today - dt.timedelta(days=1)])
    fake.faults.add("/v1/organizations/analytics/usage", kind, times=50, retry_after=0.001)
    result = cli("sync")
    assert result.exit_code == exit_code
    assert "Error:" in result.err and "Traceback" not in result.err
    events = cli("events", "--json").json()
    assert any(e["kind"] == event_kind for e in events)
    assert cli("status", "--json").json()[0]["state"] == "error"
    fake.faults.clear()
    assert cli("sync").exit_code == 0
    _assert_matches_truth(cli, fake)


def test_a_short_429_burst_is_ridden_out_and_logged(cli, fake, connected):
    """Two 429s with retry-after, then success: the sync succeeds and the event log says how long it waited."""
    fake.faults.add("/v1/organizations/analytics/usage", "rate_limit", times=2, retry_after=0.01)
    result = cli("sync")
    assert result.exit_code == 0, result.err
    events = [e for e in cli("events", "--json").json() if e["kind"] == "rate_limit"]
    assert events and "2 time(s)" in events[0]["message"]


@pytest.mark.parametrize("kind", ["bad_json", "truncated", "repeated_cursor", "missing_field"])
def test_a_malformed_page_fails_its_window_cleanly(cli, fake, connected, kind):
    """A bad page fails that window with exit 5 and an event; rows committed before are kept, none half-written."""
    before = stored_at_grain(cli)
    fake.faults.add("/v1/organizations/analytics/usage", kind, times=1)
    result = cli("sync")
    assert result.exit_code == 5, result.err
    assert stored_at_grain(cli) == before
    assert any(e["level"] == "error" for e in cli("events", "--json").json())
    fake.faults.clear()
    assert cli("sync").exit_code == 0
    _assert_matches_truth(cli, fake)


def test_fallback_to_the_classic_reports(cli, fake):
    """A key the analytics endpoints refuse syncs from the classic reports; status says so; tokens match."""
    key = "sk-ant-admin01-fake-analytics-off-key-000000000000000"
    fake.add_key(key, "analytics_off")
    result = cli("connect", "anthropic", "--key-stdin", stdin=key + "\n")
    assert result.exit_code == 0, result.err
    assert cli("status", "--json").json()[0]["source"] == "classic"
    assert any(e["kind"] == "fallback" for e in cli("events", "--json").json())
    start, end = _span(fake)
    stored = stored_at_grain(cli)
    # The classic report names the default workspace null and leaves out code execution (no model), both
    # documented; the analytics rows use the workspace's id and include code execution.
    default = fake.default_workspace_id
    truth = {
        (k[0], k[1], None if k[2] == default else k[2], *k[3:]): v
        for k, v in truth_at_grain(fake, start, end).items()
        if k[4] is not None
    }
    assert stored.keys() == truth.keys()
    # The classic report has no request counts: compare every token metric.
    assert all(stored[k][:5] == truth[k][:5] for k in truth)
    # Nor does it report Priority Tier costs (documented): compare with the rest.
    total_cost = sum(stored_cost_at_grain(cli).values())
    truth_cost = sum(r.amount_cents for r in fake.truth_cost(start, end) if r.dims.service_tier != "priority")
    assert abs(total_cost - truth_cost) < Decimal("0.0001")


@pytest.mark.parametrize(
    ("key", "kind", "exit_code"),
    [
        ("sk-ant-api03-fake-standard-key-00000000000000000000000", None, 3),
        ("not-a-key", None, 3),
        ("sk-ant-admin01-fake-revoked-key-000000000000000000000", "revoked", 3),
        ("sk-ant-admin01-fake-unknown-key-000000000000000000000", None, 3),
        ("sk-ant-admin01-fake-no-scope-key-00000000000000000000", "no_usage_scope", 4),
    ],
)
def test_bad_keys_are_refused_and_nothing_is_stored(cli, fake, key, kind, exit_code):
    """Standard, malformed, revoked, unknown and scope-less keys: clear message, exit code, no connection."""
    if kind:
        fake.add_key(key, kind)
    result = cli("connect", "anthropic", "--key-stdin", stdin=key + "\n")
    assert result.exit_code == exit_code
    assert key not in result.out + result.err
    assert "Traceback" not in result.err
    assert cli("status", "--json").json() == []


def test_disconnect_deletes_the_key_keeps_usage_and_purge_deletes_usage(cli, fake, connected, cli_env):
    """The key is gone from the store at once; usage stays until --purge."""
    before = stored_at_grain(cli)
    result = cli("disconnect", str(connected), "--yes")
    assert result.exit_code == 0, result.err
    assert "Revoke" in result.out or "revoke" in result.out
    status = cli("status", "--json").json()[0]
    assert status["state"] == "disconnected"
    assert stored_at_grain(cli) == before
    assert cli("sync", str(connected)).exit_code == 2
    from sqlalchemy import create_engine, text

    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from credentials")).scalar() == 0
    engine.dispose()
    assert cli("disconnect", str(connected), "--yes", "--purge").exit_code == 0
    assert stored_at_grain(cli) == {}


def test_unknown_connection_is_exit_6(cli, connected):
    for args in (("sync", "999"), ("disconnect", "999", "--yes"), ("usage", "--connection", "999")):
        result = cli(*args)
        assert result.exit_code == 6, args
        assert "Traceback" not in result.err


def test_bad_options_are_usage_errors(cli, connected):
    assert cli("usage", "--group-by", "colour").exit_code == 2
    assert cli("usage", "--format", "xml").exit_code == 2
    assert cli("sync", "--since", "yesterday").exit_code == 2


def test_a_second_sync_of_a_running_connection_says_it_is_running(cli, connected, cli_env):
    """While a live process holds the connection's lock, another sync exits 7 and changes nothing."""
    import os
    import socket

    from sqlalchemy import create_engine

    from usageledger import store

    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    with engine.begin() as conn:
        store.update_connection(
            conn,
            connected,
            lock_owner=f"{socket.gethostname()}:{os.getpid()}:other",
            lock_expires_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC),
        )
    engine.dispose()
    result = cli("sync", str(connected))
    assert result.exit_code == 7
    assert "already running" in result.err


def test_rotate_key_reseals_with_the_newest_key_and_syncs_still_work(cli, cli_env, monkeypatch, connected):
    """With a new key first in USAGELEDGER_SECRET_KEY, rotate-key re-seals; then the old key can go."""
    from cryptography.fernet import Fernet

    new_key = Fernet.generate_key().decode()
    monkeypatch.setenv("USAGELEDGER_SECRET_KEY", f"{new_key},{cli_env['USAGELEDGER_SECRET_KEY']}")
    result = cli("rotate-key")
    assert result.exit_code == 0, result.err
    assert "Re-sealed 1 stored key" in result.out
    monkeypatch.setenv("USAGELEDGER_SECRET_KEY", new_key)
    assert cli("sync").exit_code == 0


@pytest.mark.parametrize("key_kind", ["default", "analytics_off"])
def test_grouped_rows_are_checked_against_the_ungrouped_totals(cli, fake, monkeypatch, key_kind):
    """Every window's grouped rows must add up to the API's ungrouped totals, from the analytics endpoints
    and from the classic reports (whose totals span pages): a clean sync says nothing, an ungrouped total
    one output token off is a `mismatch` warning that names the tokens."""
    from usageledger.anthropic import sources

    key = FAKE_ADMIN_KEY
    if key_kind == "analytics_off":
        key = "sk-ant-admin01-fake-analytics-off-key-000000000000000"
        fake.add_key(key, key_kind)
    result = cli("connect", "anthropic", "--key-stdin", stdin=key + "\n")
    assert result.exit_code == 0, result.err
    assert not [e for e in cli("events", "--json").json() if e["kind"] == "mismatch"]

    source = sources.ClassicSource if key_kind == "analytics_off" else sources.AnalyticsSource
    real = source.fetch_usage_totals
    output = TOKEN_METRICS.index("output_tokens")

    def one_token_off(self, window):
        totals = real(self, window)
        tokens = list(totals.tokens)
        tokens[output] += 1
        return sources.Totals(tokens=tuple(tokens), amount_cents=totals.amount_cents)

    monkeypatch.setattr(source, "fetch_usage_totals", one_token_off)
    assert cli("sync").exit_code == 0
    said = [e for e in cli("events", "--json").json() if e["kind"] == "mismatch"]
    assert said and said[0]["level"] == "warning"
    assert "Totals do not match" in said[0]["message"] and "tokens" in said[0]["message"]
