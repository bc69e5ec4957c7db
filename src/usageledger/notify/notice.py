"""What a notification says: an alert notice, and how each destination kind renders it.

An alert notice is handed over by whoever raised the alert (budgets, anomalies); the senders only render it.
The JSON body follows the Standard Webhooks payload shape: `type`, `timestamp`, `data`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["TEST_ALERT_ID", "AlertNotice", "render_json", "render_text", "test_notice"]

TEST_ALERT_ID = 0  # the alert id a test notice carries in the delivery log (real alerts start at 1)


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """One alert to tell people about.

    `kind` names what raised it (e.g. `budget_threshold`, `anomaly_spike`, `test`); `subject` what it is about
    (a budget, a model, an API key); `details` is a JSON-able mapping shown as key/value lines and sent in the
    webhook's data; `link` the page that explains it, when the public URL is known.
    """

    alert_id: int
    tenant_id: int
    kind: str
    subject: str
    title: str
    message: str
    occurred_at: dt.datetime
    details: Mapping[str, Any] = field(default_factory=dict)
    link: str | None = None

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be an aware (UTC) datetime")
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


def test_notice(tenant_id: int, destination_name: str, *, by: str, link: str | None = None) -> AlertNotice:
    """The notice a test-send delivers: it says it is a test and who asked for it."""
    return AlertNotice(
        alert_id=TEST_ALERT_ID,
        tenant_id=tenant_id,
        kind="test",
        subject=destination_name,
        title=f"Test notification to {destination_name}",
        message=f"{by} sent this test from usageledger. Alerts on budgets and anomalies will arrive like this.",
        occurred_at=dt.datetime.now(dt.UTC),
        details={"destination": destination_name},
        link=link,
    )


def render_text(notice: AlertNotice) -> str:
    """The plain-text body of an email (and the fallback text of a Slack message)."""
    lines = [notice.title, "", notice.message, ""]
    lines += [f"{key}: {value}" for key, value in notice.details.items()]
    lines += ["", f"When: {notice.occurred_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"]
    if notice.link:
        lines.append(f"Details: {notice.link}")
    return "\n".join(lines).strip() + "\n"


def render_json(notice: AlertNotice) -> str:
    """The generic webhook's body (Standard Webhooks payload shape), compact and deterministic."""
    payload = {
        "type": f"alert.{notice.kind}",
        "timestamp": notice.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": {
            "alert_id": notice.alert_id,
            "kind": notice.kind,
            "subject": notice.subject,
            "title": notice.title,
            "message": notice.message,
            "details": dict(notice.details),
            "link": notice.link,
        },
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
