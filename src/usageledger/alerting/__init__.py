"""Alerts: evaluated after every sync and after a budget changes, raised once per crossing, handed to a sink.

Budgets now (`evaluate`); anomaly detection raises through the same `raise_alert` with its own kind and
crossing key. Delivery (email, Slack, webhooks) plugs in as an `AlertSink`.
"""

from .evaluate import (
    evaluate_after_sync,
    evaluate_and_deliver,
    evaluate_connection_synced,
    plan_budget_alerts,
)
from .sink import AlertSink, RecordingSink

__all__ = [
    "AlertSink",
    "RecordingSink",
    "evaluate_after_sync",
    "evaluate_and_deliver",
    "evaluate_connection_synced",
    "plan_budget_alerts",
]
