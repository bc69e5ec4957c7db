"""The JSON API under /api/v1: the same read models as the pages, one error envelope, token or session auth."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from usageledger.errors import ConflictError
from usageledger.reports.status import ConnectionStatus
from usageledger.store import get_connection
from usageledger.store.accounts import create_access_token, delete_access_token, list_access_tokens
from usageledger.sync import connect_anthropic, disconnect
from usageledger.web.deps import ApiAdmin, ApiUser, ServicesDep
from usageledger.web.exports import csv_response, open_usage_csv
from usageledger.web.paging import DEFAULT_LIMIT, Page, plan_page
from usageledger.web.params import MAX_LIMIT, PathId, QueryId, UsageParams, UsageParamsDep
from usageledger.web.schemas import (
    AccessTokenOut,
    ConnectIn,
    ConnectionOut,
    ConnectionsOut,
    CostOut,
    ErrorOut,
    EventOut,
    EventsOut,
    MeOut,
    NewAccessTokenOut,
    SyncRunOut,
    SyncRunsOut,
    SyncStartedOut,
    TokenIn,
    TokensOut,
    UsageOut,
)
from usageledger.web.views import (
    connection_status,
    cost_rows_json,
    sync_runs,
    tenant_events,
    usage_rows_json,
)

__all__ = ["router"]

_ERRORS = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "Invalid request or credential problem",
        401: "Not signed in / bad token",
        403: "Forbidden (role, CSRF, or the key lacks usage access)",
        404: "Not found (or another workspace's)",
        409: "Conflict",
        422: "Validation error",
        502: "Anthropic kept failing",
    }.items()
}

router = APIRouter(prefix="/api/v1", tags=["api"], responses=_ERRORS)  # type: ignore[arg-type]

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"Rows per page ({DEFAULT_LIMIT:,} unless set; at most {MAX_LIMIT:,}).",
    ),
]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip; prefer `cursor`.")]
Cursor = Annotated[
    str | None,
    Query(max_length=500, description="`next_cursor` of the previous page of the same query."),
]
Format = Annotated[
    Literal["json", "csv"],
    Query(description="json (default, paged) or csv (every row, streamed; limit and cursor ignored)."),
]


def _connection_out(status: ConnectionStatus, services: ServicesDep) -> ConnectionOut:
    out = ConnectionOut.model_validate(status.as_json())
    out.sync_running = out.sync_running or services.syncs.is_running(out.id)
    return out


@router.get("/me", response_model=MeOut, summary="Who is calling")
def me(user: ApiUser) -> MeOut:
    return MeOut.model_validate(user)


@router.get("/connections", response_model=ConnectionsOut, summary="List connections")
def list_connections(user: ApiUser, services: ServicesDep) -> ConnectionsOut:
    with services.engine.connect() as conn:
        statuses = connection_status(conn, user.tenant_id)
    return ConnectionsOut(connections=[_connection_out(s, services) for s in statuses])


@router.post("/connections", response_model=ConnectionOut, status_code=201, summary="Connect Anthropic")
def create_connection(body: ConnectIn, user: ApiAdmin, services: ServicesDep) -> ConnectionOut:
    """Verifies the admin key with Anthropic, stores it encrypted, and starts the initial sync."""
    result = connect_anthropic(
        services.settings,
        services.engine,
        tenant_id=user.tenant_id,
        admin_key=body.admin_key.get_secret_value(),
        name=body.name,
    )
    if body.sync:
        services.syncs.start(result.connection_id, "connect")
    with services.engine.connect() as conn:
        (status,) = connection_status(conn, user.tenant_id, result.connection_id)
    return _connection_out(status, services)


@router.get("/connections/{connection_id}", response_model=ConnectionOut, summary="One connection")
def get_one(connection_id: PathId, user: ApiUser, services: ServicesDep) -> ConnectionOut:
    with services.engine.connect() as conn:
        (status,) = connection_status(conn, user.tenant_id, connection_id)
    return _connection_out(status, services)


@router.delete("/connections/{connection_id}", status_code=204, summary="Disconnect")
def delete_connection(
    connection_id: PathId,
    user: ApiAdmin,
    services: ServicesDep,
    purge: Annotated[bool, Query(description="Also delete the synced usage and cost.")] = False,
) -> Response:
    """Deletes the stored key at once; keeps synced usage unless `purge=true`. Revoke the key in the Console too."""
    disconnect(services.settings, services.engine, connection_id, tenant_id=user.tenant_id, purge=purge)
    return Response(status_code=204)


@router.post("/connections/{connection_id}/sync", response_model=SyncStartedOut, status_code=202,
             summary="Sync now")  # fmt: skip
def start_sync(connection_id: PathId, user: ApiAdmin, services: ServicesDep) -> SyncStartedOut:
    """Starts an incremental sync in the background; poll `runs_url` for its progress."""
    with services.engine.connect() as conn:
        connection = get_connection(conn, connection_id, user.tenant_id)
    if connection.state == "disconnected":
        raise ConflictError("This connection is disconnected; connect the organization again to sync.")
    if not services.syncs.start(connection_id, "manual"):
        raise ConflictError("A sync of this connection is already running; poll its runs for progress.")
    return SyncStartedOut(
        connection_id=connection_id, started=True, runs_url=f"/api/v1/connections/{connection_id}/sync-runs"
    )


@router.get("/connections/{connection_id}/sync-runs", response_model=SyncRunsOut, summary="Sync runs")
def list_runs(
    connection_id: PathId,
    user: ApiUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SyncRunsOut:
    """Newest first. The detail page polls this (limit=1) for days_done / days_total."""
    with services.engine.connect() as conn:
        runs = sync_runs(conn, user.tenant_id, connection_id, limit)
    return SyncRunsOut(
        running=services.syncs.is_running(connection_id), runs=[SyncRunOut.model_validate(r) for r in runs]
    )


@router.get("/connections/{connection_id}/events", response_model=EventsOut, summary="A connection's events")
def connection_events(
    connection_id: PathId,
    user: ApiUser,
    services: ServicesDep,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> EventsOut:
    with services.engine.connect() as conn:
        events = tenant_events(conn, user.tenant_id, connection_id, kind, limit)
    return EventsOut(events=[EventOut.model_validate(e) for e in events])


@router.get("/events", response_model=EventsOut, summary="The event log")
def events(
    user: ApiUser,
    services: ServicesDep,
    connection_id: QueryId = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> EventsOut:
    """Newest first: credential, scope, rate_limit, upstream_error, sync_started, sync_finished, late_data …"""
    with services.engine.connect() as conn:
        found = tenant_events(conn, user.tenant_id, connection_id, kind, limit)
    return EventsOut(events=[EventOut.model_validate(e) for e in found])


def _page(
    kind: str, params: UsageParams, limit: int, offset: int, cursor: str | None
) -> tuple[UsageParams, Page]:
    page = plan_page(kind, params, limit, offset, cursor)
    return params.replaced(limit=page.limit, offset=page.offset), page


@router.get(
    "/usage", response_model=UsageOut, summary="Usage query", responses={200: {"content": {"text/csv": {}}}}
)
def usage(
    user: ApiUser,
    services: ServicesDep,
    params: UsageParamsDep,
    connection_id: QueryId = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    cursor: Cursor = None,
    format: Format = "json",
) -> UsageOut | Response:
    """Same group-by and filters as `usageledger usage`; rows carry the CLI's JSON keys (and names beside ids).

    Paged: follow `next_cursor` until it is null. `format=csv` streams every row instead.
    """
    scoped = params.replaced(connection_id=connection_id)
    if format == "csv":
        return csv_response(open_usage_csv(services.engine, user.tenant_id, scoped), "usage.csv")
    paged, page = _page("usage", scoped, limit, offset, cursor)
    with services.engine.connect() as conn:
        if connection_id is not None:
            get_connection(conn, connection_id, user.tenant_id)
        rows, totals, total_rows = usage_rows_json(conn, user.tenant_id, paged)
    return UsageOut(rows=rows, totals=totals, total_rows=total_rows, limit=page.limit, offset=page.offset,
                    next_cursor=page.next_cursor(len(rows), total_rows))  # fmt: skip


@router.get("/cost", response_model=CostOut, summary="Cost query")
def cost(
    user: ApiUser,
    services: ServicesDep,
    params: UsageParamsDep,
    connection_id: QueryId = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    cursor: Cursor = None,
) -> CostOut:
    """Reported cost per group: amount_usd and list_amount_usd as decimal strings. Paged like /usage."""
    paged, page = _page("cost", params.replaced(connection_id=connection_id), limit, offset, cursor)
    with services.engine.connect() as conn:
        if connection_id is not None:
            get_connection(conn, connection_id, user.tenant_id)
        rows, totals, total_rows = cost_rows_json(conn, user.tenant_id, paged)
    return CostOut(rows=rows, totals=totals, total_rows=total_rows, limit=page.limit, offset=page.offset,
                   next_cursor=page.next_cursor(len(rows), total_rows))  # fmt: skip


@router.get("/tokens", response_model=TokensOut, summary="Personal access tokens")
def tokens(user: ApiAdmin, services: ServicesDep) -> TokensOut:
    with services.engine.connect() as conn:
        found = list_access_tokens(conn, user.tenant_id)
    return TokensOut(tokens=[AccessTokenOut.model_validate(t) for t in found])


@router.post("/tokens", response_model=NewAccessTokenOut, status_code=201, summary="Create a token")
def create_token(
    body: TokenIn, user: ApiAdmin, services: ServicesDep, response: Response
) -> NewAccessTokenOut:
    """The token is in this response only; it is stored as a sha256 hash."""
    with services.engine.begin() as conn:
        new = create_access_token(conn, tenant_id=user.tenant_id, user_id=user.id, name=body.name)
    response.headers["cache-control"] = "no-store"
    return NewAccessTokenOut(**AccessTokenOut.model_validate(new.row).model_dump(), token=new.token)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
def revoke_token(token_id: PathId, user: ApiAdmin, services: ServicesDep) -> Response:
    with services.engine.begin() as conn:
        delete_access_token(conn, token_id, tenant_id=user.tenant_id)
    return Response(status_code=204)
