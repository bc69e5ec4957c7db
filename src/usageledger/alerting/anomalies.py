"""Anomaly detection on daily cost and tokens per model, workspace and API key, from the stored rollups.

The method (robust, and aware of weekends):

* Each day is compared with a **baseline of the same class of day** — weekdays with weekdays, Saturdays and
  Sundays with weekend days — over the trailing `window_days` (42) before it, counting a day the series had
  no usage as zero. A series younger than the window is not judged (its first weeks say little about its
  normal), nor a day whose class has fewer than `min_weekdays` (15) or `min_weekend_days` (6) days.
* Values are compared on a log scale, `log(x + min_abs)`: usage varies multiplicatively, and adding the
  minimum absolute size flattens series too small to matter. The baseline is the **median**, its spread
  the **MAD × 1.4826** (floored at `min_spread`, 0.25), and a day's robust z-score is its distance from
  the median in those units. Medians ignore the odd outlier that a mean and standard deviation chase.
* A **spike** is one day with z > `spike_z` (5), at least `min_ratio` (2×) the baseline median, `min_abs`
  above it and `above_max` (1.5×) the highest day of its class in the window (bursty series that often
  jump do not alarm on a jump they make every few weeks), after a day that was not itself raised
  (z ≤ `step_z`): so a lasting change alarms once as a spike, not every day until the baseline catches up.
* A **step change** (a sustained shift of the rolling median) starts on day s when s and the median of
  the `step_days` (5) days from s have z > `step_z` (3), the median of those days' values is at least
  `step_ratio` (2×) and `min_abs` above the baseline, and none of the 5 days before s looked like such a
  start (so a shift is reported on its first day, once). It is found once all those days are complete.
* Only rises alarm: the issue asks to hear when spend jumps. A drop (a key revoked, a product switched
  off) is not an overspend.

Every finding has a stable crossing key, `anomaly:<kind>:<metric>:<dimension>=<id>:<day>`, so the alerts
table raises it once however often the evaluation runs. `scan_series` is the pure function over one series;
`find_anomalies(conn, tenant_id, as_of)` reads the rollups and runs it over every series.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from sqlalchemy import Connection, func, select

from usageledger.notify.notice import AlertNotice
from usageledger.store.tables import (
    anthropic_api_keys,
    anthropic_workspaces,
    connections,
    cost_rollups,
    usage_rollups,
)

__all__ = [
    "DIMENSIONS",
    "METRICS",
    "AnomalyFinding",
    "AnomalyRules",
    "SeriesAnomaly",
    "find_anomalies",
    "notice_for",
    "scan_series",
]

# What is watched: each metric per each dimension, each read from the smallest rollup that holds it.
METRICS = ("cost", "tokens")
DIMENSIONS: dict[str, tuple[str, str]] = {  # dimension -> (rollup, column)
    "model": ("model", "model"),
    "workspace": ("api_key", "workspace_id"),
    "api_key": ("api_key", "api_key_id"),
}
_TOKEN_COLUMNS = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
)
_MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution times this is its standard deviation
_MICROCENTS_PER_DOLLAR = 100_000_000


@dataclass(frozen=True, slots=True)
class AnomalyRules:
    """The thresholds. `min_abs` is per metric: cost in micro-cents ($25), tokens (20 million)."""

    window_days: int = 42
    min_weekdays: int = 15
    min_weekend_days: int = 6
    spike_z: float = 5.0
    min_ratio: float = 2.0
    above_max: float = 1.5
    step_z: float = 3.0
    step_days: int = 5
    step_ratio: float = 2.0
    min_spread: float = 0.25
    min_abs: Mapping[str, int] = field(
        default_factory=lambda: {"cost": 25 * _MICROCENTS_PER_DOLLAR, "tokens": 20_000_000}
    )


@dataclass(frozen=True, slots=True)
class SeriesAnomaly:
    """What `scan_series` finds on one day of one series: the value, its baseline median, how far off."""

    kind: str  # spike | step
    day: dt.date
    value: int  # the day's value (a step: the median of its first `step_days` days)
    baseline: int  # the median of the same class of day in the window before
    z: float


def _weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


class _Scorer:
    """Robust z-scores of one series' days against their class's trailing baseline (memoised)."""

    def __init__(self, values: Mapping[dt.date, int], min_abs: int, rules: AnomalyRules) -> None:
        self._values = values
        self._shift = max(min_abs, 1)
        self._rules = rules
        self._first = min((d for d, v in values.items() if v > 0), default=None)
        self._memo: dict[dt.date, tuple[float, int, int] | None] = {}
        self._by_ordinal = {day.toordinal(): value for day, value in values.items()}

    def value(self, day: dt.date) -> int:
        return self._values.get(day, 0)

    def score(self, day: dt.date) -> tuple[float, int, int] | None:
        """(z, baseline median, baseline highest) of `day`, or None when its class has too little history."""
        if day in self._memo:
            return self._memo[day]
        result = None
        rules = self._rules
        # A series younger than the window is not judged: its first weeks say little about its normal.
        if self._first is not None and self._first <= day - dt.timedelta(days=rules.window_days):
            weekend = _weekend(day)
            # Day ordinals: ordinal 1 is a Monday, so (ordinal + 6) % 7 is the weekday (5, 6: weekend).
            end = day.toordinal()
            get = self._by_ordinal.get
            history = [
                get(o, 0) for o in range(end - rules.window_days, end) if ((o + 6) % 7 >= 5) == weekend
            ]
            if len(history) >= (rules.min_weekend_days if weekend else rules.min_weekdays):
                logs = [math.log(x + self._shift) for x in history]
                center = median(logs)
                spread = max(_MAD_TO_SIGMA * median(abs(y - center) for y in logs), self._rules.min_spread)
                z = (math.log(self.value(day) + self._shift) - center) / spread
                result = (z, int(median(history)), max(history))
        self._memo[day] = result
        return result

    def raised(self, day: dt.date, threshold: float) -> bool:
        scored = self.score(day)
        return scored is not None and scored[0] > threshold


def _is_spike(s: _Scorer, day: dt.date, min_abs: int, rules: AnomalyRules) -> SeriesAnomaly | None:
    scored = s.score(day)
    if scored is None:
        return None
    z, base, highest = scored
    x = s.value(day)
    if (
        z <= rules.spike_z
        or x - base < min_abs
        or x < rules.min_ratio * base
        or x < rules.above_max * highest
    ):
        return None
    if s.raised(day - dt.timedelta(days=1), rules.step_z):
        return None  # a continuation of a change already under way
    return SeriesAnomaly("spike", day, x, base, z)


def _step_candidate(s: _Scorer, start: dt.date, rules: AnomalyRules) -> list[tuple[float, int, int]] | None:
    """The scores of the `step_days` from `start` if they look like a step's start: `start` raised and the
    median of their z-scores above `step_z`."""
    if not s.raised(start, rules.step_z):
        return None
    scores = [s.score(start + dt.timedelta(days=i)) for i in range(rules.step_days)]
    if any(scored is None for scored in scores):
        return None
    known = [scored for scored in scores if scored is not None]
    return known if median(z for z, _, _ in known) > rules.step_z else None


def _is_step(s: _Scorer, start: dt.date, min_abs: int, rules: AnomalyRules) -> SeriesAnomaly | None:
    scores = _step_candidate(s, start, rules)
    if scores is None:
        return None
    # Only the first day of a shift starts it: none of the days just before may look like a start.
    if any(_step_candidate(s, start - dt.timedelta(days=i), rules) for i in range(1, rules.step_days + 1)):
        return None
    level = int(median(s.value(start + dt.timedelta(days=i)) for i in range(rules.step_days)))
    base = int(median(b for _, b, _ in scores))
    if level - base < min_abs or level < rules.step_ratio * base:
        return None
    return SeriesAnomaly("step", start, level, base, median(z for z, _, _ in scores))


def scan_series(
    values: Mapping[dt.date, int],
    days: Iterable[dt.date],
    *,
    min_abs: int,
    rules: AnomalyRules | None = None,
    last_complete_day: dt.date | None = None,
) -> list[SeriesAnomaly]:
    """Spikes on `days`, and step changes starting on `days` whose `step_days` are all complete (up to
    `last_complete_day`, default the last of `days`). `values` maps a day to its value; a day absent is 0."""
    rules = rules or AnomalyRules()
    days = sorted(days)
    if not days:
        return []
    last = last_complete_day or days[-1]
    span = (last - days[0]).days + 1
    if all(values.get(days[0] + dt.timedelta(days=i), 0) < min_abs for i in range(span)):
        return []  # nothing tested reaches the minimum size: it cannot alarm (most small keys, cheaply)
    scorer = _Scorer(values, min_abs, rules)
    found = []
    for day in days:
        if spike := _is_spike(scorer, day, min_abs, rules):
            found.append(spike)
        if day + dt.timedelta(days=rules.step_days - 1) <= last and (
            step := _is_step(scorer, day, min_abs, rules)
        ):
            found.append(step)
    return found


# --- over the stored data -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnomalyFinding:
    """An anomaly of one series, ready to become an alert (raised once per `crossing_key`)."""

    kind: str  # spike | step
    metric: str  # cost | tokens
    dimension: str  # model | workspace | api_key
    value_id: str  # the model name, workspace id or API key id
    label: str  # what people call it
    day: dt.date
    observed: int  # micro-cents or tokens
    baseline: int
    z: float

    @property
    def crossing_key(self) -> str:
        return f"anomaly:{self.kind}:{self.metric}:{self.dimension}={self.value_id}:{self.day.isoformat()}"

    def _amount(self, value: int) -> str:
        if self.metric == "cost":
            return f"${Decimal(value) / _MICROCENTS_PER_DOLLAR:,.2f}"
        return f"{value:,} tokens"

    @property
    def subject(self) -> str:
        return f"{self.dimension.replace('_', ' ')} {self.label}"

    @property
    def title(self) -> str:
        what = "Cost" if self.metric == "cost" else "Token"
        change = "spike" if self.kind == "spike" else "step change"
        return f"{what} {change} on {self.subject}"

    @property
    def message(self) -> str:
        usual = (
            f"a usual {self._amount(self.baseline)} on {'weekend days' if _weekend(self.day) else 'weekdays'}"
        )
        if self.kind == "spike":
            return f"{self._amount(self.observed)} on {self.day.isoformat()}, against {usual}."
        return f"{self._amount(self.observed)} a day since {self.day.isoformat()}, against {usual} before."

    @property
    def details(self) -> dict[str, str]:
        return {
            "day": self.day.isoformat(),
            "metric": self.metric,
            self.dimension: self.value_id,
            "observed": self._amount(self.observed),
            "baseline": self._amount(self.baseline),
            "robust_z": f"{self.z:.1f}",
        }


def _series(
    conn: Connection, tenant_id: int, metric: str, dimension: str, since: dt.date, until: dt.date
) -> dict[str, dict[dt.date, int]]:
    """Daily sums of `metric` per value of `dimension` over the tenant's connections, days [since, until)."""
    rollup_name, column = DIMENSIONS[dimension]
    table = (cost_rollups if metric == "cost" else usage_rollups)[rollup_name]
    amount = (
        func.sum(table.c.amount_microcents)
        if metric == "cost"
        else func.sum(sum((func.coalesce(table.c[name], 0) for name in _TOKEN_COLUMNS), start=0))
    )
    key = table.c[column]
    query = (
        select(table.c.day, key, amount)
        .join(connections, connections.c.id == table.c.connection_id)
        .where(connections.c.tenant_id == tenant_id, table.c.day >= since, table.c.day < until)
        .group_by(table.c.day, key)
    )
    found: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for day, value_id, total in conn.execute(query):
        if dimension == "api_key" and not value_id:
            continue  # usage without an API key (the Console's) is watched by model and workspace
        found[value_id][day] = int(total or 0)
    return found


def _names(conn: Connection, tenant_id: int) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    for dimension, table in (("workspace", anthropic_workspaces), ("api_key", anthropic_api_keys)):
        rows = conn.execute(
            select(table.c.id, table.c.name)
            .join(connections, connections.c.id == table.c.connection_id)
            .where(connections.c.tenant_id == tenant_id)
        )
        names.update({(dimension, row.id): row.name for row in rows})
    return names


def _label(names: Mapping[tuple[str, str], str], dimension: str, value_id: str) -> str:
    if dimension == "model":
        return value_id or "Server tools (no model)"
    if dimension == "workspace" and not value_id:
        return "Default workspace"
    name = names.get((dimension, value_id))
    return f"{name} ({value_id})" if name else value_id


def find_anomalies(
    conn: Connection,
    tenant_id: int,
    as_of: dt.date,
    *,
    rules: AnomalyRules | None = None,
    lookback_days: int = 7,
) -> list[AnomalyFinding]:
    """Anomalies of the tenant's complete days before `as_of` (today, UTC: today is not complete): spikes
    on the last `lookback_days`, and step changes whose days all fall before `as_of`. Run it after every
    sync; the crossing keys make a finding raise its alert once."""
    rules = rules or AnomalyRules()
    last = as_of - dt.timedelta(days=1)
    first_tested = as_of - dt.timedelta(days=lookback_days + rules.step_days - 1)
    since = first_tested - dt.timedelta(days=rules.window_days + 1)
    days = [first_tested + dt.timedelta(days=i) for i in range((as_of - first_tested).days)]
    spike_from = as_of - dt.timedelta(days=lookback_days)
    names = _names(conn, tenant_id)
    findings = []
    for metric in METRICS:
        for dimension in DIMENSIONS:
            for value_id, values in _series(conn, tenant_id, metric, dimension, since, as_of).items():
                for found in scan_series(
                    values, days, min_abs=rules.min_abs[metric], rules=rules, last_complete_day=last
                ):
                    if found.kind == "spike" and found.day < spike_from:
                        continue  # older spikes were reported by earlier evaluations
                    findings.append(
                        AnomalyFinding(
                            found.kind,
                            metric,
                            dimension,
                            value_id,
                            _label(names, dimension, value_id),
                            found.day,
                            found.value,
                            found.baseline,
                            found.z,
                        )
                    )
    return sorted(findings, key=lambda f: (f.day, f.crossing_key))


def notice_for(
    finding: AnomalyFinding,
    *,
    alert_id: int,
    tenant_id: int,
    occurred_at: dt.datetime,
    link: str | None = None,
) -> AlertNotice:
    """The notice that tells people about a finding once its alert is raised (kind `anomaly_spike|step`)."""
    return AlertNotice(
        alert_id=alert_id,
        tenant_id=tenant_id,
        kind=f"anomaly_{finding.kind}",
        subject=finding.subject,
        title=finding.title,
        message=finding.message,
        occurred_at=occurred_at,
        details=finding.details,
        link=link,
    )
