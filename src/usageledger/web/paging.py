"""Paging of the JSON API's usage and cost answers: a bounded `limit` and an opaque `cursor`.

A cursor is base64url JSON holding the next offset and a fingerprint of the query it belongs to
(kind, connection, dates, grouping, filters, sort). Replayed against another query it is refused
with a clear 400 instead of silently paging through different rows. It is not signed: all it can
name is an offset, which `offset=` already lets a caller choose.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from usageledger.errors import UsageError
from usageledger.web.params import MAX_LIMIT, UsageParams

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "plan_page"]

DEFAULT_LIMIT = 1_000  # MAX_LIMIT (params) caps what a caller may ask for
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Page:
    """Where a page starts, and how to make the cursor of the page after it."""

    offset: int
    limit: int
    fingerprint: str

    def next_cursor(self, rows_on_page: int, total_rows: int) -> str | None:
        following = self.offset + rows_on_page
        if rows_on_page == 0 or following >= total_rows:
            return None
        raw = json.dumps({"v": _VERSION, "o": following, "q": self.fingerprint}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _fingerprint(kind: str, params: UsageParams) -> str:
    """Everything that decides which rows a query has and in what order; not the page size."""
    identity = {
        "kind": kind,
        "connection_id": params.connection_id,
        "since": params.since.isoformat() if params.since else None,
        "until": params.until.isoformat() if params.until else None,
        "group_by": list(params.group_by),
        "filters": {name: sorted(values) for name, values in sorted(params.filters.items())},
        "sort": params.sort,
        "desc": params.desc,
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _decode(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        offset, fingerprint = data["o"], data["q"]
        if data.get("v") != _VERSION or not isinstance(offset, int) or offset < 0:
            raise ValueError
        if not isinstance(fingerprint, str):
            raise ValueError
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise UsageError(
            "This cursor is not one this server issued; drop `cursor` to start from the first page."
        ) from None
    return offset, fingerprint


def plan_page(kind: str, params: UsageParams, limit: int, offset: int, cursor: str | None) -> Page:
    """The page a request asks for: its `cursor` (checked against the query) or else its `offset`."""
    fingerprint = _fingerprint(kind, params)
    if cursor is None:
        return Page(offset=offset, limit=limit, fingerprint=fingerprint)
    if offset:
        raise UsageError("Send either `cursor` or `offset`, not both.")
    at, issued_for = _decode(cursor)
    if issued_for != fingerprint:
        raise UsageError(
            "This cursor belongs to another query (its dates, grouping, filters or sort differ); "
            "repeat the query the cursor came from, or drop `cursor` to start from the first page."
        )
    return Page(offset=at, limit=limit, fingerprint=fingerprint)
