"""The store: speaks SQL. Engine and migrations, the credential vault, connections, upserts."""

from __future__ import annotations

from usageledger.store import alerts, budgets  # noqa: F401  (their tables join the metadata)
from usageledger.store.actors import upsert_actors
from usageledger.store.connections import (
    ConnectionRow,
    EventRow,
    SealedCredential,
    SyncRunRow,
    acquire_sync_lock,
    add_event,
    delete_credential,
    ensure_default_tenant,
    get_connection,
    insert_connection,
    list_connections,
    list_events,
    list_sync_runs,
    load_credential,
    load_sealed_credential,
    purge_usage,
    release_sync_lock,
    renew_sync_lock,
    set_cursor,
    start_sync_run,
    store_credential,
    update_connection,
    update_sync_run,
)
from usageledger.store.destinations import DestinationRow  # also registers its tables on `metadata`
from usageledger.store.directory import unlisted_ids, upsert_directory
from usageledger.store.engine import checkpoint, create_engine_for, migrate, sync_writer_connection
from usageledger.store.insert_thread import InsertThread, insert_thread, window_inserts
from usageledger.store.locks import (
    SyncStanding,
    claim_sync_lease,
    finish_sync_lease,
    lock_is_held,
    lock_owner_id,
    sync_standing,
)
from usageledger.store.runs import fail_interrupted_runs
from usageledger.store.schedule_state import HALTING_EVENT_KINDS, ScheduleState, list_schedule_states
from usageledger.store.scrub import (
    pending_scrub_marker,
    resume_pending_scrub,
    scrub_deleted_secrets,
    scrub_soon,
)
from usageledger.store.upsert import RepeatedRowError, WindowResult, WindowWriter, cents_to_microcents
from usageledger.store.vault import Vault, key_hint, rotate_credentials

__all__ = [
    "HALTING_EVENT_KINDS",
    "ConnectionRow",
    "ScheduleState",
    "DestinationRow",
    "EventRow",
    "InsertThread",
    "SyncRunRow",
    "Vault",
    "RepeatedRowError",
    "SealedCredential",
    "SyncStanding",
    "WindowResult",
    "WindowWriter",
    "window_inserts",
    "acquire_sync_lock",
    "add_event",
    "cents_to_microcents",
    "claim_sync_lease",
    "checkpoint",
    "create_engine_for",
    "delete_credential",
    "ensure_default_tenant",
    "fail_interrupted_runs",
    "finish_sync_lease",
    "get_connection",
    "insert_connection",
    "insert_thread",
    "key_hint",
    "list_connections",
    "list_events",
    "list_schedule_states",
    "list_sync_runs",
    "load_credential",
    "load_sealed_credential",
    "lock_is_held",
    "lock_owner_id",
    "migrate",
    "pending_scrub_marker",
    "purge_usage",
    "release_sync_lock",
    "renew_sync_lock",
    "resume_pending_scrub",
    "rotate_credentials",
    "scrub_deleted_secrets",
    "scrub_soon",
    "set_cursor",
    "start_sync_run",
    "sync_writer_connection",
    "store_credential",
    "sync_standing",
    "update_connection",
    "update_sync_run",
    "upsert_actors",
    "unlisted_ids",
    "upsert_directory",
]
