"""Alerts: evaluated after every sync and after a budget changes, raised once per crossing, handed to a sink.

Budgets and Anthropic's spend limits now (`evaluate`); anomaly detection raises through the same
`raise_alert` with its own kind and crossing key. Delivery (email, Slack, webhooks) plugs in as the
`AlertSink` that `configured_sink` returns.
"""

from usageledger.store.alerts import NewAlert, raise_alert

from .evaluate import (
    after_sync_hook,
    evaluate_after_sync,
    evaluate_and_deliver,
    evaluate_connection_synced,
    plan_budget_alerts,
    plan_limit_alerts,
)
from .sink import AlertSink, RecordingSink, configured_sink

__all__ = [
    "AlertSink",
    "NewAlert",
    "RecordingSink",
    "after_sync_hook",
    "configured_sink",
    "evaluate_after_sync",
    "evaluate_and_deliver",
    "evaluate_connection_synced",
    "plan_budget_alerts",
    "plan_limit_alerts",
    "raise_alert",
]
