"""Paginators are state machines: they never loop and never stop silently."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from usageledger.anthropic.pagination import iter_pages
from usageledger.errors import MalformedResponseError


@dataclass
class Page:
    n: int
    has_more: bool
    next_page: str | None


def _fetcher(pages: dict[str | None, Page]):
    asked: list[str | None] = []

    def fetch(cursor: str | None) -> Page:
        asked.append(cursor)
        return pages[cursor]

    return fetch, asked


def test_follows_cursors_until_has_more_is_false():
    """Three pages, each cursor passed back exactly once."""
    fetch, asked = _fetcher({None: Page(1, True, "a"), "a": Page(2, True, "b"), "b": Page(3, False, None)})
    assert [p.n for p in iter_pages(fetch, what="usage")] == [1, 2, 3]
    assert asked == [None, "a", "b"]


def test_a_repeated_cursor_is_an_error_not_a_loop():
    fetch, _ = _fetcher({None: Page(1, True, "a"), "a": Page(2, True, "a")})
    with pytest.raises(MalformedResponseError, match="repeated"):
        list(iter_pages(fetch, what="usage"))


def test_has_more_without_a_cursor_is_an_error_not_a_silent_stop():
    fetch, _ = _fetcher({None: Page(1, True, None)})
    with pytest.raises(MalformedResponseError, match="no cursor"):
        list(iter_pages(fetch, what="usage"))
