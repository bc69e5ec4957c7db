"""Delivering an alert notice to every enabled destination of its tenant, with retries and a delivery log.

Each destination is tried on its own: a failure at one does not hold up the others. A failed attempt that
may succeed later (5xx, 429, timeouts, connection errors, SMTP 4xx) is retried with exponential backoff and
jitter (`stamina`); every attempt, failed or not, is a row of the delivery log, committed at once (never
while a network call is open); a destination that still fails after the last attempt gets a
`delivery_failed` event. The delays are a `RetryPolicy`, so tests make them milliseconds.
"""

from __future__ import annotations

import datetime as dt
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import stamina
from sqlalchemy import Engine

from usageledger.errors import UsageLedgerError
from usageledger.notify.notice import TEST_ALERT_ID, AlertNotice
from usageledger.notify.senders import SENDERS, DeliveryError, SendContext
from usageledger.store.destinations import (
    DestinationRow,
    get_destination,
    list_destinations,
    load_destination_secret,
    record_delivery,
)
from usageledger.store.runs import add_event
from usageledger.store.vault import Vault

__all__ = ["DeliveryOptions", "DeliveryOutcome", "RetryPolicy", "deliver_to", "dispatch"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently one destination is tried: `attempts` in all, waits growing from
    `wait_initial` by `wait_exp_base` up to `wait_max`, plus up to `wait_jitter` of random jitter."""

    attempts: int = 4
    wait_initial: float = 1.0
    wait_max: float = 30.0
    wait_jitter: float = 1.0
    wait_exp_base: float = 2.0
    timeout: float = 120.0  # no more attempts start after this long


@dataclass
class DeliveryOptions:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    http_timeout: float = 10.0
    smtp_timeout: float = 10.0
    transport: httpx.BaseTransport | None = None  # tests may hand in a transport; None: the network
    ssl_context: ssl.SSLContext | None = None  # whom SMTP over TLS trusts; None: the system's trust store
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    destination_id: int
    destination_name: str
    kind: str
    delivered: bool
    attempts: int
    response_code: int | None
    error: str | None


def _message_id(notice: AlertNotice, destination: DestinationRow) -> str:
    """The webhook-id: the same on every retry of one alert to one destination; a test send is new each time."""
    if notice.alert_id == TEST_ALERT_ID:
        return f"msg_test_{uuid.uuid4().hex}"
    return f"msg_{notice.tenant_id}_{notice.alert_id}_{destination.id}"


def _log(
    engine: Engine,
    notice: AlertNotice,
    destination: DestinationRow,
    attempt: int,
    status: str,
    response_code: int | None = None,
    error: str | None = None,
) -> None:
    """One attempt in the delivery log, in a transaction of its own: it stays even if a later one fails."""
    with engine.begin() as conn:
        record_delivery(
            conn,
            tenant_id=notice.tenant_id,
            alert_id=notice.alert_id,
            destination=destination,
            attempt=attempt,
            status=status,
            response_code=response_code,
            error=error,
        )


def _failed(
    engine: Engine, notice: AlertNotice, destination: DestinationRow, attempts: int, error: str
) -> None:
    with engine.begin() as conn:
        add_event(
            conn,
            tenant_id=notice.tenant_id,
            connection_id=None,
            kind="delivery_failed",
            level="error",
            message=(
                f"The notification “{notice.title}” could not be delivered to {destination.kind} destination "
                f"“{destination.name}” after {attempts} attempt(s): {error}"
            ),
            details={
                "alert_id": notice.alert_id,
                "destination_id": destination.id,
                "destination": destination.name,
                "attempts": attempts,
                "error": error,
            },
        )


def deliver_to(
    engine: Engine,
    vault: Vault,
    destination: DestinationRow,
    notice: AlertNotice,
    http: httpx.Client,
    options: DeliveryOptions,
) -> DeliveryOutcome:
    """Deliver to one destination, retrying what may pass later; every attempt is logged."""

    def outcome(delivered: bool, attempts: int, code: int | None, error: str | None) -> DeliveryOutcome:
        return DeliveryOutcome(
            destination.id, destination.name, destination.kind, delivered, attempts, code, error
        )

    try:
        with engine.connect() as conn:
            sealed = load_destination_secret(conn, destination.id, tenant_id=destination.tenant_id)
        secret = vault.open(sealed.ciphertext, sealed.kek_id)
    except UsageLedgerError as exc:  # the sealing key is gone, or the destination was deleted meanwhile
        _log(engine, notice, destination, 1, status="failed", error=exc.message)
        _failed(engine, notice, destination, 1, exc.message)
        return outcome(False, 1, None, exc.message)

    context = SendContext(
        http=http,
        smtp_timeout=options.smtp_timeout,
        ssl_context=options.ssl_context,
        clock=options.clock,
        message_id=_message_id(notice, destination),
    )
    send = SENDERS[destination.kind]
    policy = options.retry
    attempt = 0
    try:
        for retrying in stamina.retry_context(
            on=lambda exc: isinstance(exc, DeliveryError) and exc.retryable,
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
            wait_exp_base=policy.wait_exp_base,
        ):
            with retrying:
                attempt = retrying.num
                try:
                    code = send(destination.config, secret, notice, context)
                except DeliveryError as exc:
                    _log(engine, notice, destination, attempt, status="failed",
                         response_code=exc.response_code, error=exc.message)  # fmt: skip
                    raise
                _log(engine, notice, destination, attempt, status="delivered", response_code=code)
                return outcome(True, attempt, code, None)
    except DeliveryError as exc:
        _failed(engine, notice, destination, attempt, exc.message)
        return outcome(False, attempt, exc.response_code, exc.message)
    raise AssertionError(
        "unreachable: stamina either returns from the block or re-raises"
    )  # pragma: no cover


def dispatch(
    engine: Engine,
    vault: Vault,
    notice: AlertNotice,
    *,
    options: DeliveryOptions | None = None,
    destination_id: int | None = None,
) -> list[DeliveryOutcome]:
    """Deliver `notice` to every enabled destination of its tenant (or only to `destination_id`, enabled or
    not, for a test send). Returns one outcome per destination; failures are logged, never raised."""
    options = options or DeliveryOptions()
    with engine.connect() as conn:
        if destination_id is not None:
            targets = [get_destination(conn, destination_id, tenant_id=notice.tenant_id)]
        else:
            targets = list_destinations(conn, notice.tenant_id, enabled_only=True)
    if not targets:
        return []
    with httpx.Client(
        timeout=options.http_timeout, follow_redirects=False, transport=options.transport
    ) as http:
        return [deliver_to(engine, vault, target, notice, http, options) for target in targets]
