"""Signing generic webhooks the Standard Webhooks way (HMAC-SHA256 over id, timestamp and body).

The headers are `webhook-id` (the same on every retry of one notice, so a receiver can drop duplicates),
`webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature` (`v1,<base64 HMAC>`). A receiver
verifies with any Standard Webhooks library, which also refuses a timestamp more than five minutes from its
clock: a captured request cannot be replayed later. `verify_webhook` is that check, for our tests and for
anyone wiring a receiver in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from usageledger.notify.config import signing_key

__all__ = ["REPLAY_WINDOW", "WebhookVerificationError", "sign_webhook", "verify_webhook"]

REPLAY_WINDOW = dt.timedelta(minutes=5)  # what the Standard Webhooks libraries accept either side of now


def sign_webhook(secret: str, message_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    """The three signature headers of one delivery attempt made at `at`."""
    signature = Webhook(signing_key(secret)).sign(msg_id=message_id, timestamp=at, data=body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def verify_webhook(secret: str, body: bytes | str, headers: Mapping[str, str]) -> Any:
    """The parsed body, if the signature matches and the timestamp is within the replay window;
    otherwise `WebhookVerificationError`."""
    return Webhook(signing_key(secret)).verify(body, dict(headers))
