"""The Starlette app of the fake Admin API: routing, call counting, faults, auth, the error envelope.

Keys come in `x-api-key` or, as the SDK 2.10.0 sends them, `Authorization: Bearer`.
Every response carries a `request-id` header; every error is
`{"type": "error", "error": {"type": ..., "message": ...}}` with the API's status for that type.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import analytics, classic, listing, spend_limits
from .params import ApiError, QueryParams

if TYPE_CHECKING:
    from .faults import Fault
    from .generator import FakeOrganization

__all__ = ["create_app"]

_PREFIX = "/v1/organizations"
_REPORT_PATHS = frozenset(
    {
        f"{_PREFIX}/analytics/usage",
        f"{_PREFIX}/analytics/cost",
        f"{_PREFIX}/usage_report/messages",
        f"{_PREFIX}/cost_report",
    }
)
_ERROR_FAULTS = {
    "rate_limit": (429, "rate_limit_error", "Rate limited: slow down and retry after the delay."),
    "server_error": (500, "api_error", "Internal server error."),
    "overloaded": (529, "overloaded_error", "Overloaded."),
}

Handler = Callable[["FakeOrganization", QueryParams, list[str]], dict[str, Any]]


def _dumps(payload: Any) -> bytes:
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, analytics.RawRows):  # a report page whose rows are rendered already
        rest = json.dumps({k: v for k, v in payload.items() if k != "data"}, separators=(",", ":"))
        head, tail = b'{"data":[', ("]}" if rest == "{}" else "]," + rest[1:]).encode()
        if not data:
            return head + tail
        if len(data) == 1:
            return head + data[0] + tail
        return b",".join([head + data[0], *data[1:-1], data[-1] + tail])  # one large copy, not several
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _betas(request: Request) -> list[str]:
    return [b.strip() for header in request.headers.getlist("anthropic-beta") for b in header.split(",")]


def _authorize(fake: FakeOrganization, request: Request, path: str) -> None:
    key = request.headers.get("x-api-key")
    if not key:  # the SDK (2.10.0) sends the key as a bearer token
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
    if not key:
        raise ApiError(401, "authentication_error", "x-api-key header is required")
    kind = fake.keys.get(key)
    if kind is None and key.startswith("sk-ant-api03-"):
        raise ApiError(
            401,
            "authentication_error",
            "This endpoint requires an Admin API key (sk-ant-admin01-...); standard API keys cannot "
            "use the Admin API.",
        )
    if kind is None or kind == "revoked":
        raise ApiError(401, "authentication_error", "invalid x-api-key")
    if kind == "no_usage_scope" and path in _REPORT_PATHS:
        raise ApiError(
            403, "permission_error", "This API key does not have permission to read usage and cost."
        )
    if kind == "analytics_off" and path.startswith(f"{_PREFIX}/analytics/"):
        raise ApiError(
            403, "permission_error", "The Usage and Cost Analytics API is not enabled for this organization."
        )


def create_app(fake: FakeOrganization) -> Starlette:
    """An ASGI app serving `fake` on every Admin API endpoint usageledger uses."""
    # Room for the queries of a client that fetches several windows side by side (each window: usage,
    # cost, the actor grain's two and the totals; both grains' days): with the default's 6 results, pages
    # of interleaved queries evicted each other and every page rebuilt its whole window.
    cache = analytics.ResultCache(size=32, days=512)
    request_ids = itertools.count(1)
    run_tag = secrets.token_hex(4)

    def analytics_page(kind: str) -> Handler:
        def handle(fake: FakeOrganization, params: QueryParams, betas: list[str]) -> dict[str, Any]:
            query = analytics.parse_query(kind, params, betas, fake)
            return analytics.build_page(fake, query, cache)

        return handle

    handlers: dict[str, Handler] = {
        f"{_PREFIX}/me": lambda f, p, b: listing.organization_info(f),
        f"{_PREFIX}/workspaces": lambda f, p, b: listing.list_workspaces(f, p),
        f"{_PREFIX}/api_keys": lambda f, p, b: listing.list_api_keys(f, p),
        f"{_PREFIX}/users": lambda f, p, b: listing.list_users(f, p),
        f"{_PREFIX}/rbac_groups": lambda f, p, b: listing.list_rbac_groups(f, p),
        f"{_PREFIX}/spend_limits": spend_limits.list_spend_limits,
        f"{_PREFIX}/analytics/usage": analytics_page("usage"),
        f"{_PREFIX}/analytics/cost": analytics_page("cost"),
        f"{_PREFIX}/usage_report/messages": classic.build_usage_report,
        f"{_PREFIX}/cost_report": classic.build_cost_report,
    }

    def respond(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
        all_headers = {"request-id": f"req_fake_{run_tag}_{next(request_ids):08d}", **(headers or {})}
        return Response(body, status_code=status, media_type="application/json", headers=all_headers)

    def error(exc: ApiError) -> Response:
        body: dict[str, Any] = {"type": exc.error_type, "message": exc.message}
        if exc.details:
            body["details"] = exc.details
        envelope = {"type": "error", "error": body}
        return respond(exc.status, _dumps(envelope), exc.headers)

    async def endpoint(request: Request) -> Response:
        path = request.url.path.rstrip("/") or "/"
        fake.calls[path] += 1
        if not fake.faults.enter():  # above the in-flight cap: turned away before any work
            return error(_busy_error(fake.faults.busy_retry_after))
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        try:
            response = await answer(request, path)
            # The answer leaves `latency` after the request arrived: the page was built within it, as a
            # distant API's servers build theirs within the latency its clients see. Sleeping first and
            # building after made every call latency + the build (+ the wait for the builds of others
            # in this one event loop): 181 ms on average instead of 150 in the benchmark, measured.
            remaining = arrived + fake.faults.latency - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
            return response
        finally:
            fake.faults.leave(loop.time() - arrived)

    async def answer(request: Request, path: str) -> Response:
        fault = fake.faults.take(path)
        if fault is not None and fault.kind in _ERROR_FAULTS:
            return error(_fault_error(fault))
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        handler = handlers.get(path) or _member_list(path)
        try:
            if handler is None:
                raise ApiError(404, "not_found_error", f"Not found: {request.method} {path}")
            if request.method != "GET":
                raise ApiError(405, "invalid_request_error", f"Method {request.method} not allowed on {path}")
            _authorize(fake, request, path)
            params = QueryParams(request.query_params.multi_items())
            betas = _betas(request)
            payload = handler(fake, params, betas)
        except ApiError as exc:
            return error(exc)
        if fault is not None:
            payload = _bend_payload(fault, path, payload, params)
        body = _dumps(payload)
        if fault is not None and fault.kind == "truncated":
            body = body[: len(body) // 2]
        elif fault is not None and fault.kind == "bad_json":
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        return respond(200, body)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


def _member_list(path: str) -> Handler | None:
    """The handler of `/workspaces/{id}/members` or `/rbac_groups/{id}/members`, with its id bound."""
    parent, slash, tail = path.removeprefix(f"{_PREFIX}/").partition("/")
    parent_id, _, leaf = tail.partition("/")
    if not slash or not parent_id or leaf != "members":
        return None
    if parent == "workspaces":
        return lambda f, p, b: listing.list_workspace_members(f, p, parent_id)
    if parent == "rbac_groups":
        return lambda f, p, b: listing.list_rbac_group_members(f, p, parent_id)
    return None


def _retry_after_headers(seconds: float) -> dict[str, str]:
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(0, round(seconds * 1000))),
    }


def _fault_error(fault: Fault) -> ApiError:
    status, error_type, message = _ERROR_FAULTS[fault.kind]
    headers = _retry_after_headers(fault.retry_after) if fault.kind == "rate_limit" else {}
    return ApiError(status, error_type, message, headers)


def _busy_error(retry_after: float) -> ApiError:
    status, error_type, _ = _ERROR_FAULTS["rate_limit"]
    message = "Rate limited: too many requests in flight for this organization; retry after the delay."
    return ApiError(status, error_type, message, _retry_after_headers(retry_after))


def _bend_payload(fault: Fault, path: str, payload: dict[str, Any], params: QueryParams) -> dict[str, Any]:
    """Apply the faults that change a successful page: repeated_cursor and missing_field."""
    if fault.kind == "missing_field" and "has_more" in payload:
        payload = {k: v for k, v in payload.items() if k != "has_more"}
    elif fault.kind == "repeated_cursor" and "next_page" in payload:
        if path.startswith(f"{_PREFIX}/analytics/"):
            cursor = analytics.self_cursor(path.rsplit("/", 1)[1], params)
        else:
            cursor = classic.self_cursor(params)
        payload = {**payload, "has_more": True, "next_page": cursor}
    elif fault.kind == "repeated_cursor" and "last_id" in payload:
        payload = {**payload, "has_more": True, "last_id": params.get("after_id")}
    return payload
