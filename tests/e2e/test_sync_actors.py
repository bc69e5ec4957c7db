"""The second grain, actor × product × model × workspace × speed, synced beside the daily grain.

Every test runs the real CLI (or `run_sync`) against the fake on loopback, on SQLite and PostgreSQL, and
reads what was stored straight from the database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import Engine, create_engine, func, select

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization
from usageledger.fake.catalog import ACTOR_AT
from usageledger.models import ACTOR, DAILY
from usageledger.store.tables import (
    actor_cost_rows,
    actor_usage_rows,
    anthropic_actors,
    cost_rows,
    events,
    usage_rows,
)
from usageledger.sync import run_sync

from .test_sync import _span

RUN_CLI = "import sys; from usageledger.cli import main; sys.exit(main(sys.argv[1:]))"
_TOKENS = DAILY.usage_metrics[:5]
_MONEY = ("amount_microcents", "list_amount_microcents", "rows")


@pytest.fixture
def db(cli_env) -> Iterator[Engine]:
    engine = create_engine(cli_env["USAGELEDGER_DATABASE_URL"])
    yield engine
    engine.dispose()


def _key(day: dt.date, dims: tuple[str | None, ...]) -> tuple[str, ...]:
    return (day.isoformat(), *(v or "" for v in dims))


def stored_actor_usage(db: Engine) -> dict[tuple[str, ...], tuple[int | None, ...]]:
    """The stored actor grain's usage: natural key (day, dimensions, '' for none) → its metrics."""
    with db.connect() as conn:
        rows = conn.execute(select(actor_usage_rows)).mappings().all()
    out = {}
    for r in rows:
        out[_key(r["day"], tuple(r[d] for d in ACTOR.dimensions))] = tuple(r[m] for m in ACTOR.usage_metrics)
    return out


def stored_actor_cost(db: Engine) -> dict[tuple[str, ...], tuple[int, int, str, int | None]]:
    with db.connect() as conn:
        rows = conn.execute(select(actor_cost_rows)).mappings().all()
    return {
        _key(r["day"], tuple(r[d] for d in ACTOR.cost_dimensions)): (
            r["amount_microcents"],
            r["list_amount_microcents"],
            r["currency"],
            r["requests"],
        )
        for r in rows
    }


def truth_actor_usage(fake: FakeOrganization) -> dict[tuple[str, ...], tuple[int | None, ...]]:
    return {_key(r.day, r.dims): tuple(r[2:]) for r in fake.truth_actor_usage(*_span(fake))}


def truth_actor_cost(fake: FakeOrganization) -> dict[tuple[str, ...], tuple[int, int, str, int | None]]:
    """Cost per day and actor dimensions, whole: the actor grain does not break cost out by type."""
    return {
        _key(r.day, (*r.dims, *r.breakdown)): (
            store.cents_to_microcents(r.amount_cents),
            store.cents_to_microcents(r.list_amount_cents),
            r.currency,
            r.requests,
        )
        for r in fake.truth_actor_cost(*_span(fake))
    }


def _per_day(db: Engine, table, columns: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    with db.connect() as conn:
        sums = [func.count() if c == "rows" else func.sum(table.c[c]) for c in columns]
        rows = conn.execute(select(table.c.day, *sums).group_by(table.c.day)).all()
    return {str(r[0]): tuple(int(v) for v in r[1:]) for r in rows}


def _hidden_collisions(fake: FakeOrganization) -> Counter[tuple]:
    """Served actor-null rows per stored key: several hidden identities sharing every visible dimension."""
    hidden = {a.id for a in fake.holders.actors.values() if a.type is None}
    served: set[tuple] = set()
    for day, row in fake.iter_rows(*_span(fake)):
        if row[ACTOR_AT] in hidden:
            served.add((day, row[ACTOR_AT], row[ACTOR_AT + 1], row[3], row[1], row[7]))
    return Counter((day, product, model, ws, speed) for day, _, product, model, ws, speed in served)


def test_the_stored_actor_grain_equals_the_ground_truth(fake, connected, db):
    """After a backfill, every actor-grain usage and cost row equals the fake's truth, exactly."""
    usage = stored_actor_usage(db)
    assert usage and usage == truth_actor_usage(fake)
    assert stored_actor_cost(db) == truth_actor_cost(fake)


def test_several_null_actor_rows_of_a_day_are_stored_as_one_summed_row(fake, connected, db):
    """Hidden identities each get their own `actor: null` row upstream; the store keeps their sum, once."""
    collisions = {k: n for k, n in _hidden_collisions(fake).items() if n > 1}
    assert collisions, "the fake should serve several null-actor rows with identical visible dimensions"
    usage, truth = stored_actor_usage(db), truth_actor_usage(fake)
    org = fake.organization.id
    for day, product, model, workspace, speed in collisions:
        key = _key(day, (org, None, None, product, model, workspace, speed))
        assert usage[key] == truth[key]  # the summed row, not one of its parts
    null_rows = [k for k in usage if k[2] == "" and k[3] == ""]
    assert len(null_rows) == len(set(null_rows))  # one row per natural key (the constraint holds it too)


def test_actors_are_stored_with_who_they_are_and_deleted_users_as_deleted(fake, connected, db):
    """Users carry email and name; a deleted user is marked deleted, with no email; every kind is there."""
    with db.connect() as conn:
        actors = {(r.actor_type, r.actor_id): r for r in conn.execute(select(anthropic_actors)).all()}
    assert {t for t, _ in actors} == {"user_actor", "service_account_actor", "federated_actor", "api_actor"}
    deleted = [r for r in actors.values() if r.deleted]
    assert deleted and all(r.email is None and r.actor_type == "user_actor" for r in deleted)
    expected = {
        (a.type, a.id): a for a in fake.holders.actors.values() if a.type is not None
    }  # only those seen in the synced range are stored
    for (kind, actor_id), row in actors.items():
        fake_actor = expected[(kind, actor_id)]
        assert row.deleted == fake_actor.deleted
        if kind == "user_actor" and not row.deleted:
            body = json.loads(fake_actor.json)
            assert (row.email, row.name) == (body["email_address"], body["name"])
    stored_ids = {(k[2], k[3]) for k in stored_actor_usage(db) if k[3]}
    assert stored_ids == set(actors)


def test_both_grains_add_up_to_the_same_totals_each_day(fake, connected, db, cli):
    """Per day, tokens of both grains are equal and cost agrees to the micro-cent; no mismatch event."""
    assert _per_day(db, actor_usage_rows, _TOKENS) == _per_day(db, usage_rows, _TOKENS)
    # Each row's amount is rounded to a micro-cent when stored (the API gives finer fractions of a cent),
    # so a day's sums may differ by at most half a micro-cent per row of either grain: far below a cent.
    actor_cost, daily_cost = _per_day(db, actor_cost_rows, _MONEY), _per_day(db, cost_rows, _MONEY)
    assert actor_cost.keys() == daily_cost.keys()
    for day, (amount, list_amount, rows) in actor_cost.items():
        daily_amount, daily_list, daily_rows = daily_cost[day]
        assert abs(amount - daily_amount) <= (rows + daily_rows) / 2, day
        assert abs(list_amount - daily_list) <= (rows + daily_rows) / 2, day
    assert not [e for e in cli("events", "--json").json() if e["kind"] == "mismatch"]


def test_syncing_twice_equals_syncing_once_for_the_actor_grain(fake, connected, db, cli):
    """A second sync re-fetches the lookback: the actor grain and its actors are unchanged."""
    usage, cost = stored_actor_usage(db), stored_actor_cost(db)
    with db.connect() as conn:
        actors = set(conn.execute(select(anthropic_actors)).all())
    result = cli("sync")
    assert result.exit_code == 0, result.err
    assert stored_actor_usage(db) == usage and stored_actor_cost(db) == cost
    with db.connect() as conn:
        assert set(conn.execute(select(anthropic_actors)).all()) == actors


def _tampering_client(upstream_url: str) -> httpx2.Client:
    """Forwards to the fake, adding one output token to the first row of each actor-grain usage page."""
    upstream = httpx2.Client(base_url=upstream_url)

    def handler(request: httpx2.Request) -> httpx2.Response:
        answer = upstream.request(request.method, str(request.url), headers=request.headers)
        body = answer.content
        if "actor" in request.url.params.get_list("group_by[]") and request.url.path.endswith("/usage"):
            page = json.loads(body)
            if page["data"]:
                page["data"][0]["usage"]["output_tokens"] += 1
            body = json.dumps(page).encode()
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-length", "content-encoding")}
        return httpx2.Response(answer.status_code, headers=headers, content=body)

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def test_an_actor_grain_that_does_not_add_up_is_a_mismatch_event(fake, running_fake, cli, db):
    """The API's actor rows disagree with its daily rows: both are stored as reported and an event says so."""
    result = cli("connect", "anthropic", "--key-stdin", "--no-sync", stdin=FAKE_ADMIN_KEY + "\n")
    assert result.exit_code == 0, result.err
    connection_id = int(result.out.strip().splitlines()[-1])
    settings = Settings()
    engine = store.create_engine_for(settings)
    try:
        run_sync(settings, engine, connection_id, http_client=_tampering_client(running_fake.url))
    finally:
        engine.dispose()
    with db.connect() as conn:
        mismatches = conn.execute(select(events.c.message).where(events.c.kind == "mismatch")).scalars().all()
    assert mismatches and all("actor grain does not add up" in m for m in mismatches)
    assert any("tokens" in m for m in mismatches)
    # The daily grain still matches the ungrouped totals: only the grain check spoke.
    assert not any("ungrouped" in m for m in mismatches)


def _row_counts(db: Engine) -> tuple[int, int, int, int]:
    with db.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (usage_rows, cost_rows, actor_usage_rows, actor_cost_rows)
        )


def test_a_sync_killed_while_fetching_the_actor_grain_leaves_neither_grain_half_written(
    fake, cli, cli_env, db
):
    """SIGKILL after the first window's daily pages, during its actor pages: nothing of it is stored; a re-run
    stores both grains exactly."""
    fake.faults.add("/v1/organizations/analytics/", "slow", times=1000, delay=0.15)
    env = {**os.environ, **cli_env}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "connect", "anthropic", "--key-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write((FAKE_ADMIN_KEY + "\n").encode())
    proc.stdin.close()
    # The probe (1 usage call), the first window's daily usage (2 pages) and cost (2 pages), then actors.
    deadline = time.monotonic() + 60
    while fake.calls.get("/v1/organizations/analytics/usage", 0) < 4:
        assert proc.poll() is None and time.monotonic() < deadline, "the sync never reached the actor pages"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    fake.faults.clear()
    assert fake.calls.get("/v1/organizations/analytics/cost", 0) >= 2  # the daily cost pages were fetched
    assert _row_counts(db) == (0, 0, 0, 0)  # the window's transaction never committed: neither grain
    result = cli("sync")
    assert result.exit_code == 0, result.err
    assert stored_actor_usage(db) == truth_actor_usage(fake)
    assert stored_actor_cost(db) == truth_actor_cost(fake)


def test_a_classic_connection_skips_the_actor_grain_and_says_so_once(fake, cli, db):
    """The classic reports have no actors: no actor rows, one grain_skipped event however often it syncs."""
    key = "sk-ant-admin01-fake-analytics-off-key-000000000000000"
    fake.add_key(key, "analytics_off")
    result = cli("connect", "anthropic", "--key-stdin", stdin=key + "\n")
    assert result.exit_code == 0, result.err
    assert cli("sync").exit_code == 0
    assert _row_counts(db)[2:] == (0, 0) and _row_counts(db)[0] > 0
    skipped = [e for e in cli("events", "--json").json() if e["kind"] == "grain_skipped"]
    assert len(skipped) == 1 and "classic" in skipped[0]["message"]
