"""Fetch several windows at once; hand them to the writer one whole window at a time, oldest first.

A window is fetched by independent chains that run side by side: usage, cost, the actor grain's usage
and cost, and the two ungrouped totals. The pages of one chain follow its cursor, one after another, so
parallelism costs no call: every page is requested exactly once, as in a sequential sync. Up to
`windows_ahead` windows are fetched at once; how many requests are really in flight is the client's
adaptive limit (`anthropic.limiter`), shared by every chain. The threads here only keep work ready for it.

The writer takes the windows in plan order and commits each one alone, so the connection's cursor only
ever covers a contiguous prefix of committed windows: a sync killed at any point resumes without a gap.
Memory is bounded by the windows in flight: at most `windows_ahead` × `pages_ahead` pages (raw bodies,
decoded by the writer) wait, plus the requests in flight. A chain's failure reaches the writer when it gets to that window, after the earlier
windows committed; chains of later windows stop at their next page.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from ..anthropic import ActorPage, ActorSource, CostPage, Source, Totals, UsagePage
from ..models import CostRecord, UsageRecord, Window

__all__ = ["Fetched", "WindowFetcher", "pages_ahead", "plan_chains", "windows_ahead"]


@dataclass(frozen=True, slots=True)
class Fetched:
    """One page (or one ungrouped total) of a window, handed from a fetching thread to the writer."""

    window: Window
    usage: UsagePage | None = None
    cost: CostPage | None = None
    actor_usage: ActorPage[UsageRecord] | None = None
    actor_cost: ActorPage[CostRecord] | None = None
    usage_totals: Totals | None = None
    cost_totals: Totals | None = None

    def decode(self) -> None:
        """Decode the page's rows now rather than when the writer reads them. A malformed page is left as
        it was: reading its rows raises then, in the writer, at its turn."""
        for page in (self.usage, self.cost, self.actor_usage, self.actor_cost):
            if page is not None:
                try:
                    page.records  # noqa: B018  (the property decodes once and keeps the rows)
                except Exception:  # noqa: S110  (raised again where it belongs: MalformedResponseError)
                    pass


Chain = Callable[[], Iterable[Fetched]]


def windows_ahead(max_in_flight: int, dialect: str) -> int:
    """Windows fetched at once for a limit of `max_in_flight` requests: the one being written and those
    fetched for it. A window has four long chains of about the same length (usage and cost of each
    grain), so a quarter as many windows as requests keep the limit busy. Never fewer than two, so the next
    window is on its way while one commits; on SQLite never fewer than three. A window's chains are pages
    in sequence (~60 at 150 ms a call, ~9 s, for a large organization), and a writer on SQLite (its
    inserts in a thread beside it) writes one in ~6.5 s: with only the next window on its way it waited at
    every window (0.266 of calls × latency for a year against 0.232 with two on their way, measured). On
    PostgreSQL the server's index work makes the writer the slower one, and a third window only held
    more pages (0.354 against 0.321, peak memory 1.4 GB against 0.7). Each window in flight holds its
    pages until the writer takes them."""
    least = 3 if dialect == "sqlite" else 2
    return max(least, -(-max_in_flight // 4))


def pages_ahead(max_in_flight: int) -> int:
    """Pages a window may hold for the writer: enough for the next window to be fetched whole while the
    writer works through this one. A window's chains are sequences of pages (each page needs the last
    one's cursor), ~70 pages each for a 31-day window of a large organization, ~10 s at 150 ms a call:
    with only two rounds of requests buffered (the old depth) a window ahead stalled after a few pages,
    and the writer waited for each window's chains in turn (0.39 of calls × latency for a year; 0.26–0.29
    with this depth, measured). The price is memory: raw pages of ~1 MB, up to this many per window ahead
    (a large organization's one-year backfill peaked at 0.9–1.1 GB, against 0.4–0.6)."""
    return 32 * max_in_flight


def plan_chains(source: Source, window: Window) -> list[Chain]:
    """The independent sequences of calls that fetch one window (both grains), longest first."""

    def usage() -> Iterator[Fetched]:
        return (Fetched(window, usage=page) for page in source.iter_usage(window))

    def cost() -> Iterator[Fetched]:
        return (Fetched(window, cost=page) for page in source.iter_cost(window))

    def usage_totals() -> list[Fetched]:
        return [Fetched(window, usage_totals=source.fetch_usage_totals(window))]

    def cost_totals() -> list[Fetched]:
        return [Fetched(window, cost_totals=source.fetch_cost_totals(window))]

    chains: list[Chain] = [usage, cost]
    if isinstance(source, ActorSource):  # the second grain, same window, same page size
        actor_source = source

        def actor_usage() -> Iterator[Fetched]:
            return (Fetched(window, actor_usage=page) for page in actor_source.iter_actor_usage(window))

        def actor_cost() -> Iterator[Fetched]:
            return (Fetched(window, actor_cost=page) for page in actor_source.iter_actor_cost(window))

        chains += [actor_usage, actor_cost]
    return [*chains, usage_totals, cost_totals]


class _ChainDone:
    __slots__ = ()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = _ChainDone()


class _Inbox:
    """The pages of one window as they arrive, from every chain (at most `depth` waiting: a chain that
    finds it full waits for the writer), and how many chains still run."""

    def __init__(self, chains: int, depth: int) -> None:
        self.queue: queue.Queue[Fetched | _ChainDone | _Failure] = queue.Queue(maxsize=depth)
        self.running = chains


class WindowFetcher:
    """Fetches `windows` (at most `windows_ahead` at once) and yields them oldest first, page by page.

    Use as a context manager: leaving it stops every chain at its next page and waits briefly for them.
    """

    def __init__(
        self,
        windows: list[Window],
        chains_of: Callable[[Window], list[Chain]],
        *,
        windows_ahead: int,
        pages_ahead: int,
        priority: Callable[[int], AbstractContextManager[None]] | None = None,
        join_timeout: float = 5.0,
    ) -> None:
        """At most `windows_ahead` windows are fetched at once, each at most `pages_ahead` pages ahead of
        the writer. `priority(index)` is entered by the threads of window `index` (the client's limit:
        the oldest window's calls go first, because the writer waits for it)."""
        if windows_ahead < 1 or pages_ahead < 1:
            raise ValueError("windows_ahead and pages_ahead must be at least 1")
        self._depth = pages_ahead
        self._windows = windows
        self._chains_of = chains_of
        self._ahead = windows_ahead
        self._join_timeout = join_timeout
        self._priority = priority or (lambda index: nullcontext())
        self._inboxes: dict[int, _Inbox] = {}
        self._threads: list[threading.Thread] = []
        self._admitted = 0
        self._stop = threading.Event()
        self._failed_at: int | None = None  # the earliest window a chain failed in
        self._lock = threading.Lock()
        self._chains_running = 0
        # Set once every chain of every window has made its last call (`_all_ended` then True), or once
        # the fetch stopped before that.
        self._all_called = threading.Event()
        self._all_ended = not windows
        if not windows:
            self._all_called.set()
        self.waited = 0.0  # seconds the writer spent waiting for pages: what the API, not the writer, cost

    def __enter__(self) -> WindowFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every chain at its next page; wait for them, `join_timeout` seconds in all."""
        self._stop.set()
        self._all_called.set()
        deadline = time.monotonic() + self._join_timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __iter__(self) -> Iterator[tuple[Window, Iterator[Fetched]]]:
        """Each window with an iterator of its pages (in arrival order); take them in turn."""
        for index, window in enumerate(self._windows):
            self._admit_up_to(index + self._ahead)
            inbox = self._inboxes.pop(index)
            yield window, self._drain(inbox)

    def prepare_next(self, keep_going: Callable[[], bool]) -> None:
        """While `keep_going()`, decode the pages of the next window that have arrived already, never
        waiting for one: the writer calls this while its window commits (SQLite checkpoints its WAL then,
        1.1-1.8 s a window of a large organization on a slow machine, measured), so that work is done when
        the window's turn comes. The pages stay queued, decoded in place, so the inbox's own bound holds;
        only the writing thread reads a page's rows, so nothing else touches them meanwhile."""
        inbox = self._inboxes.get(min(self._inboxes, default=-1))  # the oldest not yet handed out
        if inbox is None:
            return
        decoded: set[int] = set()  # ids of the pages decoded by this call (they stay queued, so alive)
        while keep_going():
            with inbox.queue.mutex:  # a snapshot of what is queued, taken as Queue's own methods do
                waiting = [
                    item
                    for item in inbox.queue.queue
                    if isinstance(item, Fetched) and id(item) not in decoded
                ]
            if not waiting:
                return
            for item in waiting:
                if not keep_going():
                    return
                item.decode()
                decoded.add(id(item))

    def wait_all_called(self) -> bool:
        """Wait until every chain of every window has made its last call: True, or False when the fetch
        stopped first (the writer left, or a chain failed: the sync is failing)."""
        self._all_called.wait()
        return self._all_ended  # decided when the event was set: the writer may have left since, done

    def _admit_up_to(self, end: int) -> None:
        while self._admitted < min(end, len(self._windows)):
            index = self._admitted
            chains = self._chains_of(self._windows[index])
            with self._lock:
                self._admitted += 1
                self._chains_running += len(chains)
            inbox = self._inboxes[index] = _Inbox(len(chains), self._depth)
            for number, chain in enumerate(chains):
                thread = threading.Thread(
                    target=self._run_chain,
                    args=(index, chain, inbox),
                    name=f"usageledger-fetch-{index}-{number}",
                    daemon=True,  # a chain blocked in a call must not keep a killed sync's process alive
                )
                self._threads.append(thread)
                thread.start()

    def _stopped(self, index: int) -> bool:
        failed_at = self._failed_at
        return self._stop.is_set() or (failed_at is not None and index > failed_at)

    def _put(self, index: int, inbox: _Inbox, item: Fetched | _ChainDone | _Failure) -> bool:
        """Hand `item` to the writer, waiting while the window's inbox is full; False once stopped."""
        while not self._stopped(index):
            try:
                inbox.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run_chain(self, index: int, chain: Chain, inbox: _Inbox) -> None:
        try:
            with self._priority(index):
                for item in chain():
                    if not self._put(index, inbox, item):
                        return
        except BaseException as error:  # handed to the writer, which raises it at this window
            with self._lock:
                if self._failed_at is None or index < self._failed_at:
                    self._failed_at = index
            self._all_called.set()
            self._put(index, inbox, _Failure(error))
            return
        finally:
            self._chain_ended()
        self._put(index, inbox, _DONE)

    def _chain_ended(self) -> None:
        with self._lock:
            self._chains_running -= 1
            if self._chains_running == 0 and self._admitted == len(self._windows):
                self._all_ended = self._failed_at is None and not self._stop.is_set()
                self._all_called.set()

    def _drain(self, inbox: _Inbox) -> Iterator[Fetched]:
        while inbox.running:
            started = time.perf_counter()
            item = inbox.queue.get()
            self.waited += time.perf_counter() - started
            if isinstance(item, _ChainDone):
                inbox.running -= 1
            elif isinstance(item, _Failure):
                raise item.error
            else:
                yield item
