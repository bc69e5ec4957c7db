"""Cursor paginators as small state machines: a repeated cursor or `has_more` without a cursor is an error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from ..errors import MalformedResponseError

__all__ = ["iter_pages"]


class _Page(Protocol):
    @property
    def has_more(self) -> bool: ...

    @property
    def next_page(self) -> str | None: ...


P = TypeVar("P", bound=_Page)


def iter_pages(fetch_page: Callable[[str | None], P], *, what: str) -> Iterator[P]:
    """Yield pages from `fetch_page(cursor)` until `has_more` is false; never loop, never stop silently."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        page = fetch_page(cursor)
        yield page
        if not page.has_more:
            return
        cursor = page.next_page
        if not cursor:
            raise MalformedResponseError(
                f"The Anthropic API said more {what} pages follow but gave no cursor. The window will be "
                "fetched again on the next sync."
            )
        if cursor in seen:
            raise MalformedResponseError(
                f"The Anthropic API repeated a {what} page cursor; stopping instead of looping. The window "
                "will be fetched again on the next sync."
            )
        seen.add(cursor)
