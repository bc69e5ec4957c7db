"""The detector on hand-made series: spikes, step changes, weekends, small and young series."""

from __future__ import annotations

import datetime as dt
from random import Random

from usageledger.alerting.anomalies import AnomalyRules, scan_series

START = dt.date(2026, 1, 5)  # a Monday
RULES = AnomalyRules()
MIN_ABS = 1_000


def _series(
    days: int = 120, weekday: int = 10_000, weekend: int = 3_000, seed: int = 1
) -> dict[dt.date, int]:
    """Steady usage with ±10 % noise, lower on weekends, like a product used at work."""
    rng = Random(seed)
    values = {}
    for i in range(days):
        day = START + dt.timedelta(days=i)
        level = weekend if day.weekday() >= 5 else weekday
        values[day] = int(level * rng.uniform(0.9, 1.1))
    return values


def _all_days(values: dict[dt.date, int]) -> list[dt.date]:
    return sorted(values)


def test_a_steady_series_raises_nothing():
    """Noise within ±10 % over four months: no finding at all."""
    values = _series()
    assert scan_series(values, _all_days(values), min_abs=MIN_ABS) == []


def test_a_one_day_spike_is_found_on_its_day():
    """A Wednesday at 8× its usual level is a spike, and only that."""
    values = _series()
    day = dt.date(2026, 4, 15)
    values[day] *= 8
    [found] = scan_series(values, _all_days(values), min_abs=MIN_ABS)
    assert (found.kind, found.day) == ("spike", day)
    assert 9_000 <= found.baseline <= 11_000 and found.z > RULES.spike_z


def test_weekend_days_are_judged_against_weekends():
    """A Saturday at 1.5× a weekday's level is 5× a usual Saturday: a spike, though a Wednesday that high
    would not be one (next test)."""
    values = _series()
    saturday = dt.date(2026, 4, 18)
    values[saturday] = 15_000
    [found] = scan_series(values, _all_days(values), min_abs=MIN_ABS)
    assert (found.kind, found.day) == ("spike", saturday)
    assert 2_700 <= found.baseline <= 3_300  # the weekend baseline, not the weekdays'


def test_the_same_level_on_a_weekday_is_not_a_spike():
    """1.5× a usual Wednesday: well inside what the weekday baseline allows."""
    values = _series()
    values[dt.date(2026, 4, 15)] = 15_000
    assert scan_series(values, _all_days(values), min_abs=MIN_ABS) == []


def test_mondays_after_quiet_weekends_are_not_spikes():
    """Weekends at a tenth of weekdays: every Monday jumps 10× from Sunday, and nothing alarms."""
    values = _series(weekend=1_000)
    assert scan_series(values, _all_days(values), min_abs=MIN_ABS) == []


def test_a_step_change_is_found_once_on_its_first_day():
    """Usage triples from a Monday on: one step on that Monday, not one per day after it."""
    values = _series()
    step = dt.date(2026, 4, 13)
    for day in values:
        if day >= step:
            values[day] *= 3
    found = scan_series(values, _all_days(values), min_abs=MIN_ABS)
    steps = [f for f in found if f.kind == "step"]
    assert [(f.kind, f.day) for f in steps] == [("step", step)]
    assert all(f.day == step for f in found)  # its first day may also be a spike; no later day alarms


def test_a_step_is_only_reported_once_its_days_are_complete():
    """Three tripled days are not yet a step (it takes five); on the fifth it is, dated its first day."""
    step = dt.date(2026, 4, 13)

    def tripled(days: int) -> dict[dt.date, int]:
        values = _series(days=days)
        return {day: v * 3 if day >= step else v for day, v in values.items()}

    three = tripled(101)  # ends Wednesday 2026-04-15
    five = tripled(103)  # ends Friday 2026-04-17
    assert [f for f in scan_series(three, _all_days(three), min_abs=MIN_ABS) if f.kind == "step"] == []
    assert [(f.kind, f.day) for f in scan_series(five, _all_days(five), min_abs=MIN_ABS)] == [("step", step)]


def test_a_series_too_small_to_matter_never_alarms():
    """A 20× day on a series of a few units stays under the minimum absolute size."""
    values = _series(weekday=10, weekend=3)
    values[dt.date(2026, 4, 15)] *= 20
    assert scan_series(values, _all_days(values), min_abs=MIN_ABS) == []


def test_a_young_series_is_not_judged():
    """A series that began three weeks ago has no baseline yet, whatever it does."""
    values = {day: v for day, v in _series().items() if day >= dt.date(2026, 3, 30)}
    values[dt.date(2026, 4, 15)] *= 8
    assert scan_series(values, _all_days(values), min_abs=MIN_ABS) == []


def test_a_bursty_series_does_not_alarm_on_a_burst_like_its_usual_ones():
    """Quiet days with a 12× burst every week: a burst of that size is normal for it."""
    values = _series()
    for day in values:
        if day.weekday() == 2:
            values[day] *= 12
    assert scan_series(values, _all_days(values), min_abs=MIN_ABS) == []
