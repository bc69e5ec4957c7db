"""Destination settings: what an admin may enter for each kind, checked once, and the hint of each secret.

Each kind declares its settings and its secret in one place (`KINDS`), so the CLI, the page and the API
validate the same way and say the same thing when something is wrong. Settings that are not secret are
stored as a JSON object; the secret is sealed by the vault and shown only as its hint.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from usageledger.errors import UsageError

__all__ = [
    "KINDS",
    "SECURITY_MODES",
    "DestinationKind",
    "generate_signing_secret",
    "secret_hint",
    "signing_key",
    "validate_config",
    "validate_name",
    "validate_secret",
]

SECURITY_MODES = ("starttls", "ssl", "none")
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
MAX_RECIPIENTS = 20
_SIGNING_PREFIX = "whsec_"
_MIN_SIGNING_BYTES = 16


@dataclass(frozen=True, slots=True)
class DestinationKind:
    name: str  # email | slack | webhook
    label: str
    secret_label: str  # how the page and the CLI name the secret
    secret_required: bool


KINDS: dict[str, DestinationKind] = {
    kind.name: kind
    for kind in (
        DestinationKind("email", "Email (SMTP)", "SMTP password", secret_required=False),
        DestinationKind("slack", "Slack incoming webhook", "Slack webhook URL", secret_required=True),
        DestinationKind("webhook", "Signed webhook", "Signing secret", secret_required=True),
    )
}


def validate_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError("Give the destination a name of 1 to 200 characters, such as 'Finance email'.")
    return name


def _web_url(value: str, what: str) -> str:
    """An https URL (plain http only to this machine, for local relays and tests)."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"The {what} must be an https:// URL.")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise UsageError(f"The {what} must use https:// (plain http only to localhost).")
    if any(ch.isspace() for ch in value):
        raise UsageError(f"The {what} must not contain spaces.")
    return value


def _emails(value: str | list[str], what: str) -> list[str]:
    items = [str(item) for item in value] if isinstance(value, list) else re.split(r"[,;\s]+", str(value))
    found = [item.strip() for item in items if item.strip()]
    bad = [item for item in found if not _EMAIL.match(item)]
    if bad:
        raise UsageError(f"{what}: {', '.join(bad)} is not an email address.")
    return found


def _email_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    host = str(raw.get("host") or "").strip()
    if not host or not _HOST.match(host):
        raise UsageError("Give the SMTP server's host name, such as smtp.example.com.")
    security = str(raw.get("security") or "starttls").strip().lower()
    if security not in SECURITY_MODES:
        raise UsageError(f"The SMTP security is one of {', '.join(SECURITY_MODES)}, not {security!r}.")
    port_raw = raw.get("port")
    try:
        port = int(port_raw) if port_raw not in (None, "") else _DEFAULT_PORTS[security]
    except (TypeError, ValueError):
        raise UsageError(f"The SMTP port is a number from 1 to 65535, not {port_raw!r}.") from None
    if not 1 <= port <= 65535:
        raise UsageError(f"The SMTP port is a number from 1 to 65535, not {port}.")
    senders = _emails(str(raw.get("sender") or ""), "From")
    if len(senders) != 1:
        raise UsageError("Give one From address, such as alerts@example.com.")
    recipients = _emails(raw.get("recipients") or "", "To")
    if not recipients or len(recipients) > MAX_RECIPIENTS:
        raise UsageError(f"Give 1 to {MAX_RECIPIENTS} To addresses, separated by commas.")
    username = str(raw.get("username") or "").strip()
    return {
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "sender": senders[0],
        "recipients": recipients,
    }


def validate_config(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a destination of `kind` that are stored in clear, checked; a bad one is a UsageError."""
    if kind not in KINDS:
        raise UsageError(f"The destination kind is one of {', '.join(KINDS)}, not {kind!r}.")
    if kind == "email":
        return _email_config(raw)
    if kind == "webhook":
        return {"url": _web_url(str(raw.get("url") or ""), "webhook URL")}
    return {}  # slack: its URL is the secret


def generate_signing_secret() -> str:
    """A new signing secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes."""
    return _SIGNING_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signing_key(secret: str) -> bytes:
    """The HMAC key of a signing secret: a `whsec_…` secret is base64 (as the Standard Webhooks libraries
    make them); any other text is used as its UTF-8 bytes."""
    if secret.startswith(_SIGNING_PREFIX):
        try:
            key = base64.b64decode(secret[len(_SIGNING_PREFIX) :] + "==", validate=False)
        except (binascii.Error, ValueError):
            raise UsageError("A whsec_ signing secret must be base64 after the prefix.") from None
    else:
        key = secret.encode("utf-8")
    if len(key) < _MIN_SIGNING_BYTES:
        raise UsageError(
            f"The signing secret is too short: at least {_MIN_SIGNING_BYTES} bytes (leave it empty to have "
            "one generated)."
        )
    return key


def validate_secret(kind: str, config: Mapping[str, Any], secret: str) -> str:
    """The secret to seal for a destination of `kind`, checked (never echoed in a message)."""
    secret = secret.strip()
    if kind == "slack":
        url = _web_url(secret, "Slack webhook URL")
        if urlsplit(url).scheme == "https" and urlsplit(url).hostname != "hooks.slack.com":
            raise UsageError("A Slack incoming webhook URL starts with https://hooks.slack.com/services/.")
        return url
    if kind == "webhook":
        signing_key(secret)
        return secret
    if config.get("username") and not secret:
        raise UsageError("Give the SMTP password of that user (or leave the user empty for no sign-in).")
    return secret


def secret_hint(kind: str, secret: str) -> str:
    """All that is ever shown of a secret: for a URL its host, for others a few last characters at most."""
    if kind == "slack":
        parts = urlsplit(secret)
        return (
            f"{parts.scheme}://{parts.hostname}/…{secret[-4:]}"
            if len(secret) > 40
            else f"{parts.scheme}://{parts.hostname}/…"
        )
    if kind == "email":
        return "password set" if secret else "no password"
    prefix = _SIGNING_PREFIX if secret.startswith(_SIGNING_PREFIX) else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) >= 24 else f"{prefix}…"
