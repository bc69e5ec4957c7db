"""Evidence on a generated organization: injected spikes and step changes are found, and a normal year
stays under its stated number of false alarms."""

from __future__ import annotations

import datetime as dt

import pytest

from usageledger.alerting.anomalies import AnomalyRules, scan_series
from usageledger.fake import FakeOrganization
from usageledger.fake.anomalies import Injection

from .fake_series import fake_series

YEAR = (dt.date(2026, 1, 1), dt.date(2027, 1, 1))
DAYS = [YEAR[0] + dt.timedelta(days=i) for i in range((YEAR[1] - YEAR[0]).days)]
# Stated in the README ("Anomaly detection"): a normal year of the demo-sized fake organization (seed 7,
# 120 rows a day, 126 series: cost and tokens per model, workspace and API key) raises fewer than this.
MAX_FALSE_ALARMS_A_YEAR = 30
SPIKE_DAY = dt.date(2026, 6, 10)  # a Wednesday
STEP_DAY = dt.date(2026, 9, 14)  # a Monday
MODEL = "claude-opus-4-5"


def _findings(fake: FakeOrganization, rules: AnomalyRules) -> dict[tuple[str, str, str], list]:
    series = fake_series(fake, *YEAR)
    return {
        key: scan_series(values, DAYS, min_abs=rules.min_abs[key[0]], rules=rules)
        for key, values in series.items()
    }


@pytest.fixture(scope="module")
def normal_year() -> dict[tuple[str, str, str], list]:
    return _findings(FakeOrganization(seed=7, rows_per_day=120, today=YEAR[1]), AnomalyRules())


def test_a_normal_year_stays_under_the_stated_false_alarms(normal_year):
    """Nothing was injected, so every finding is a false alarm: fewer than the README says."""
    alarms = [f for found in normal_year.values() for f in found]
    assert len(normal_year) == 126
    assert 0 < len(alarms) < MAX_FALSE_ALARMS_A_YEAR  # the fake is noisy enough to try the detector


def test_an_injected_spike_and_step_change_are_found(normal_year):
    """×10 on one Wednesday and ×4 from a Monday on, for one model: both found, in cost and in tokens."""
    fake = FakeOrganization(
        seed=7,
        rows_per_day=120,
        today=YEAR[1],
        anomalies=(
            Injection("spike", SPIKE_DAY, 10, model=MODEL),
            Injection("step", STEP_DAY, 4, model=MODEL),
        ),
    )
    found = _findings(fake, AnomalyRules())
    for metric in ("cost", "tokens"):
        kinds = {(f.kind, f.day) for f in found[metric, "model", MODEL]}
        assert ("spike", SPIKE_DAY) in kinds and ("step", STEP_DAY) in kinds, (metric, kinds)
        before = {(f.kind, f.day) for f in normal_year[metric, "model", MODEL]}
        assert ("spike", SPIKE_DAY) not in before and ("step", STEP_DAY) not in before


def test_the_injection_changes_only_its_model_and_days():
    """Other models' rows are untouched; the spiked day's rows are exactly ×10 (cost stays consistent)."""
    plain = FakeOrganization(seed=7, rows_per_day=120, today=YEAR[1])
    spiked = FakeOrganization(
        seed=7, rows_per_day=120, today=YEAR[1], anomalies=(Injection("spike", SPIKE_DAY, 10, model=MODEL),)
    )
    for before, after in zip(plain.day_rows(SPIKE_DAY), spiked.day_rows(SPIKE_DAY), strict=True):
        factor = 10 if before[3] == MODEL else 1
        assert after[8:16] == tuple(v * factor for v in before[8:16]) and after[:8] == before[:8]
    assert plain.day_rows(SPIKE_DAY + dt.timedelta(days=1)) == spiked.day_rows(
        SPIKE_DAY + dt.timedelta(days=1)
    )


def test_an_injection_is_checked():
    """A factor under 2 or an unknown kind is refused at once."""
    with pytest.raises(ValueError):
        Injection("spike", SPIKE_DAY, 1)
    with pytest.raises(ValueError):
        Injection("dip", SPIKE_DAY, 3)
