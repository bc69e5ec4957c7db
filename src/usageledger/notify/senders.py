"""One delivery attempt per destination kind: SMTP email, Slack incoming webhook, signed generic webhook.

A sender returns the response code on success and raises `DeliveryError` otherwise, saying whether trying
again may help (5xx, 429, timeouts, connection errors, SMTP 4xx) or not (other 4xx, SMTP 5xx, a refused
sign-in). Its message never holds the secret: the URL of a Slack webhook, the password, the signing secret
are cut out of whatever the server or the library said.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

import httpx

from usageledger.notify.notice import AlertNotice, render_json, render_text
from usageledger.notify.signing import sign_webhook

__all__ = ["SENDERS", "DeliveryError", "SendContext", "scrub"]

_MAX_ERROR = 500
_USER_AGENT = "usageledger-notify/1"


class DeliveryError(Exception):
    """One attempt failed; `retryable` says whether another attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, response_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.response_code = response_code


@dataclass
class SendContext:
    """What a sender needs besides the destination: an HTTP client, timeouts, the clock, the message id."""

    http: httpx.Client
    smtp_timeout: float = 10.0
    ssl_context: ssl.SSLContext | None = None  # None: the system's default trust store
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    message_id: str = ""


def scrub(text: str, secret: str) -> str:
    """`text` without the secret (or, for a URL, without its path and query), shortened for the log."""
    if secret:
        text = text.replace(secret, "[secret]")
        parts = urlsplit(secret)
        if parts.scheme and parts.path and len(parts.path) > 1:
            text = text.replace(parts.path, "/[secret]")
    return text[:_MAX_ERROR]


def _http_failure(response: httpx.Response) -> DeliveryError:
    retryable = response.status_code >= 500 or response.status_code in (408, 425, 429)
    reason = response.reason_phrase or "error"
    return DeliveryError(
        f"HTTP {response.status_code} {reason}", retryable=retryable, response_code=response.status_code
    )


# httpx logs every request's full URL at INFO, and a Slack webhook's URL is its secret. While a sender
# posts, the secret is in this context variable and a filter on httpx's logger cuts it out of the record.
_SECRETS_IN_FLIGHT: ContextVar[str] = ContextVar("usageledger_notify_secret", default="")


class _RedactSecret(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secret = _SECRETS_IN_FLIGHT.get()
        if secret:
            message = record.getMessage()
            if secret in message or urlsplit(secret).path in message:
                record.msg, record.args = scrub(message, secret), None
        return True


_HTTPX_LOGGER = logging.getLogger("httpx")
if not any(isinstance(f, _RedactSecret) for f in _HTTPX_LOGGER.filters):
    _HTTPX_LOGGER.addFilter(_RedactSecret())


def _post(context: SendContext, url: str, body: str, headers: dict[str, str], secret: str) -> int:
    token = _SECRETS_IN_FLIGHT.set(secret)
    try:
        response = context.http.post(
            url,
            content=body.encode("utf-8"),
            headers={"content-type": "application/json", "user-agent": _USER_AGENT, **headers},
        )
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timed out ({type(exc).__name__})", retryable=True) from None
    except httpx.TransportError as exc:
        raise DeliveryError(scrub(f"{type(exc).__name__}: {exc}", secret), retryable=True) from None
    finally:
        _SECRETS_IN_FLIGHT.reset(token)
    if not response.is_success:
        raise _http_failure(response)
    return response.status_code


def send_webhook(config: Mapping[str, Any], secret: str, notice: AlertNotice, context: SendContext) -> int:
    """POST the notice's JSON, signed (webhook-id, webhook-timestamp, webhook-signature)."""
    body = render_json(notice)
    headers = sign_webhook(secret, context.message_id, body, context.clock())
    return _post(context, str(config["url"]), body, headers, secret)


def send_slack(config: Mapping[str, Any], secret: str, notice: AlertNotice, context: SendContext) -> int:
    """POST `{"text": …, "blocks": […]}` to the incoming webhook (whose URL is the secret)."""
    text = f"*{notice.title}*\n{notice.message}"
    fields = [{"type": "mrkdwn", "text": f"*{key}*\n{value}"} for key, value in notice.details.items()]
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})  # Slack takes at most 10 fields
    if notice.link:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{notice.link}|Details>"}]}
        )
    body = json.dumps({"text": text, "blocks": blocks}, separators=(",", ":"), default=str)
    return _post(context, secret, body, {}, secret)


def _email(config: Mapping[str, Any], notice: AlertNotice) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[usageledger] {notice.title}"
    message["From"] = str(config["sender"])
    message["To"] = ", ".join(config["recipients"])
    message["Date"] = format_datetime(notice.occurred_at.astimezone(dt.UTC))
    message["Message-ID"] = make_msgid(domain=str(config["sender"]).rsplit("@", 1)[-1])
    message.set_content(render_text(notice))
    return message


def _sign_in(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN when offered (one round trip, one answer), else whatever `login` finds.

    `login` tries every mechanism in turn after a refusal, so a wrong password costs several refusals
    and, with some servers, a hang until the timeout instead of a clear 535."""
    smtp.ehlo_or_helo_if_needed()
    if "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split():
        smtp.user, smtp.password = user, password
        smtp.auth("PLAIN", smtp.auth_plain)
    else:
        smtp.login(user, password)


def send_email(config: Mapping[str, Any], secret: str, notice: AlertNotice, context: SendContext) -> int:
    """Send the notice over SMTP (STARTTLS, implicit TLS or plain), signing in when a user is set."""
    host, port, security = str(config["host"]), int(config["port"]), str(config["security"])
    tls = context.ssl_context or ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=context.smtp_timeout, context=tls)
        else:
            smtp = smtplib.SMTP(host, port, timeout=context.smtp_timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=tls)
            if config.get("username"):
                _sign_in(smtp, str(config["username"]), secret)
            refused = smtp.send_message(_email(config, notice))
    except smtplib.SMTPResponseException as exc:
        said = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        # 4xx is the server saying "later"; 5xx (and a refused sign-in) will not change by retrying.
        raise DeliveryError(
            scrub(f"SMTP {exc.smtp_code}: {said}", secret),
            retryable=400 <= exc.smtp_code < 500,
            response_code=exc.smtp_code,
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            scrub(f"every recipient was refused: {', '.join(exc.recipients)}", secret), retryable=False
        ) from None
    except ssl.SSLCertVerificationError as exc:  # the server is not who it says: trying again will not help
        raise DeliveryError(scrub(f"{type(exc).__name__}: {exc}", secret), retryable=False) from None
    except (smtplib.SMTPException, OSError) as exc:  # connection refused or dropped, timeouts, TLS errors
        raise DeliveryError(scrub(f"{type(exc).__name__}: {exc}", secret), retryable=True) from None
    if refused:
        raise DeliveryError(f"refused for {', '.join(refused)}", retryable=False)
    return 250


Sender = Callable[[Mapping[str, Any], str, AlertNotice, SendContext], int]
SENDERS: dict[str, Sender] = {"email": send_email, "slack": send_slack, "webhook": send_webhook}
