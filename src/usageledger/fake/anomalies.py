"""Injected anomalies: a one-day spike or a lasting step change in one API key's (or model's) usage.

They are the evidence for anomaly detection: a fake organization made with `anomalies=(Injection(...),)`
multiplies the matching rows' tokens, requests and price units by a whole `factor` on the injected days, so
tokens and cost stay exactly consistent (a row's price units are a sum of tokens × unit prices). A spike
changes one day; a step changes every day from `start` on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from usageledger.models import DAILY

__all__ = ["INJECTION_KINDS", "Injection", "inject"]

INJECTION_KINDS = ("spike", "step")
_METRICS = slice(len(DAILY.dimensions), len(DAILY.dimensions) + 8)  # 7 usage metrics, then list units
_API_KEY = DAILY.dimensions.index("api_key_id")
_MODEL = DAILY.dimensions.index("model")


@dataclass(frozen=True, slots=True)
class Injection:
    kind: str  # spike | step
    start: dt.date
    factor: int  # a whole number ≥ 2, so tokens and cost stay exact
    api_key_id: str | None = None  # the rows of this API key …
    model: str | None = None  # … and/or of this model (both None: every row)

    def __post_init__(self) -> None:
        if self.kind not in INJECTION_KINDS:
            raise ValueError(f"an injection is one of {INJECTION_KINDS}, not {self.kind!r}")
        if self.factor < 2:
            raise ValueError("an injection's factor is a whole number of at least 2")

    def on(self, day: dt.date) -> bool:
        return day == self.start if self.kind == "spike" else day >= self.start

    def matches(self, row: tuple[Any, ...]) -> bool:
        return (self.api_key_id is None or row[_API_KEY] == self.api_key_id) and (
            self.model is None or row[_MODEL] == self.model
        )


def inject(
    rows: list[tuple[Any, ...]], day: dt.date, injections: Sequence[Injection]
) -> list[tuple[Any, ...]]:
    """The day's rows with every injection that is on that day applied (the same list when none is)."""
    active = [i for i in injections if i.on(day)]
    if not active:
        return rows
    changed = []
    for row in rows:
        factor = 1
        for injection in active:
            if injection.matches(row):
                factor *= injection.factor
        if factor == 1:
            changed.append(row)
        else:
            metrics = tuple(value * factor for value in row[_METRICS])
            changed.append((*row[: _METRICS.start], *metrics, *row[_METRICS.stop :]))
    return changed
