"""Anomaly findings as alerts: each finding (a spike or a step change of one series on one day) becomes an
alert of kind `anomaly`, raised once per crossing key like a budget's.

Anomaly alerts are not resolved by a later evaluation (a spike that happened stays a fact); the budget
evaluation's staleness rule (`EVALUATED_KINDS`) leaves them alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection

from usageledger.store.alerts import NewAlert

from .anomalies import AnomalyFinding, find_anomalies

__all__ = ["ANOMALY_KIND", "plan_anomaly_alerts", "read_anomaly_alerts"]

ANOMALY_KIND = "anomaly"


def plan_anomaly_alerts(findings: Iterable[AnomalyFinding]) -> list[NewAlert]:
    """One alert per finding, keyed by the finding's crossing key (series, kind and day)."""
    return [
        NewAlert(
            kind=ANOMALY_KIND,
            crossing_key=f.crossing_key,
            subject_type=f.dimension,
            subject_id=f.value_id,
            subject_label=f.label,
            message=f"{f.title}: {f.message}",
            month=f.day.replace(day=1),
            details={"anomaly": f.kind, **f.details},
        )
        for f in findings
    ]


def read_anomaly_alerts(conn: Connection, tenant_id: int, as_of: dt.date) -> list[NewAlert]:
    """The alerts the tenant's stored days call for (complete days before `as_of`)."""
    return plan_anomaly_alerts(find_anomalies(conn, tenant_id, as_of))
