"""The SCIM 2.0 service at /scim/v2, for identity providers (Okta, Microsoft Entra ID, Google) to provision people.

A surface of its own: its own bearer token (a SCIM token, made on the Identity settings page), no session,
no CSRF, no personal access tokens; answers are `application/scim+json` and every error is a SCIM Error
(`urn:ietf:params:scim:api:messages:2.0:Error`, with `scimType` where RFC 7644 names one). The token decides
the tenant, so a token never reads or writes another workspace's directory. Routes parse, call one
`identity.scim` function in one transaction, and render; scim2-models does the resources' validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import Response
from scim2_models import ResponseParameters, SCIMException
from sqlalchemy import Connection

from usageledger.identity import scim
from usageledger.identity.scim_discovery import resource_types, schemas, service_provider_config
from usageledger.identity.scim_mapping import parse_response_parameters
from usageledger.store.scim_tokens import tenant_for_scim_token
from usageledger.web.deps import Services, ServicesDep

__all__ = ["SCIM_PREFIX", "router", "scim_base_url"]

SCIM_PREFIX = "/scim/v2"
MEDIA_TYPE = "application/scim+json"
MAX_BODY_BYTES = 1024 * 1024
_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class _ScimFailure(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    body: dict[str, Any] = {"schemas": [_ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    headers = {"www-authenticate": 'Bearer realm="scim"'} if status == 401 else None
    return Response(json.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    headers = {}
    version = body.get("meta", {}).get("version") if isinstance(body.get("meta"), dict) else None
    if version:
        headers["etag"] = version
    if status == 201 and isinstance(body.get("meta"), dict) and body["meta"].get("location"):
        headers["location"] = body["meta"]["location"]
    return Response(json.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def scim_base_url(request: Request, services: Services) -> str:
    """The SCIM endpoint as identity providers must be told it: PUBLIC_URL when set, else this request's."""
    root = services.settings.public_url or str(request.base_url)
    return root.rstrip("/") + SCIM_PREFIX


def _tenant(request: Request, services: ServicesDep) -> int:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _ScimFailure(
            401, "Send 'Authorization: Bearer <SCIM token>'; an admin makes one under Identity."
        )
    with services.engine.begin() as conn:
        tenant_id = tenant_for_scim_token(conn, token.strip())
    if tenant_id is None:
        raise _ScimFailure(
            401, "Unknown or revoked SCIM token; make a new one under Company settings › Identity."
        )
    return tenant_id


Tenant = Annotated[int, Depends(_tenant)]


def _run(
    services: Services, action: Callable[[Connection], dict[str, Any] | None], status: int = 200
) -> Response:
    """One request, one transaction; a SCIM error rolls it back and becomes a SCIM Error body."""
    try:
        with services.engine.begin() as conn:
            body = action(conn)
    except SCIMException as exc:
        return _error(exc.status, exc.detail, exc.scim_type or None)
    if body is None:
        return Response(status_code=204)
    return _json(body, status)


async def _payload(request: Request) -> Any:
    """The JSON body, read in chunks and refused past MAX_BODY_BYTES (never held whole before the check)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _ScimFailure(413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.")
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise _ScimFailure(400, "The request body is not valid JSON.", "invalidSyntax") from exc


router = APIRouter(prefix=SCIM_PREFIX, include_in_schema=False)


def install_scim_errors(app: FastAPI) -> None:
    """SCIM's own error shape for failures before a route runs (authentication, the body, the query)."""

    @app.exception_handler(_ScimFailure)
    async def _failure(request: Request, exc: _ScimFailure) -> Response:
        return _error(exc.status, exc.detail, exc.scim_type)


def _number(name: str) -> Callable[[Request], int | None]:
    def parse(request: Request) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        try:
            return max(min(int(raw), 2**31), -(2**31))
        except ValueError:
            raise _ScimFailure(400, f"{name} must be a whole number.", "invalidValue") from None

    return parse


def _filter(request: Request) -> str | None:
    raw = request.query_params.get("filter")
    if raw is not None and len(raw) > 1000:
        raise _ScimFailure(400, "The filter is longer than 1000 characters.", "invalidFilter")
    return raw


Payload = Annotated[Any, Depends(_payload)]
IfMatch = Annotated[str | None, Header(alias="if-match")]
StartIndex = Annotated[int | None, Depends(_number("startIndex"))]
Count = Annotated[int | None, Depends(_number("count"))]
Filter = Annotated[str | None, Depends(_filter)]


def _params(request: Request) -> ResponseParameters[Any] | None:
    query = request.query_params
    try:
        return parse_response_parameters(query.get("attributes"), query.get("excludedAttributes"))
    except SCIMException as exc:
        raise _ScimFailure(exc.status, exc.detail, exc.scim_type or None) from exc


Params = Annotated[ResponseParameters[Any] | None, Depends(_params)]


def _search(payload: Any) -> dict[str, Any]:
    """A SearchRequest body (POST …/.search, RFC 7644 §3.4.3) as search arguments."""
    if not isinstance(payload, dict):
        raise _ScimFailure(400, "The request body must be a JSON object.", "invalidSyntax")
    numbers = {}
    for name in ("startIndex", "count"):
        value = payload.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise _ScimFailure(400, f"{name} must be a whole number.", "invalidValue")
        numbers[name] = value
    text = payload.get("filter")
    if text is not None and not isinstance(text, str):
        raise _ScimFailure(400, "filter must be a string.", "invalidFilter")
    try:
        params = parse_response_parameters(payload.get("attributes"), payload.get("excludedAttributes"))
    except SCIMException as exc:
        raise _ScimFailure(exc.status, exc.detail, exc.scim_type or None) from exc
    return {"filter": text, "start_index": numbers["startIndex"], "count": numbers["count"], "params": params}


# --- discovery (authenticated too: nothing about a workspace is public) ------------------------------------


@router.get("/ServiceProviderConfig")
def get_service_provider_config(request: Request, services: ServicesDep, tenant: Tenant) -> Response:
    return _json(service_provider_config(scim_base_url(request, services)))


@router.get("/Schemas")
def list_schemas(request: Request, services: ServicesDep, tenant: Tenant) -> Response:
    found = schemas(scim_base_url(request, services))
    return _json(scim.list_response(len(found), 1, found))


@router.get("/Schemas/{schema_id}")
def get_schema(schema_id: str, request: Request, services: ServicesDep, tenant: Tenant) -> Response:
    for found in schemas(scim_base_url(request, services)):
        if found["id"] == schema_id:
            return _json(found)
    return _error(404, f"No schema {schema_id[:200]!r}.")


@router.get("/ResourceTypes")
def list_resource_types(request: Request, services: ServicesDep, tenant: Tenant) -> Response:
    found = resource_types(scim_base_url(request, services))
    return _json(scim.list_response(len(found), 1, found))


@router.get("/ResourceTypes/{type_id}")
def get_resource_type(type_id: str, request: Request, services: ServicesDep, tenant: Tenant) -> Response:
    for found in resource_types(scim_base_url(request, services)):
        if found["id"] == type_id:
            return _json(found)
    return _error(404, f"No resource type {type_id[:200]!r}.")


# --- Users ------------------------------------------------------------------------------------------------


@router.get("/Users")
def list_users(
    request: Request, services: ServicesDep, tenant: Tenant, filter: Filter, start_index: StartIndex,
    count: Count, params: Params,
) -> Response:  # fmt: skip
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.search_users(
        c, tenant, base, filter=filter, start_index=start_index, count=count, params=params))  # fmt: skip


@router.post("/Users/.search")
def search_users(request: Request, services: ServicesDep, tenant: Tenant, payload: Payload) -> Response:
    base, search = scim_base_url(request, services), _search(payload)
    return _run(services, lambda c: scim.search_users(c, tenant, base, **search))


@router.post("/Users")
def create_user(
    request: Request, services: ServicesDep, tenant: Tenant, payload: Payload, params: Params
) -> Response:
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.create_user(c, tenant, base, payload, params), 201)


@router.get("/Users/{user_id}")
def get_user(
    user_id: str, request: Request, services: ServicesDep, tenant: Tenant, params: Params
) -> Response:
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.get_user(c, tenant, base, user_id, params))


@router.put("/Users/{user_id}")
def replace_user(
    user_id: str, request: Request, services: ServicesDep, tenant: Tenant, payload: Payload, params: Params,
    if_match: IfMatch = None,
) -> Response:  # fmt: skip
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.replace_user(
        c, tenant, base, user_id, payload, if_match=if_match, params=params))  # fmt: skip


@router.patch("/Users/{user_id}")
def patch_user(
    user_id: str, request: Request, services: ServicesDep, tenant: Tenant, payload: Payload, params: Params,
    if_match: IfMatch = None,
) -> Response:  # fmt: skip
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.patch_user(
        c, tenant, base, user_id, payload, if_match=if_match, params=params))  # fmt: skip


@router.delete("/Users/{user_id}")
def delete_user(user_id: str, services: ServicesDep, tenant: Tenant, if_match: IfMatch = None) -> Response:
    return _run(services, lambda c: scim.delete_user(c, tenant, user_id, if_match=if_match))


# --- Groups -----------------------------------------------------------------------------------------------


@router.get("/Groups")
def list_groups(
    request: Request, services: ServicesDep, tenant: Tenant, filter: Filter, start_index: StartIndex,
    count: Count, params: Params,
) -> Response:  # fmt: skip
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.search_groups(
        c, tenant, base, filter=filter, start_index=start_index, count=count, params=params))  # fmt: skip


@router.post("/Groups/.search")
def search_groups(request: Request, services: ServicesDep, tenant: Tenant, payload: Payload) -> Response:
    base, search = scim_base_url(request, services), _search(payload)
    return _run(services, lambda c: scim.search_groups(c, tenant, base, **search))


@router.post("/Groups")
def create_group(
    request: Request, services: ServicesDep, tenant: Tenant, payload: Payload, params: Params
) -> Response:
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.create_group(c, tenant, base, payload, params), 201)


@router.get("/Groups/{group_id}")
def get_group(
    group_id: str, request: Request, services: ServicesDep, tenant: Tenant, params: Params
) -> Response:
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.get_group(c, tenant, base, group_id, params))


@router.put("/Groups/{group_id}")
def replace_group(
    group_id: str, request: Request, services: ServicesDep, tenant: Tenant, payload: Payload, params: Params,
    if_match: IfMatch = None,
) -> Response:  # fmt: skip
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.replace_group(
        c, tenant, base, group_id, payload, if_match=if_match, params=params))  # fmt: skip


@router.patch("/Groups/{group_id}")
def patch_group(
    group_id: str, request: Request, services: ServicesDep, tenant: Tenant, payload: Payload, params: Params,
    if_match: IfMatch = None,
) -> Response:  # fmt: skip
    base = scim_base_url(request, services)
    return _run(services, lambda c: scim.patch_group(
        c, tenant, base, group_id, payload, if_match=if_match, params=params))  # fmt: skip


@router.delete("/Groups/{group_id}")
def delete_group(group_id: str, services: ServicesDep, tenant: Tenant, if_match: IfMatch = None) -> Response:
    return _run(services, lambda c: scim.delete_group(c, tenant, group_id, if_match=if_match))


# --- everything else: SCIM errors, not the app's HTML pages ----------------------------------------------

_READ_ONLY = [
    "/ServiceProviderConfig",
    "/Schemas",
    "/Schemas/{any}",
    "/ResourceTypes",
    "/ResourceTypes/{any}",
]


def _read_only(tenant: Tenant) -> Response:
    return _error(405, "This SCIM endpoint is read-only: use GET.")


for _path in _READ_ONLY:
    router.add_api_route(_path, _read_only, methods=["POST", "PUT", "PATCH", "DELETE"])


@router.post("/.search")
def search_everything(tenant: Tenant) -> Response:
    return _error(501, "Search one resource type at a time: POST /Users/.search or /Groups/.search.")


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str, tenant: Tenant) -> Response:
    return _error(404, "No such SCIM endpoint; see /ServiceProviderConfig and /ResourceTypes.")
