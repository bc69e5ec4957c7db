"""Connecting and disconnecting an Anthropic organization.

Connect verifies before it stores anything: the key's shape, `/v1/organizations/me`, then one probe of
the usage endpoints (analytics first, the classic report when analytics answers 403/404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx2
from sqlalchemy.engine import Engine

from .. import store
from ..anthropic import AdminApiClient, check_admin_key_shape, fetch_organization, source_named
from ..config import Settings
from ..errors import PermissionDeniedError
from ..models import Organization, Window
from ..store.scrub import SCRUB_WITHIN_SECONDS
from .credentials import store_admin_key
from .permit import announce_disconnect, disconnect_announcement

__all__ = ["ConnectResult", "connect_anthropic", "disconnect", "probe_source"]


@dataclass(frozen=True, slots=True)
class ConnectResult:
    connection_id: int
    organization: Organization
    source: str
    fell_back: bool


def probe_source(client: AdminApiClient, organization_id: str, today: dt.date) -> tuple[str, bool]:
    """Which usage source this key can read: ('analytics'|'classic', fell_back). Raises when neither."""
    probe = Window(today - dt.timedelta(days=1), today)
    try:
        next(iter(source_named("analytics", client, organization_id, page_limit=1).iter_usage(probe)))
        return "analytics", False
    except PermissionDeniedError:
        pass
    try:
        next(iter(source_named("classic", client, organization_id).iter_usage(probe)))
        return "classic", True
    except PermissionDeniedError as exc:
        raise PermissionDeniedError(
            "The key is valid but cannot read usage: both the analytics and the usage report endpoints "
            "refused it. Use an Admin API key created by an organization admin.",
            request_id=exc.request_id,
        ) from None


def connect_anthropic(
    settings: Settings,
    engine: Engine,
    *,
    tenant_id: int,
    admin_key: str,
    name: str | None = None,
    http_client: httpx2.Client | None = None,
) -> ConnectResult:
    """Verify the key against the API, then store it sealed with a new connection. Nothing is stored on error."""
    admin_key = check_admin_key_shape(admin_key)
    with AdminApiClient(settings, admin_key, http_client=http_client) as client:
        organization = fetch_organization(client)
        source, fell_back = probe_source(client, organization.id, dt.datetime.now(dt.UTC).date())
    with engine.begin() as conn:
        connection_id = store.insert_connection(
            conn,
            tenant_id=tenant_id,
            name=name or organization.name,
            provider="anthropic",
            base_url=settings.anthropic_base_url,
            organization_id=organization.id,
            organization_name=organization.name,
            key_hint=store.key_hint(admin_key),
            source=source,
        )
        store_admin_key(settings, conn, connection_id, admin_key)
        store.add_event(
            conn,
            tenant_id=tenant_id,
            connection_id=connection_id,
            kind="key_verified",
            level="info",
            message=f"Admin key verified for organization {organization.name} ({organization.id}).",
        )
        if fell_back:
            store.add_event(
                conn,
                tenant_id=tenant_id,
                connection_id=connection_id,
                kind="fallback",
                level="warning",
                message=(
                    "The Usage and Cost Analytics endpoints refused this key; using the classic usage and "
                    "cost reports instead (no per-day request counts, no list prices, no API key on cost)."
                ),
            )
    return ConnectResult(connection_id, organization, source, fell_back)


def disconnect(
    settings: Settings,
    engine: Engine,
    connection_id: int,
    *,
    tenant_id: int | None = None,
    purge: bool = False,
    scrub_within: float = SCRUB_WITHIN_SECONDS,
) -> None:
    """Delete the stored key at once, stop any running sync of it, keep usage unless `purge`.

    Then the key's bytes are removed from the database's files; when a reader holds them there,
    ScrubPendingError says so (the key is already unusable, and the scrub is retried automatically).
    """
    store.resume_pending_scrub(settings, engine)
    with engine.connect() as conn:
        connection = store.get_connection(conn, connection_id, tenant_id)  # scoped before anything else
    with (
        announce_disconnect(disconnect_announcement(settings, engine, connection_id)),
        engine.begin() as conn,
    ):
        # The connection row first: the same lock a sync's window takes first, so a window either
        # commits before this transaction (and the purge below removes its rows) or is refused after
        # it. Clearing the lease and the state is what a running sync checks before each API call.
        store.update_connection(
            conn,
            connection_id,
            state="disconnected",
            disconnected_at=dt.datetime.now(dt.UTC),
            lock_owner=None,
            lock_expires_at=None,
        )
        store.delete_credential(conn, connection_id)
        if purge:
            store.purge_usage(conn, connection_id)
        store.add_event(
            conn,
            tenant_id=connection.tenant_id,
            connection_id=connection_id,
            kind="disconnected",
            level="info",
            message="Disconnected: the stored key was deleted"
            + (" and the synced usage purged." if purge else "; synced usage kept.")
            + " Revoke the key in the Anthropic Console to remove provider-side access too.",
        )
    store.scrub_deleted_secrets(settings, engine, within=scrub_within)
