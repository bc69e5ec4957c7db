"""A scriptable plan of failures the fake injects, consumed in the order they were added.

Kinds:
- `rate_limit`: 429 `rate_limit_error` with `retry-after` (seconds) and `retry-after-ms`.
- `server_error`: 500 `api_error`.  `overloaded`: 529 `overloaded_error`.
- `slow`: waits `delay` seconds, then answers normally.
- `truncated`: a 200 whose JSON body is cut in half (Content-Length matches the cut body).
- `bad_json`: a 200 whose body is not JSON at all.
- `repeated_cursor`: a report page whose `next_page` is the cursor that was sent (has_more true);
  on a directory list, `last_id` repeats the `after_id` that was sent.
- `missing_field`: a page without `has_more`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["FAULT_KINDS", "Fault", "FaultPlan"]

FAULT_KINDS = frozenset(
    {
        "rate_limit",
        "server_error",
        "overloaded",
        "slow",
        "truncated",
        "bad_json",
        "repeated_cursor",
        "missing_field",
    }
)


@dataclass(slots=True)
class Fault:
    path_prefix: str
    kind: str
    times: int
    retry_after: float = 0.01
    delay: float = 0.0


class FaultPlan:
    """Faults keyed by path prefix; each matching request consumes one `times` of the first match."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self, path_prefix: str, kind: str, times: int = 1, retry_after: float = 0.01, delay: float = 0.0
    ) -> Fault:
        """Fail the next `times` requests whose path starts with `path_prefix` in this way."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(path_prefix, kind, times, retry_after, delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.times > 0]

    def take(self, path: str) -> Fault | None:
        """The fault this request suffers, if any (consumed)."""
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and path.startswith(fault.path_prefix):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None
