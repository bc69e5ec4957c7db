"""Serving the fake over HTTP: in a daemon thread for tests and benchmarks, or in the foreground for the demo."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from .generator import FakeOrganization
from .several import FakeOrganizations

__all__ = ["RunningFake", "serve_forever", "serve_in_thread"]


class RunningFake:
    """A fake served on loopback; `url` is its base URL. Stop it with `stop()` or a `with` block."""

    def __init__(
        self,
        fake: FakeOrganization | FakeOrganizations,
        server: uvicorn.Server,
        thread: threading.Thread,
        url: str,
    ) -> None:
        self.fake = fake
        self.url = url
        self._server = server
        self._thread = thread

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> RunningFake:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _config(fake: FakeOrganization | FakeOrganizations, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        fake.app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )


def serve_in_thread(
    fake: FakeOrganization | FakeOrganizations,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
) -> RunningFake:
    """Start uvicorn in a daemon thread (port 0 picks a free port) and wait until it listens."""
    server = uvicorn.Server(_config(fake, host, port))
    thread = threading.Thread(target=server.run, name="fake-anthropic", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the fake Anthropic API did not start on {host}:{port}")
        time.sleep(0.005)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    return RunningFake(fake, server, thread, f"http://{host}:{bound_port}")


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 7,
    rows_per_day: int = 120,
    *,
    rbac_groups: bool = False,
    latency: float = 0.0,
    max_in_flight: int | None = None,
) -> None:
    """Serve a fresh FakeOrganization in the foreground until interrupted (the `fake-anthropic` command);
    `latency` and `max_in_flight` make it answer like a distant, limited API (see `FaultPlan.set_capacity`)."""
    fake = FakeOrganization(seed=seed, rows_per_day=rows_per_day, rbac_groups=rbac_groups)
    fake.faults.set_capacity(latency=latency, max_in_flight=max_in_flight)
    uvicorn.Server(_config(fake, host, port)).run()
