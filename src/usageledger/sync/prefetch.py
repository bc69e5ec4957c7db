"""Fetch ahead in a thread while the caller writes: the API's latency overlaps the database's work.

Bounded (a few pages ahead, so memory stays flat), and failures travel to the consumer in order:
an error raised while fetching page N is raised after pages 1..N-1 were handed over.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

__all__ = ["iter_prefetched"]

T = TypeVar("T")
_END = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def iter_prefetched(items: Iterable[T], depth: int = 3) -> Generator[T, None, None]:
    """Yield `items` as they are produced by a background thread, at most `depth` ahead of the consumer."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(_Failure(error))
            return
        put(_END)

    producer = threading.Thread(target=produce, name="usageledger-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()  # the consumer stopped early (an error, or a KeyboardInterrupt): let the producer go
        producer.join(timeout=5)
