"""The store: speaks SQL. Engine and migrations, the credential vault, connections, upserts."""

from __future__ import annotations

from usageledger.store.connections import (
    ConnectionRow,
    EventRow,
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
    purge_usage,
    release_sync_lock,
    renew_sync_lock,
    set_cursor,
    start_sync_run,
    store_credential,
    update_connection,
    update_sync_run,
    upsert_directory,
)
from usageledger.store.engine import checkpoint, create_engine_for, migrate
from usageledger.store.locks import lock_is_held, lock_owner_id
from usageledger.store.runs import fail_interrupted_runs
from usageledger.store.upsert import RepeatedRowError, WindowResult, WindowWriter, cents_to_microcents
from usageledger.store.vault import Vault, key_hint, rotate_credentials

__all__ = [
    "ConnectionRow",
    "EventRow",
    "SyncRunRow",
    "Vault",
    "RepeatedRowError",
    "WindowResult",
    "WindowWriter",
    "acquire_sync_lock",
    "add_event",
    "cents_to_microcents",
    "checkpoint",
    "create_engine_for",
    "delete_credential",
    "ensure_default_tenant",
    "fail_interrupted_runs",
    "get_connection",
    "insert_connection",
    "key_hint",
    "list_connections",
    "list_events",
    "list_sync_runs",
    "load_credential",
    "lock_is_held",
    "lock_owner_id",
    "migrate",
    "purge_usage",
    "release_sync_lock",
    "renew_sync_lock",
    "rotate_credentials",
    "set_cursor",
    "start_sync_run",
    "store_credential",
    "update_connection",
    "update_sync_run",
    "upsert_directory",
]
