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

Besides these scripted faults, the plan can make the fake behave like a distant, limited API
(`set_capacity`): every request is answered `latency` seconds after it arrived, the fake's own work on
it included (as a distant API's latency includes its servers' work), and a request that arrives while
`max_in_flight` others are being answered gets a 429 with `retry-after` at once. It counts the peak
of requests in flight, the requests it turned away and how long its answers took, for tests and
benchmarks to check.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["BUSY_RETRY_AFTER", "FAULT_KINDS", "Fault", "FaultPlan"]

# The `retry-after` of a request turned away above the in-flight cap: about one request's time.
BUSY_RETRY_AFTER = 0.25

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
        self.latency = 0.0  # seconds from a request's arrival to its answer
        self.max_in_flight: int | None = None  # above it, a request is answered 429 at once
        self.busy_retry_after = BUSY_RETRY_AFTER
        self.in_flight = 0
        self.peak_in_flight = 0
        self.turned_away = 0  # requests answered 429 because max_in_flight were being answered
        # How long the admitted requests took from arrival to answer: above `latency` when the fake's own
        # work on a page (or on another page before it, in its one event loop) outlasted it.
        self.answered = 0
        self.answer_seconds = 0.0
        self.slowest_answer = 0.0

    def set_capacity(
        self,
        *,
        latency: float = 0.0,
        max_in_flight: int | None = None,
        retry_after: float = BUSY_RETRY_AFTER,
    ) -> None:
        """Answer every request `latency` s after it arrived, and at most `max_in_flight` at once (429
        above it)."""
        if latency < 0:
            raise ValueError("latency must not be negative")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        with self._lock:
            self.latency = latency
            self.max_in_flight = max_in_flight
            self.busy_retry_after = retry_after
            self.peak_in_flight = self.turned_away = self.answered = 0
            self.answer_seconds = self.slowest_answer = 0.0

    def enter(self) -> bool:
        """A request arrives: False (turn it away) when `max_in_flight` are already being answered."""
        with self._lock:
            if self.max_in_flight is not None and self.in_flight >= self.max_in_flight:
                self.turned_away += 1
                return False
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return True

    def leave(self, seconds: float) -> None:
        """A request entered with `enter()` was answered, `seconds` after it arrived."""
        with self._lock:
            self.in_flight -= 1
            self.answered += 1
            self.answer_seconds += seconds
            self.slowest_answer = max(self.slowest_answer, seconds)

    def mean_answer_seconds(self) -> float | None:
        """The admitted requests' mean time from arrival to answer; None before the first."""
        with self._lock:
            return self.answer_seconds / self.answered if self.answered else None

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
        """Forget pending faults, latency and the in-flight cap (the counters stay, for inspection)."""
        with self._lock:
            self._faults.clear()
            self.latency = 0.0
            self.max_in_flight = None

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
