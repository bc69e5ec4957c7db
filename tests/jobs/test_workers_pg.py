"""Many organizations synced by two `usageledger worker` processes on the real PostgreSQL, through
injected faults, a worker killed with SIGKILL mid-sync, and a revoked key."""

from __future__ import annotations

import datetime as dt
import signal

import pytest

from tests.e2e.conftest import stored_at_grain, truth_at_grain
from usageledger import jobs, store
from usageledger.config import Settings

from .conftest import BACKFILL_DAYS, FAST_WORKER, org_key, scalar, wait_for

pytestmark = pytest.mark.postgres

USAGE_PATH = "/v1/organizations/analytics/usage"


def _span(fake):
    return fake.today - dt.timedelta(days=BACKFILL_DAYS - 1), fake.today + dt.timedelta(days=1)


def _enqueue_all_due(engine) -> list[int]:
    """What `usageledger scheduler` does on each tick (it installs the queue's schema at start)."""
    jobs.install_queue_schema(engine)
    queue = jobs.build_queue(Settings(), "scheduler")
    with queue.open():
        return jobs.enqueue_due_syncs(queue, engine, dt.timedelta(hours=1))


def _worker_running(engine, connection_id: int) -> int | None:
    """The pid of the worker syncing this connection (its lease's owner), once a window has committed."""
    owner = scalar(
        engine,
        "SELECT c.lock_owner FROM connections c JOIN sync_runs r ON r.connection_id = c.id "
        "AND r.status = 'running' AND r.days_done > 0 WHERE c.id = :c",
        c=connection_id,
    )
    return int(owner.split(":")[1]) if owner else None


def _settled(engine, healthy: list[int]) -> bool:
    """Every healthy connection synced and nothing waits or runs in the queue any more (but periodic jobs)."""
    synced = scalar(
        engine,
        "SELECT count(*) FROM connections WHERE id = ANY(:ids) AND last_sync_succeeded_at IS NOT NULL "
        "AND state = 'connected'",
        ids=healthy,
    )
    pending = scalar(
        engine,
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'usageledger.sync_connection' "
        "AND status IN ('todo', 'doing')",
    )
    return synced == len(healthy) and pending == 0


def test_two_workers_sync_many_organizations_exactly_through_faults_a_kill_and_a_revoked_key(
    cli, engine, organizations, connections, workers
):
    """Six organizations, two workers: faults are retried, a killed worker's sync is resumed by the
    other, every total equals the ground truth, and the revoked key is neither retried nor scheduled."""
    failing, limited, killed_org, revoked = 0, 1, 2, 5
    # More failures than the SDK's own retries can absorb, so the first job attempt fails and the queue
    # retries it. The sync fetches in parallel: up to 6 chains call the usage path at once (2 windows ×
    # the daily grain, the actor grain and the ungrouped total), each allowed 2 attempts
    # (USAGELEDGER_MAX_RETRIES=1), so 7 errors make one chain see two in a row in any order of service.
    organizations[failing].faults.add(USAGE_PATH, "server_error", times=7)
    organizations[limited].faults.add(USAGE_PATH, "rate_limit", times=2, retry_after=0.05)
    organizations[killed_org].faults.add("/v1/organizations/analytics/", "slow", times=400, delay=0.05)
    organizations[revoked].add_key(org_key(revoked), "revoked")

    assert sorted(_enqueue_all_due(engine)) == sorted(connections)
    assert _enqueue_all_due(engine) == []  # each connection has its one sync waiting: none queued twice
    first = workers.start("--concurrency", "2", *FAST_WORKER)
    second = workers.start("--concurrency", "2", *FAST_WORKER)
    pids = {first.pid: first, second.pid: second}

    victim_pid = wait_for(lambda: _worker_running(engine, connections[killed_org]), 90, "the slow sync")
    pids[victim_pid].send_signal(signal.SIGKILL)
    pids[victim_pid].wait()
    survivor = next(p for pid, p in pids.items() if pid != victim_pid)
    # The restarted sync must get through the slow organization in good time now.
    organizations[killed_org].faults.clear()

    healthy = [c for i, c in enumerate(connections) if i != revoked]
    wait_for(lambda: _settled(engine, healthy), 120, "every healthy connection to be synced", interval=0.25)
    assert survivor.poll() is None  # the other worker did it, and is still alive

    for i, connection_id in enumerate(healthy):
        fake = organizations[i]
        assert stored_at_grain(cli, "--connection", str(connection_id)) == truth_at_grain(fake, *_span(fake))

    events = cli("events", "--json").json()
    by_connection = lambda cid, kind: [e for e in events if e["connection_id"] == cid and e["kind"] == kind]  # noqa: E731
    assert by_connection(connections[failing], "sync_retry"), "a failed sync is retried and says so"
    assert any("worker stopped" in e["message"] for e in by_connection(connections[killed_org], "sync_retry"))
    assert by_connection(connections[revoked], "sync_halted")
    assert not by_connection(connections[revoked], "sync_retry")

    # The revoked key's job failed once and was not retried; the scheduler leaves the connection alone.
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM procrastinate_jobs WHERE lock = :lock AND status = 'failed' AND attempts <= 1",
            lock=jobs.sync_lock(connections[revoked]),
        )
        == 1
    )
    with engine.connect() as conn:
        (state,) = store.list_schedule_states(conn, connections[revoked])
    assert state.halted
    assert _enqueue_all_due(engine) == []
