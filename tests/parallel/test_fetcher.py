"""The window fetcher: windows in plan order, bounded buffers, and failures that wait for their window."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest

from usageledger.models import Window
from usageledger.sync.fetcher import Fetched, WindowFetcher, pages_ahead, windows_ahead

DAY = dt.date(2026, 3, 1)
WINDOWS = [Window(DAY + dt.timedelta(days=i), DAY + dt.timedelta(days=i + 1)) for i in range(6)]


class Pages:
    """Chains of `pages` items each, counting items produced and the most produced ahead of the consumer."""

    def __init__(self, pages: int, fail_in: Window | None = None) -> None:
        self.pages = pages
        self.fail_in = fail_in
        self.produced = 0
        self.consumed = 0
        self.most_ahead = 0
        self.started: set[Window] = set()
        self._lock = threading.Lock()

    def chains_of(self, window: Window):
        def chain() -> Iterator[Fetched]:
            with self._lock:
                self.started.add(window)
            for _ in range(self.pages):
                if window == self.fail_in:
                    raise RuntimeError(f"page of {window.start} failed")
                time.sleep(0.001)
                with self._lock:
                    self.produced += 1
                    self.most_ahead = max(self.most_ahead, self.produced - self.consumed)
                yield Fetched(window)

        return [chain, chain, chain]

    def took(self) -> None:
        with self._lock:
            self.consumed += 1


def test_windows_come_whole_and_in_plan_order_with_every_page():
    """Each window's iterator yields all of its chains' pages, and windows arrive oldest first."""
    pages = Pages(5)
    seen = []
    with WindowFetcher(WINDOWS, pages.chains_of, windows_ahead=3, pages_ahead=4) as fetcher:
        for window, items in fetcher:
            got = list(items)
            assert {item.window for item in got} == {window}
            seen.append((window, len(got)))
    assert seen == [(w, 15) for w in WINDOWS]


def test_pages_waiting_for_the_writer_are_bounded_by_windows_and_depth():
    """A slow writer: never more than windows_ahead × (pages_ahead + one page per chain) waiting, besides
    the page in the writer's hands."""
    pages = Pages(20)
    with WindowFetcher(WINDOWS, pages.chains_of, windows_ahead=2, pages_ahead=3) as fetcher:
        for _window, items in fetcher:
            for _ in items:
                time.sleep(0.002)
                pages.took()
    # Each chain may hold one page it could not yet hand over, besides the inbox's three.
    assert pages.consumed == 6 * 60 and pages.most_ahead <= 2 * (3 + 3) + 1


def test_a_failure_reaches_the_writer_at_its_window_after_the_earlier_ones():
    """A chain failing in the third window: the first two arrive whole, then its error; no later window starts."""
    pages = Pages(4, fail_in=WINDOWS[2])
    finished = []
    with (
        pytest.raises(RuntimeError, match=str(WINDOWS[2].start)),
        WindowFetcher(WINDOWS, pages.chains_of, windows_ahead=2, pages_ahead=8) as fetcher,
    ):
        for window, items in fetcher:
            list(items)
            finished.append(window)
    assert finished == WINDOWS[:2]
    assert WINDOWS[4] not in pages.started and WINDOWS[5] not in pages.started


def test_wait_all_called_returns_once_the_last_windows_chains_made_their_calls():
    """True only after every chain of every window ended (the last windows are admitted as the writer
    reaches them), while the writer still holds the last window's pages; with no window, at once."""
    pages = Pages(3)
    answers: list[tuple[bool, int]] = []
    with WindowFetcher(WINDOWS, pages.chains_of, windows_ahead=2, pages_ahead=16) as fetcher:
        waiter = threading.Thread(target=lambda: answers.append((fetcher.wait_all_called(), pages.produced)))
        waiter.start()
        for index, (_window, items) in enumerate(fetcher):
            if index == len(WINDOWS) - 1:
                waiter.join(timeout=5)
                assert answers == [(True, len(WINDOWS) * 9)]  # before the last window was taken
            list(items)
    with WindowFetcher([], pages.chains_of, windows_ahead=2, pages_ahead=4) as fetcher:
        assert fetcher.wait_all_called()


def test_wait_all_called_stays_true_after_a_writer_that_took_everything_left():
    """A fast writer takes every page and leaves before the waiter asks: every call was made all the
    same, so the answer is still True (the hours of a small organization's sync are fetched)."""
    pages = Pages(2)
    with WindowFetcher(WINDOWS, pages.chains_of, windows_ahead=2, pages_ahead=4) as fetcher:
        for _window, items in fetcher:
            list(items)
    assert fetcher.wait_all_called()


def test_wait_all_called_says_false_at_once_when_a_chain_fails():
    """A chain of the second window fails while the writer is still in the first: the waiter hears False
    then, before the writer reaches the failure or leaves."""
    pages = Pages(4, fail_in=WINDOWS[1])
    answers: list[bool] = []
    with (
        pytest.raises(RuntimeError, match=str(WINDOWS[1].start)),
        WindowFetcher(WINDOWS, pages.chains_of, windows_ahead=2, pages_ahead=8) as fetcher,
    ):
        waiter = threading.Thread(target=lambda: answers.append(fetcher.wait_all_called()))
        waiter.start()
        for _window, items in fetcher:
            waiter.join(timeout=5)
            assert answers == [False]
            list(items)
    waiter.join(timeout=5)


def test_wait_all_called_says_false_when_the_writer_leaves_first():
    """The writer leaves before the last window's chains ran: the waiter is told False, not left waiting."""
    pages = Pages(4)
    answers: list[bool] = []
    with WindowFetcher(WINDOWS, pages.chains_of, windows_ahead=2, pages_ahead=8) as fetcher:
        waiter = threading.Thread(target=lambda: answers.append(fetcher.wait_all_called()))
        waiter.start()
        for _window, items in fetcher:
            next(items)
            break
        assert answers == []  # windows not yet admitted have made no call
    waiter.join(timeout=5)
    assert answers == [False]


def test_windows_and_pages_ahead_follow_the_limit():
    """A quarter as many windows as requests in flight (at least two; three on SQLite, whose writer
    outpaces one window's fetch); each may hold enough pages to be fetched whole (a 31-day window of a
    large organization: ~70 pages a chain, four long chains)."""
    assert [windows_ahead(n, "postgresql") for n in (1, 4, 8, 9, 32)] == [2, 2, 2, 3, 8]
    assert [windows_ahead(n, "sqlite") for n in (1, 4, 8, 12, 13, 32)] == [3, 3, 3, 3, 4, 8]
    assert pages_ahead(8) == 256 and pages_ahead(4) >= 4 * 31


class Page:
    """A page whose rows are decoded when first read and kept, as the API's pages are (`decoded` counts
    the decodings); `malformed` ones raise at every read."""

    def __init__(self, number: int, malformed: bool = False) -> None:
        self.number = number
        self.malformed = malformed
        self.decoded = 0
        self._rows: list[int] | None = None

    @property
    def records(self) -> list[int]:
        if self.malformed:
            raise ValueError(f"page {self.number} is malformed")
        if self._rows is None:
            self.decoded += 1
            self._rows = [self.number]
        return self._rows


def _chains_of_pages(per_chain: int, malformed: int | None = None):
    """Three chains of `per_chain` pages a window, answered at once; every page made is kept by window."""
    made: dict[Window, list[Page]] = {}
    lock = threading.Lock()

    def chains_of(window: Window):
        def chain() -> Iterator[Fetched]:
            for _ in range(per_chain):
                with lock:
                    pages = made.setdefault(window, [])
                    page = Page(len(pages), malformed=len(pages) == malformed)
                    pages.append(page)
                yield Fetched(window, usage=page)  # type: ignore[arg-type]

        return [chain, chain, chain]

    return chains_of, made


def _prepare_until(fetcher: WindowFetcher, pages: list[Page], count: int, seconds: float = 5) -> None:
    """Call prepare_next (which never waits) until `count` of `pages` are decoded, or `seconds` passed."""
    deadline = time.monotonic() + seconds
    while sum(page.decoded for page in pages) < count and time.monotonic() < deadline:
        fetcher.prepare_next(keep_going=lambda: True)
        time.sleep(0.005)


def _between_windows(fetcher: WindowFetcher, made: dict[Window, list[Page]], count: int):
    """Be the writer between its windows: take the first window whole, then wait (5 s at most) until
    `count` pages of the next were made. Returns the windows still to come."""
    windows = iter(fetcher)
    _first, items = next(windows)
    list(items)
    deadline = time.monotonic() + 5
    while len(made.get(WINDOWS[1], [])) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return windows


def test_prepare_next_decodes_the_next_windows_arrived_pages_which_then_come_once_each():
    """While the writer is between windows, the next window's pages that arrived are decoded ahead of its
    turn; that window then yields every page exactly once."""
    chains_of, made = _chains_of_pages(3)
    with WindowFetcher(WINDOWS[:2], chains_of, windows_ahead=2, pages_ahead=16) as fetcher:
        windows = _between_windows(fetcher, made, 9)
        _prepare_until(fetcher, made[WINDOWS[1]], 9)
        assert [page.decoded for page in made[WINDOWS[1]]] == [1] * 9  # before the window's turn
        window, items = next(windows)
        got = [item.usage for item in items]
    assert window == WINDOWS[1]
    assert sorted(page.number for page in got) == list(range(9))  # type: ignore[union-attr]
    assert [page.decoded for page in made[WINDOWS[1]]] == [1] * 9


def test_prepare_next_takes_nothing_when_told_to_stop_and_at_most_pages_ahead():
    """keep_going() False: nothing is decoded; True: only pages within the window's bound are, and the
    chains hand over no more than that bound while they wait decoded."""
    chains_of, made = _chains_of_pages(10)
    with WindowFetcher(WINDOWS[:2], chains_of, windows_ahead=2, pages_ahead=8) as fetcher:
        windows = _between_windows(fetcher, made, 8)
        fetcher.prepare_next(keep_going=lambda: False)
        assert sum(page.decoded for page in made[WINDOWS[1]]) == 0
        _prepare_until(fetcher, made[WINDOWS[1]], 30, seconds=0.5)
        # The inbox's bound, then no more (a chain's end, queued too, would count among the eight).
        assert 0 < sum(page.decoded for page in made[WINDOWS[1]]) <= 8
        time.sleep(0.1)
        # The bound and one page in the hands of each chain (pages taken out of the inbox to decode them
        # would let the chains refill it: 8 + 8 + 3).
        assert len(made[WINDOWS[1]]) <= 8 + 3
        _window, items = next(windows)
        assert len(list(items)) == 30


def test_a_malformed_page_prepared_ahead_fails_at_its_turn_not_before():
    """Decoding ahead swallows nothing: the malformed page raises when the writer reads it, in its window."""
    chains_of, made = _chains_of_pages(3, malformed=2)
    with WindowFetcher(WINDOWS[:2], chains_of, windows_ahead=2, pages_ahead=16) as fetcher:
        windows = iter(fetcher)
        _first, first_items = next(windows)
        with pytest.raises(ValueError, match="page 2 is malformed"):
            [item.usage.records for item in first_items]  # type: ignore[union-attr]
        deadline = time.monotonic() + 5
        while len(made.get(WINDOWS[1], [])) < 9 and time.monotonic() < deadline:
            time.sleep(0.005)
        _prepare_until(fetcher, made[WINDOWS[1]], 8)  # all but the malformed one, without raising
        _window, items = next(windows)
        with pytest.raises(ValueError, match="page 2 is malformed"):
            [item.usage.records for item in items]  # type: ignore[union-attr]


def test_a_failure_taken_ahead_is_raised_at_its_windows_turn():
    """A chain of the next window failed and prepare_next ran while its failure was queued: the current
    window still comes whole, and the failure is raised when the writer reaches the next one."""
    pages = Pages(2, fail_in=WINDOWS[1])
    with WindowFetcher(WINDOWS[:2], pages.chains_of, windows_ahead=2, pages_ahead=8) as fetcher:
        windows = iter(fetcher)
        _first, items = next(windows)
        time.sleep(0.2)  # the next window's chains fail at their first page
        fetcher.prepare_next(keep_going=lambda: True)
        assert len(list(items)) == 6
        _window, items = next(windows)
        with pytest.raises(RuntimeError, match=str(WINDOWS[1].start)):
            list(items)
