"""Two grains of one window are compared per day: tokens exactly, cost to the cent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from usageledger.models import ActorDimensions, CostRecord, Dimensions, UsageRecord
from usageledger.sync.actor_grain import DayTotals

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def _totals(usage: list[tuple[dt.date, int]], cost: list[tuple[dt.date, str]], dims) -> DayTotals:
    totals = DayTotals()
    totals.add_usage([UsageRecord(day, dims, n, 2 * n, 0, 0, n) for day, n in usage])
    totals.add_cost([CostRecord(day, dims, Decimal(c)) for day, c in cost])
    return totals


def test_rows_split_differently_but_adding_up_per_day_agree() -> None:
    """Three actor rows against one daily row per day: equal sums, no difference."""
    daily = _totals([(D1, 6), (D2, 1)], [(D1, "1.000000001")], Dimensions())
    actor = _totals([(D1, 1), (D1, 2), (D1, 3), (D2, 1)], [(D1, "0.5"), (D1, "0.5")], ActorDimensions())
    assert actor.differences(daily) == []


def test_a_token_or_a_cent_and_more_apart_is_named_by_day() -> None:
    """One token off on one day, 2 cents off on another: each is named; a cent apart is not."""
    daily = _totals([(D1, 6), (D2, 1)], [(D1, "1.00"), (D2, "5.00")], Dimensions())
    actor = _totals([(D1, 6), (D2, 2)], [(D1, "1.01"), (D2, "5.02")], ActorDimensions())
    problems = actor.differences(daily)
    assert len(problems) == 2
    assert problems[0].startswith("2026-03-02: tokens (2, 4, 0, 0, 2) vs (1, 2, 0, 0, 1)")
    assert problems[1] == "2026-03-02: cost 5.02 vs 5.00 cents"
