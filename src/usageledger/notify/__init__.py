"""Notifications: where alerts go (email over SMTP, Slack incoming webhooks, signed generic webhooks) and
delivering them there with retries and a delivery log.

`dispatch(engine, vault, notice)` is what the alert evaluation calls with each new alert.
"""

from __future__ import annotations

from usageledger.notify.config import KINDS, SECURITY_MODES, generate_signing_secret
from usageledger.notify.dispatch import DeliveryOptions, DeliveryOutcome, RetryPolicy, dispatch
from usageledger.notify.manage import NewDestination, add_destination, pause_destination, remove_destination
from usageledger.notify.notice import TEST_ALERT_ID, AlertNotice, test_notice
from usageledger.notify.senders import DeliveryError
from usageledger.notify.signing import REPLAY_WINDOW, sign_webhook, verify_webhook

__all__ = [
    "KINDS",
    "REPLAY_WINDOW",
    "SECURITY_MODES",
    "TEST_ALERT_ID",
    "AlertNotice",
    "DeliveryError",
    "DeliveryOptions",
    "DeliveryOutcome",
    "NewDestination",
    "RetryPolicy",
    "add_destination",
    "dispatch",
    "generate_signing_secret",
    "pause_destination",
    "remove_destination",
    "sign_webhook",
    "test_notice",
    "verify_webhook",
]
