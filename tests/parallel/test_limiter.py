"""The adaptive limit of requests in flight: AIMD on 429s, priorities, and never more than the limit."""

from __future__ import annotations

import threading
import time

import pytest

from usageledger.anthropic.limiter import AdaptiveLimit


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_starts_at_the_maximum_and_refuses_a_maximum_below_one():
    """The limit begins where the setting puts it; zero slots would never sync."""
    assert AdaptiveLimit(6).limit == 6
    with pytest.raises(ValueError, match="at least 1"):
        AdaptiveLimit(0)


def test_a_429_halves_the_limit_once_per_episode_and_pauses_for_retry_after():
    """Several 429s answering requests already sent lower the limit once; the pause is retry-after."""
    clock = FakeClock()
    limit = AdaptiveLimit(8, clock=clock)
    limit.note_rate_limited(2.0)
    limit.note_rate_limited(2.0)  # the same episode: the other requests sent before the pause
    assert (limit.limit, limit.lowered, limit.lowest) == (4, 1, 4)
    clock.now += 2.5  # after the pause, a new refusal is news
    limit.note_rate_limited(0.5)
    assert (limit.limit, limit.lowered) == (2, 2)


def test_successes_raise_the_limit_slowly_up_to_one_below_the_refused_level():
    """Additive increase: one slot per `limit` successes, never back to the level that was refused."""
    clock = FakeClock()
    limit = AdaptiveLimit(8, clock=clock)
    limit.note_rate_limited(1.0)  # refused at 8: ceiling 7, limit 4
    for _ in range(3):
        limit.note_success()
    assert limit.limit == 4  # not yet: about `limit` successes buy one slot
    for _ in range(2):
        limit.note_success()
    assert limit.limit == 5
    for _ in range(100):
        limit.note_success()
    assert limit.limit == 7  # the ceiling, not the maximum


def test_after_a_quiet_spell_the_limit_probes_up_to_the_maximum_again():
    """A limit the API raised again is found again: the ceiling expires after `probe_after` seconds."""
    clock = FakeClock()
    limit = AdaptiveLimit(8, clock=clock, probe_after=30.0)
    limit.note_rate_limited(1.0)
    clock.now += 31
    for _ in range(200):
        limit.note_success()
    assert limit.limit == 8


def test_never_more_than_the_limit_in_flight_across_threads():
    """Twelve threads, limit 3: the peak in flight is exactly the limit, every request goes through."""
    limit = AdaptiveLimit(3)
    done = []

    def request() -> None:
        limit.acquire()
        time.sleep(0.02)
        limit.release()
        done.append(1)

    threads = [threading.Thread(target=request) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(done) == 12 and limit.peak_in_flight == 3 and limit.in_flight == 0


def test_a_pause_holds_back_new_requests_until_retry_after_has_passed():
    """After a 429 asking for 0.2 s, the next request waits at least that long (the API's wish)."""
    limit = AdaptiveLimit(4)
    limit.note_rate_limited(0.2)
    started = time.monotonic()
    limit.acquire()
    limit.release()
    assert time.monotonic() - started >= 0.18


def test_waiting_requests_get_a_slot_in_priority_order():
    """With one slot, the waiter of the oldest window (lowest rank) goes before later ones, whatever the order."""
    limit = AdaptiveLimit(1)
    limit.acquire()  # the one slot is taken: everyone below waits
    order: list[int] = []
    lock = threading.Lock()

    def request(rank: int) -> None:
        with limit.priority(rank):
            limit.acquire()
        with lock:
            order.append(rank)
        limit.release()

    threads = []
    for rank in (5, 3, 9, 1):
        thread = threading.Thread(target=request, args=(rank,))
        thread.start()
        threads.append(thread)
        time.sleep(0.02)  # each is waiting before the next arrives
    limit.release()
    for t in threads:
        t.join(5)
    assert order == [1, 3, 5, 9]
