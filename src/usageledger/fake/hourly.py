"""Hourly usage: each generated day's rows split across the 24 UTC hours, summing back to the day exactly.

A row's requests are spread over the hours by a diurnal profile (busy in its workspace's working hours,
flat for the Batch tier) with systematic sampling: the cuts `(requests × cumulative weight + phase) // W`
are integers that never decrease and end at `requests`, so the hours' requests sum to the day's. Every other
integer metric follows the requests, `value × cut // requests`, which again ends at `value`; an hour without
requests gets nothing and is not listed. An hour's list price is priced from its own tokens, as the day's
is, so cost is exact per hour, per cost component and in sum (prices are linear in tokens).

The profile variant and phase of a row come from a hash of the seed, the day and the row's combination
(not of its position), so the split is stable across processes and a revised row keeps its shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from hashlib import blake2b
from operator import mul, sub
from random import Random
from typing import Any

from usageledger.models import DAILY

__all__ = ["HOURS", "HourlySplit"]

HOURS = 24
_WIDTH = len(DAILY.dimensions)  # a row's dimensions, then 7 usage metrics, list units, actor, product
_REQUESTS = _WIDTH + 5
_TIER = DAILY.dimensions.index("service_tier")
_WORKSPACE = DAILY.dimensions.index("workspace_id")
_SHIFT = 24  # cumulative weights are fractions of 2**24
_W = 1 << _SHIFT
_VARIANTS = 16  # day-to-day variety: each profile comes in this many jittered versions
# Relative activity by local hour: quiet nights, a working day with a lunch dip, a tail in the evening.
_LOCAL_DAY = (2, 2, 2, 2, 2, 3, 4, 7, 14, 19, 20, 20, 15, 19, 20, 20, 18, 13, 8, 6, 5, 4, 3, 2)
_OFFSETS = (-7, -4, 0, 1, 8)  # workspaces' UTC offsets: Pacific, Eastern, London, Paris, Singapore
_FLAT = (10,) * HOURS  # the Batch tier runs around the clock

Row = tuple[Any, ...]
Prices = Callable[[tuple[Any, ...]], tuple[int, ...]]  # dimensions -> list units per unit of each metric


class HourlySplit:
    """The diurnal split of one organization's rows; `split_day` is a pure function of its inputs."""

    def __init__(self, seed: int, workspace_ids: Iterable[str]) -> None:
        rng = Random(seed * 104_729 + HOURS)
        self._seed = seed
        shapes = [tuple(_LOCAL_DAY[(hour + offset) % HOURS] for hour in range(HOURS)) for offset in _OFFSETS]
        # the variants of each UTC offset's profile, then the Batch tier's (last); a workspace has an offset
        self._profiles = [[_cumulative(shape, rng) for _ in range(_VARIANTS)] for shape in (*shapes, _FLAT)]
        self._zone = {ws: rng.randrange(len(_OFFSETS)) for ws in sorted(workspace_ids)}

    def split_day(self, day: dt.date, rows: Sequence[Row], prices: Prices) -> list[list[Row]]:
        """The day's rows as 24 lists of hourly rows (hour 0 first); an hour's list units are its metrics
        times `prices(dimensions)`, as a day's are."""
        hours: list[list[Row]] = [[] for _ in range(HOURS)]
        batch = len(self._profiles) - 1
        zone, profiles, prefix = self._zone, self._profiles, f"{self._seed}|{day.isoformat()}|"
        for row in rows:
            dims = row[:_WIDTH]
            mix = int.from_bytes(blake2b(f"{prefix}{dims!r}".encode(), digest_size=8).digest())
            requests = row[_REQUESTS]
            if requests <= 0:  # nothing to spread by: the whole row falls in one hour
                hours[mix % HOURS].append(row)
                continue
            profile = batch if row[_TIER] == "batch" else zone.get(row[_WORKSPACE], 0)
            phase = (mix >> 8) % _W
            cuts = [(requests * c + phase) >> _SHIFT for c in profiles[profile][mix % _VARIANTS]]
            busy = [hour for hour in range(HOURS) if cuts[hour + 1] != cuts[hour]]
            ends = [0, *(cuts[hour + 1] for hour in busy)]
            # each metric's running total at the end of each busy hour, then the hours' own shares
            running = [[v * k // requests for k in ends] if v else None for v in row[_WIDTH : _WIDTH + 7]]
            shares = [[0] * len(busy) if r is None else list(map(sub, r[1:], r[:-1])) for r in running]
            weights, tail = prices(dims), row[_WIDTH + 8 :]
            for hour, metrics in zip(busy, zip(*shares, strict=True), strict=True):
                hours[hour].append((*dims, *metrics, sum(map(mul, weights, metrics)), *tail))
        return hours


def _cumulative(shape: Sequence[int], rng: Random) -> list[int]:
    """25 integer cut points from 0 to W of a jittered shape (each hour at least 1/W of the day)."""
    weights = [w * rng.uniform(0.75, 1.25) for w in shape]
    total = sum(weights)
    cuts = [0]
    running = 0.0
    for w in weights:
        running += w
        cuts.append(round(running / total * _W))
    cuts[-1] = _W
    for i in range(1, len(cuts)):  # strictly increasing: rounding may not swallow an hour
        cuts[i] = max(cuts[i], cuts[i - 1] + 1) if i < len(cuts) - 1 else _W
    return cuts
