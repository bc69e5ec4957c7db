"""Where new alerts go once their transaction has committed: a small interface the notifiers implement."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import Engine

from usageledger.config import Settings
from usageledger.store.alerts import AlertRow

__all__ = ["AlertSink", "RecordingSink", "configured_sink", "deliver_all"]

log = logging.getLogger(__name__)


class AlertSink(Protocol):
    """Delivers one new alert (email, Slack, a signed webhook …). Called after the alert is committed, once."""

    def deliver(self, alert: AlertRow) -> None: ...


class RecordingSink:
    """The default sink: delivers nowhere, only remembers what it was handed (the alert is in the app anyway)."""

    def __init__(self) -> None:
        self.delivered: list[AlertRow] = []

    def deliver(self, alert: AlertRow) -> None:
        self.delivered.append(alert)


def configured_sink(settings: Settings, engine: Engine) -> AlertSink:
    """The sink every evaluation hands its new alerts to: the one place notifiers (email, Slack, signed
    webhooks, with their delivery log) plug in. Until then alerts are delivered only in the app itself."""
    return RecordingSink()


def deliver_all(sink: AlertSink, alerts: Iterable[AlertRow]) -> None:
    """Hand each alert to the sink; one failing delivery does not stop the others (the alert stays open)."""
    for alert in alerts:
        try:
            sink.deliver(alert)
        except Exception:  # a notifier's bug or outage must not undo the sync that raised the alert
            log.exception("delivering alert %s failed", alert.id)
