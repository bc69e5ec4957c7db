"""The one door to the Admin API: the official SDK with an explicit key, plus failure classification.

Every HTTP failure becomes one of our errors here (STYLE 4). The SDK owns retries: it honours
`retry-after`/`retry-after-ms` on 429 and backs off exponentially with jitter on 5xx/529 and timeouts.
A response hook counts every attempt and notes rate limits, and stops the SDK from sleeping longer
than `max_retry_wait` on one `retry-after`, so a sync gives up in bounded time.

The client may be shared by several threads (a sync fetches windows side by side): every attempt,
retries included, holds a slot of one `AdaptiveLimit` (`USAGELEDGER_MAX_IN_FLIGHT`) from the request
hook to the response hook, and its 429s lower that limit (see `limiter`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from ..config import Settings
from ..errors import (
    EndpointUnavailableError,
    InvalidKeyError,
    PermissionDeniedError,
    RateLimitedError,
    UpstreamError,
)
from .limiter import AdaptiveLimit

__all__ = ["ANALYTICS_BETA", "SPEND_LIMITS_PATH", "AdminApiClient", "RateLimitNotice"]

ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
SPEND_LIMITS_PATH = "/v1/organizations/spend_limits"
# Longest single `retry-after` we are willing to sleep through; longer ones fail the sync at once.
MAX_RETRY_WAIT_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class RateLimitNotice:
    """One 429 the API answered, whether or not the retry that followed succeeded."""

    path: str
    retry_after: float | None
    request_id: str | None
    at: dt.datetime


@dataclass(slots=True)
class _Observer:
    limit: AdaptiveLimit
    calls: int = 0
    rate_limits: list[RateLimitNotice] = field(default_factory=list)
    max_retry_wait: float = MAX_RETRY_WAIT_SECONDS
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _holding: threading.local = field(default_factory=threading.local)  # this thread's attempt has a slot

    def take_slot(self) -> None:
        """Hold a slot for this thread's next attempt (taken before it is sent: see `_call`)."""
        if getattr(self._holding, "slot", False):
            return  # an attempt that got no answer, retried by the SDK, keeps the slot it held
        self.limit.acquire()
        self._holding.slot = True

    def on_request(self, request: httpx2.Request) -> None:
        self.take_slot()  # a retry after an answer (a 429, a 5xx) waits for a slot again

    def release_slot(self) -> None:
        """Give back this thread's slot, if its attempt still holds one (an attempt that got no answer)."""
        if getattr(self._holding, "slot", False):
            self._holding.slot = False
            self.limit.release()

    def take_rate_limits(self) -> list[RateLimitNotice]:
        with self._lock:
            notices, self.rate_limits = self.rate_limits, []
        return notices

    def on_response(self, response: httpx2.Response) -> None:
        self.release_slot()
        with self._lock:
            self.calls += 1
        if response.status_code != 429:
            self.limit.note_success()
            return
        retry_after = _retry_after_seconds(response.headers)
        self.limit.note_rate_limited(retry_after)
        with self._lock:
            self.rate_limits.append(
                RateLimitNotice(
                    path=response.request.url.path,
                    retry_after=retry_after,
                    request_id=response.headers.get("request-id"),
                    at=dt.datetime.now(dt.UTC),
                )
            )
        if retry_after is not None and retry_after > self.max_retry_wait:
            # The SDK reads this header before retrying: do not sleep for an hour inside a sync.
            response.headers["x-should-retry"] = "false"


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            continue
    return None


class AdminApiClient:
    """Speaks to one Anthropic organization with one Admin key. Returns raw bodies; `wire` parses them."""

    def __init__(
        self,
        settings: Settings,
        admin_key: str,
        *,
        http_client: httpx2.Client | None = None,
        base_url: str | None = None,
        before_call: Callable[[], None] | None = None,
    ) -> None:
        """`base_url` is a connection's stored API address (else the setting's, as at connect);
        `before_call` runs before every call and may raise to stop the caller (a sync's permit)."""
        self._observer = _Observer(AdaptiveLimit(settings.max_in_flight))
        self._before_call = before_call
        self._stored_base_url = base_url
        self._base_url = base_url or settings.anthropic_base_url
        if http_client is None:
            http_client = httpx2.Client(timeout=settings.request_timeout, follow_redirects=False)
        hooks = http_client.event_hooks
        hooks.setdefault("request", []).append(self._observer.on_request)
        hooks.setdefault("response", []).append(self._observer.on_response)
        http_client.event_hooks = hooks
        self._sdk = anthropic.Anthropic(
            api_key=admin_key,  # always explicit: never pick up ambient credentials
            base_url=self._base_url,
            max_retries=settings.max_retries,
            timeout=settings.request_timeout,
            http_client=http_client,
        )

    @property
    def calls(self) -> int:
        """HTTP attempts made so far, retries included."""
        return self._observer.calls

    @property
    def limit(self) -> AdaptiveLimit:
        """The requests this client keeps in flight at most, adapted to the API's 429s."""
        return self._observer.limit

    def take_rate_limits(self) -> list[RateLimitNotice]:
        return self._observer.take_rate_limits()

    def close(self) -> None:
        self._sdk.close()

    def __enter__(self) -> AdminApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls -----------------------------------------------------------------------------------

    def get_organization(self) -> bytes:
        return self._call(lambda: self._sdk.organization.with_raw_response.retrieve(), "/v1/organizations/me")

    def get_analytics_page(self, kind: str, params: Mapping[str, Any]) -> bytes:
        """One page of `/v1/organizations/analytics/{usage|cost}` (with the beta header)."""
        resource = (
            self._sdk.beta.organization.analytics.usage
            if kind == "usage"
            else self._sdk.beta.organization.analytics.cost
        )
        path = f"/v1/organizations/analytics/{kind}"
        return self._call(lambda: resource.with_raw_response.list(**params), path)

    def get_workspace_members_page(self, workspace_id: str, params: Mapping[str, Any]) -> bytes:
        """One SyncPage of `/workspaces/{id}/members` (GA surface; the SDK escapes the id into the path)."""
        members = self._sdk.organization.workspaces.members
        path = "/v1/organizations/workspaces/{workspace_id}/members"
        return self._call(lambda: members.with_raw_response.list(workspace_id, **params), path)

    def get_rbac_groups_page(self, params: Mapping[str, Any]) -> bytes:
        """One PageCursor of `/rbac_groups` (Claude Enterprise organizations only)."""
        groups = self._sdk.organization.rbac_groups
        return self._call(lambda: groups.with_raw_response.list(**params), "/v1/organizations/rbac_groups")

    def get_rbac_group_members_page(self, group_id: str, params: Mapping[str, Any]) -> bytes:
        """One PageCursor of `/rbac_groups/{id}/members`."""
        members = self._sdk.organization.rbac_groups.members
        path = "/v1/organizations/rbac_groups/{rbac_group_id}/members"
        return self._call(lambda: members.with_raw_response.list(group_id, **params), path)

    def get_spend_limits_page(self, params: Mapping[str, Any]) -> bytes:
        """One PageCursor of `/spend_limits` (beta surface; the SDK sends `spend-limit-reads-2026-09-26`)."""
        limits = self._sdk.beta.organization.spend_limits
        return self._call(lambda: limits.with_raw_response.list(**params), SPEND_LIMITS_PATH)

    def get_list_page(self, path: str, params: Mapping[str, Any]) -> bytes:
        """A GET the SDK has no typed method for (classic reports) or whose typing we do not need."""
        return self._call(
            lambda: self._sdk.get(path, cast_to=httpx2.Response, options={"params": dict(params)}),
            path,
        )

    def _call(self, send: Any, path: str) -> bytes:
        # The slot first, then the check: a call that waited for a slot while the sync was stopped
        # (a disconnect, a replaced key) is refused here instead of being sent with a stale permit.
        self._observer.take_slot()
        try:
            if self._before_call is not None:
                self._before_call()
            response = send()
        except anthropic.APIStatusError as exc:
            raise _classify_status(exc, path) from None
        except anthropic.APITimeoutError:
            raise UpstreamError(
                f"The Anthropic API did not answer {path} in time, even after retries. Try again later."
            ) from None
        except anthropic.APIConnectionError:
            raise UpstreamError(self._unreachable(path)) from None
        finally:
            self._observer.release_slot()  # an attempt that failed without an answer held its slot
        http_response = response if isinstance(response, httpx2.Response) else response.http_response
        return http_response.read()

    def _unreachable(self, path: str) -> str:
        """Name the address actually used, and the way to change it that actually works."""
        where = f"Could not reach the Anthropic API at {_shown_url(self._base_url)} for {path}."
        if self._stored_base_url is None:  # connecting: the setting decides the address
            return f"{where} Check the network (or USAGELEDGER_ANTHROPIC_BASE_URL) and try again."
        return (
            f"{where} Check the network and try again. This connection keeps the API address it was "
            "connected with; to change it, disconnect and connect again with USAGELEDGER_ANTHROPIC_BASE_URL "
            "set to the new address."
        )


def _shown_url(url: str) -> str:
    """The URL without any user:password part (never echo a credential)."""
    parsed = httpx2.URL(url)
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else url


def _classify_status(exc: anthropic.APIStatusError, path: str) -> Exception:
    request_id = exc.request_id
    detail = f" (request id {request_id})" if request_id else ""
    status = exc.status_code
    if status == 401:
        return InvalidKeyError(
            "Anthropic rejected the Admin API key: it is wrong, revoked or belongs to no organization"
            f"{detail}. Create a new Admin key in the Anthropic Console and connect again.",
            request_id=request_id,
        )
    if status == 403:
        return PermissionDeniedError(
            f"The key is valid but may not read {path}{detail}. Use an Admin API key created by an "
            "organization admin (or a key with the read:analytics scope).",
            request_id=request_id,
        )
    if status == 400 and exc.error_code == "organization_type_not_supported":
        # The endpoint exists but not for this kind of organization (Console vs Enterprise): as a 404.
        return EndpointUnavailableError(
            f"{path} is not offered to this type of organization{detail}.", request_id=request_id
        )
    if status == 404:
        return EndpointUnavailableError(
            f"This organization has no {path} endpoint{detail}.", request_id=request_id
        )
    if status == 429:
        retry_after = _retry_after_seconds(exc.response.headers)
        wait = f" It asked to wait {retry_after:.0f} s." if retry_after is not None else ""
        return RateLimitedError(
            f"The Anthropic API kept rate-limiting {path}{detail}.{wait} Try again later; the sync "
            "resumes where it stopped.",
            request_id=request_id,
            retry_after=retry_after,
        )
    if 400 <= status < 500:
        return UpstreamError(
            f"The Anthropic API refused the request to {path} ({status}: {exc.api_message}){detail}. "
            "This is likely a usageledger bug or an API change; please report it.",
            request_id=request_id,
        )
    return UpstreamError(
        f"The Anthropic API kept failing on {path} ({status}){detail}, even after retries. "
        "Try again later; the sync resumes where it stopped.",
        request_id=request_id,
    )
