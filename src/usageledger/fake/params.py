"""Parsing and validating query parameters the way the Admin API does; failures become ApiError."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "ApiError",
    "QueryParams",
    "decode_cursor",
    "encode_cursor",
    "floor_day",
    "floor_hour",
    "parse_int",
    "parse_time",
    "query_hash",
    "rfc3339",
]


class ApiError(Exception):
    """An error response: status, error type and message, rendered in the API's error envelope."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers = dict(headers or {})
        self.details = dict(details) if details else None  # `error.details`, e.g. its error_code


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


class QueryParams:
    """Query parameters with array values accepted as `name[]=…` (brackets) or `name=…` (repeat)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in items:
            name = key[:-2] if key.endswith("[]") else key
            self._values.setdefault(name, []).append(value)

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[-1] if values else None

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name, []))

    def canonical(self, exclude: Sequence[str] = ("page", "limit")) -> str:
        """A stable spelling of every parameter but `exclude`, for hashing a query."""
        parts = [f"{k}={','.join(sorted(v))}" for k, v in sorted(self._values.items()) if k not in exclude]
        return "&".join(parts)


def parse_time(value: str | None, name: str, *, required: bool) -> dt.datetime | None:
    """An RFC 3339 timestamp with a timezone, as an aware UTC datetime."""
    if value is None or value == "":
        if required:
            raise invalid(f"{name}: Field required")
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise invalid(
            f"{name}: invalid datetime {value!r}; expected RFC 3339, e.g. 2026-03-01T00:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise invalid(f"{name}: timestamp {value!r} must include a timezone (RFC 3339), e.g. a trailing Z")
    return parsed.astimezone(dt.UTC)


def parse_int(value: str | None, name: str, *, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise invalid(f"{name}: expected an integer, got {value!r}") from None
    if not low <= number <= high:
        raise invalid(f"{name}: must be between {low} and {high}, got {number}")
    return number


def floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def floor_day(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def rfc3339(moment: dt.datetime) -> str:
    """UTC timestamp as the API spells it: 2026-03-01T00:00:00Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_hash(endpoint: str, params: QueryParams) -> str:
    return hashlib.sha256(f"{endpoint}?{params.canonical()}".encode()).hexdigest()[:16]


def encode_cursor(offset: int, qhash: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{qhash}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, qhash: str) -> int:
    """The offset a cursor points at; a cursor of another query (or garbage) is a 400."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        offset_text, cursor_hash = raw.split(":", 1)
        offset = int(offset_text)
    except (ValueError, UnicodeDecodeError):
        raise invalid("page: invalid page cursor") from None
    if cursor_hash != qhash or offset < 0:
        raise invalid(
            "page: this cursor belongs to a different query; send the same parameters as the "
            "request that returned it"
        )
    return offset


__all__ += ["invalid"]
