"""Several fake organizations behind one base URL, told apart by the admin key, as the real API does.

The demo uses it so a person can connect a second organization through the web page while the first
stays connected. Requests with an unknown key go to the first organization, which answers 401.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .generator import FakeOrganization

__all__ = ["FakeOrganizations"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _key_of(scope: Scope) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"authorization" and value.lower().startswith(b"bearer "):
            return value[7:].decode("latin-1").strip()
        if name == b"x-api-key":
            return value.decode("latin-1").strip()
    return None


class FakeOrganizations:
    """An ASGI app routing each request to the organization whose keys include the request's key."""

    def __init__(self, *organizations: FakeOrganization) -> None:
        if not organizations:
            raise ValueError("at least one organization")
        self.organizations = organizations

    def owner_of(self, key: str | None) -> FakeOrganization:
        for organization in self.organizations:
            if key is not None and key in organization.keys:
                return organization
        return self.organizations[0]

    @property
    def app(self) -> FakeOrganizations:
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.owner_of(_key_of(scope)).app(scope, receive, send)
