"""Where new alerts go once their transaction has committed: a small interface the notifiers implement."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urljoin

from sqlalchemy import Engine

from usageledger.config import Settings
from usageledger.notify import AlertNotice, dispatch
from usageledger.store.alerts import AlertRow
from usageledger.store.vault import Vault

__all__ = ["AlertSink", "NotifySink", "RecordingSink", "configured_sink", "deliver_all", "notice_of"]

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


def notice_of(alert: AlertRow, public_url: str | None) -> AlertNotice:
    """What the destinations are told about an alert: its message, its details, and a link to the Alerts
    page when the app's public address is known."""
    return AlertNotice(
        alert_id=alert.id,
        tenant_id=alert.tenant_id,
        kind=alert.kind,
        subject=alert.subject_label,
        title=f"{alert.kind.replace('_', ' ').capitalize()} alert: {alert.subject_label}",
        message=alert.message,
        occurred_at=alert.first_raised_at,
        details=alert.details,
        link=urljoin(public_url.rstrip("/") + "/", "alerts") if public_url else None,
    )


class NotifySink:
    """Delivers each new alert to every enabled destination of its tenant (email, Slack, signed webhooks),
    with retries and a delivery log (`notify.dispatch`); a failure is logged there, never raised."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._settings = settings
        self._engine = engine

    def deliver(self, alert: AlertRow) -> None:
        vault = Vault.from_settings(self._settings)  # opened per delivery: only a raised alert needs it
        dispatch(self._engine, vault, notice_of(alert, self._settings.public_url))


def configured_sink(settings: Settings, engine: Engine) -> AlertSink:
    """The sink every evaluation hands its new alerts to: the tenant's notification destinations."""
    return NotifySink(settings, engine)


def deliver_all(sink: AlertSink, alerts: Iterable[AlertRow]) -> None:
    """Hand each alert to the sink; one failing delivery does not stop the others (the alert stays open)."""
    for alert in alerts:
        try:
            sink.deliver(alert)
        except Exception:  # a notifier's bug or outage must not undo the sync that raised the alert
            log.exception("delivering alert %s failed", alert.id)
