"""How many requests one client keeps in flight: a limit that adapts to the API's answers (AIMD).

The limit starts at the configured maximum (`USAGELEDGER_MAX_IN_FLIGHT`). Every HTTP attempt holds a
slot from the moment it is sent until its answer's headers arrive, so retries wait for a slot too.

- A 429 halves the limit and pauses every new request for the `retry-after` the API asked for. The
  429s that answer requests sent before the pause ended are the same news, not more: one halving per
  episode. The level that was refused, less one, becomes a ceiling.
- Each success raises the limit by 1/limit (one more slot per `limit` successes: slowly), up to the
  ceiling. After `probe_after` seconds without a 429 the ceiling returns to the maximum, so a limit
  that the API raised again is found again, at the price of one 429 per probe.

Waiting requests get a slot in order of their thread's `priority` (lower first; a sync gives the
oldest window's calls the lowest, so the window its writer waits for is never starved by windows
fetched ahead), then in order of arrival.

A sync therefore settles just under an organization's real concurrency limit instead of hammering it,
and asks for nothing more than it did before: a request turned away is retried, not dropped.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["DEFAULT_BACKOFF_SECONDS", "AdaptiveLimit"]

# The pause after a 429 that said nothing about when to come back.
DEFAULT_BACKOFF_SECONDS = 1.0
PROBE_AFTER_SECONDS = 30.0


class AdaptiveLimit:
    """Slots for requests in flight; `acquire` blocks while the limit is reached or a 429 pause runs."""

    def __init__(
        self,
        maximum: int,
        *,
        probe_after: float = PROBE_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maximum < 1:
            raise ValueError("maximum must be at least 1")
        self.maximum = maximum
        self._probe_after = probe_after
        self._clock = clock
        self._limit = float(maximum)
        self._ceiling = maximum
        self._in_flight = 0
        self._resume_at = -math.inf  # no new request before this moment (a 429's retry-after)
        self._last_refusal = -math.inf
        self._changed = threading.Condition()
        self._waiting: list[tuple[int, int]] = []  # (priority, arrival) of the requests waiting, a heap
        self._arrivals = itertools.count()
        self._local = threading.local()
        self.peak_in_flight = 0
        self.lowered = 0  # how many times a 429 lowered the limit
        self.lowest = maximum

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return int(self._limit)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @contextmanager
    def priority(self, rank: int) -> Iterator[None]:
        """Within the block, this thread's requests wait behind those of lower `rank` only."""
        before = getattr(self._local, "rank", 0)
        self._local.rank = rank
        try:
            yield
        finally:
            self._local.rank = before

    def acquire(self) -> None:
        """Wait for a free slot, the end of a 429 pause and every waiter of lower priority; take the slot."""
        me = (getattr(self._local, "rank", 0), next(self._arrivals))
        with self._changed:
            heapq.heappush(self._waiting, me)
            try:
                while True:
                    pause = self._resume_at - self._clock()
                    if pause > 0:
                        self._changed.wait(pause)
                    elif self._in_flight >= int(self._limit) or self._waiting[0] != me:
                        self._changed.wait()
                    else:
                        break
            finally:
                self._waiting.remove(me)
                heapq.heapify(self._waiting)
                self._changed.notify_all()  # the next in line may go now
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    def release(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def note_success(self) -> None:
        """An answer that was not a 429: additive increase, up to the ceiling."""
        with self._changed:
            if self._clock() - self._last_refusal >= self._probe_after:
                self._ceiling = self.maximum
            if self._limit < self._ceiling:
                before = int(self._limit)
                self._limit = min(float(self._ceiling), self._limit + 1 / self._limit)
                if int(self._limit) > before:
                    self._changed.notify_all()

    def note_rate_limited(self, retry_after: float | None) -> None:
        """A 429: pause new requests for `retry_after`; halve the limit once per episode."""
        with self._changed:
            now = self._clock()
            new_episode = now >= self._resume_at
            pause = retry_after if retry_after is not None and retry_after > 0 else DEFAULT_BACKOFF_SECONDS
            self._resume_at = max(self._resume_at, now + pause)
            self._last_refusal = now
            if not new_episode:
                return
            refused = int(self._limit)
            self._ceiling = max(1, refused - 1)
            self._limit = float(max(1, refused // 2))
            self.lowered += 1
            self.lowest = min(self.lowest, int(self._limit))
