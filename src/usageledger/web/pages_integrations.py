"""Company settings › Integrations: the provider cards, Connect Anthropic, the detail page, sync, disconnect."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from usageledger.errors import ScrubPendingError, UsageLedgerError
from usageledger.reports.periods import PERIOD_PRESETS
from usageledger.store import get_connection
from usageledger.sync import connect_anthropic, disconnect
from usageledger.web.deps import AdminUser, CsrfForm, PageUser, ServicesDep
from usageledger.web.exports import csv_response, open_usage_csv
from usageledger.web.params import FILTER_FIELDS, PageUsageParamsDep, PathId, UsageParamsDep
from usageledger.web.providers import provider_named
from usageledger.web.templating import flash, render
from usageledger.web.views import (
    CHART_METRICS,
    DEFAULT_CHART_METRIC,
    EVENT_KINDS,
    build_detail,
    integration_cards,
    tenant_events,
)

__all__ = ["router"]

router = APIRouter(prefix="/settings/integrations", include_in_schema=False)


def _detail_path(connection_id: int) -> str:
    return f"/settings/integrations/connections/{connection_id}"


@router.get("")
def integrations(request: Request, services: ServicesDep, user: PageUser) -> Response:
    with services.engine.connect() as conn:
        cards = integration_cards(conn, user.tenant_id)
    return render(request, "integrations.html", title="Integrations", cards=cards)


@router.get("/anthropic/connect")
def connect_page(request: Request, user: AdminUser) -> Response:
    return render(
        request,
        "connect_anthropic.html",
        title="Connect Anthropic",
        error=None,
        name="",
        provider=provider_named("anthropic"),
    )


@router.post("/anthropic/connect")
def connect(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm) -> Response:
    name = form.get("name", "").strip()[:200]
    try:
        result = connect_anthropic(
            services.settings,
            services.engine,
            tenant_id=user.tenant_id,
            admin_key=form.get("admin_key", ""),
            name=name or None,
        )
    except UsageLedgerError as exc:  # the message never contains the key; the field is never re-filled
        return render(
            request,
            "connect_anthropic.html",
            400,
            title="Connect Anthropic",
            error=exc.message,
            name=name,
            provider=provider_named("anthropic"),
        )
    services.syncs.start(result.connection_id, "connect")
    flash(request, f"Connected {result.organization.name}. The first sync is running; progress shows below.")
    return RedirectResponse(_detail_path(result.connection_id), status_code=303)


@router.get("/connections/{connection_id}")
def detail(
    request: Request,
    connection_id: PathId,
    services: ServicesDep,
    user: PageUser,
    form: PageUsageParamsDep,
    metric: Annotated[str, Query(max_length=64)] = DEFAULT_CHART_METRIC,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """The connection's state and spend, then its usage; a bad filter is explained beside it (400), never an error page."""
    metric = metric if metric in CHART_METRICS else DEFAULT_CHART_METRIC
    with services.engine.connect() as conn:
        view = build_detail(
            conn,
            tenant_id=user.tenant_id,
            connection_id=connection_id,
            form=form,
            metric=metric,
            page=page,
            today=dt.datetime.now(dt.UTC).date(),
            lookback_days=services.settings.lookback_days,
            sync_interval=dt.timedelta(hours=services.settings.sync_interval_hours),
        )
    running = services.syncs.is_running(connection_id) or (
        view.sync_alive and view.latest_run is not None and view.latest_run.status == "running"
    )
    return render(
        request,
        "connection.html",
        400 if view.problems else 200,
        title=view.connection.name,
        view=view,
        running=running,
        metrics=CHART_METRICS,
        filter_fields=FILTER_FIELDS,
        presets=PERIOD_PRESETS,
    )


@router.get("/connections/{connection_id}/usage.csv")
def usage_csv(
    connection_id: PathId, services: ServicesDep, user: PageUser, params: UsageParamsDep
) -> Response:
    """The table as shown, every row of it, streamed."""
    stream = open_usage_csv(services.engine, user.tenant_id, params.replaced(connection_id=connection_id))
    return csv_response(stream, f"usage-connection-{connection_id}.csv")


@router.post("/connections/{connection_id}/sync")
def sync_now(
    request: Request, connection_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    with services.engine.connect() as conn:
        connection = get_connection(conn, connection_id, user.tenant_id)
    if connection.state == "disconnected":
        flash(request, "This connection is disconnected; connect the organization again to sync.", "error")
    elif services.syncs.start(connection_id, "manual"):
        # With workers the sync waits in the job queue until one takes it: say so rather than "started".
        flash(
            request,
            "Sync queued: a worker will start it shortly." if services.syncs.queued else "Sync started.",
        )
    else:
        flash(request, "A sync of this connection is already running.")
    return RedirectResponse(_detail_path(connection_id), status_code=303)


@router.get("/connections/{connection_id}/disconnect")
def disconnect_page(
    request: Request, connection_id: PathId, services: ServicesDep, user: AdminUser
) -> Response:
    with services.engine.connect() as conn:
        connection = get_connection(conn, connection_id, user.tenant_id)
    return render(request, "disconnect.html", title=f"Disconnect {connection.name}", connection=connection)


@router.post("/connections/{connection_id}/disconnect")
def disconnect_now(
    request: Request, connection_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    purge = form.get("purge") == "yes"
    try:
        disconnect(services.settings, services.engine, connection_id, tenant_id=user.tenant_id, purge=purge)
    except ScrubPendingError as exc:  # disconnected, but the key's bytes are not yet off the disk
        flash(request, exc.message, "error")
        return RedirectResponse(_detail_path(connection_id), status_code=303)
    flash(
        request,
        "Disconnected: the stored key was deleted"
        + (" and the synced usage purged. " if purge else "; the synced usage is kept. ")
        + "Revoke the key in the Anthropic Console to remove provider-side access too.",
    )
    return RedirectResponse(_detail_path(connection_id), status_code=303)


@router.get("/connections/{connection_id}/events")
def events_page(
    request: Request,
    connection_id: PathId,
    services: ServicesDep,
    user: PageUser,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    kind = kind if kind in EVENT_KINDS else None
    with services.engine.connect() as conn:
        connection = get_connection(conn, connection_id, user.tenant_id)
        events = tenant_events(conn, user.tenant_id, connection_id, kind)
    return render(
        request,
        "events.html",
        title=f"Event log · {connection.name}",
        connection=connection,
        events=events,
        kind=kind,
        kinds=EVENT_KINDS,
    )
