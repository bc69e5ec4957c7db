"""A faithful offline stand-in for the Anthropic Admin API, for tests, the benchmark and the demo.

    fake = FakeOrganization(seed=7, rows_per_day=120)
    with serve_in_thread(fake) as running:
        client = anthropic.Anthropic(api_key=FAKE_ADMIN_KEY, base_url=running.url)

`fake.truth_usage(start, end)` / `fake.truth_cost(start, end)` give what a correct sync must store.
"""

from __future__ import annotations

from .faults import FAULT_KINDS, Fault, FaultPlan
from .generator import FAKE_ADMIN_KEY, KEY_KINDS, CallCounter, FakeOrganization
from .params import ApiError
from .server import RunningFake, serve_forever, serve_in_thread
from .several import FakeOrganizations

__all__ = [
    "FAKE_ADMIN_KEY",
    "FAULT_KINDS",
    "KEY_KINDS",
    "ApiError",
    "CallCounter",
    "FakeOrganization",
    "FakeOrganizations",
    "Fault",
    "FaultPlan",
    "RunningFake",
    "serve_forever",
    "serve_in_thread",
]
