"""Notification fixtures: a migrated database of each kind with a tenant, the vault, fast retries, receivers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine

from usageledger.config import Settings
from usageledger.notify import DeliveryOptions, RetryPolicy
from usageledger.store import Vault, create_engine_for, migrate
from usageledger.store.accounts import create_tenant

from .receivers import WebhookReceiver, webhook_receiver

SMTP_USER = "alerts-bot"
SMTP_PASSWORD = "smtp-pa55word-never-shown"


@pytest.fixture
def engine(database_url: str, tmp_path) -> Iterator[Engine]:
    engine = create_engine_for(Settings(home=tmp_path, database_url=database_url))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def vault(secret_key: str) -> Vault:
    return Vault.from_keys([secret_key])


@pytest.fixture
def tenant_id(engine: Engine) -> int:
    with engine.begin() as conn:
        return create_tenant(conn, "Acme")


@pytest.fixture
def fast() -> DeliveryOptions:
    """Real backoff, but in tens of milliseconds: the growth between attempts can still be measured."""
    return DeliveryOptions(
        retry=RetryPolicy(attempts=3, wait_initial=0.05, wait_max=1.0, wait_jitter=0.0),
        http_timeout=2.0,
        smtp_timeout=3.0,
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running


@dataclass
class SmtpInbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[SmtpInbox]:
    """A real SMTP server (aiosmtpd) on loopback that requires sign-in and keeps what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    with socket.socket() as probe:  # aiosmtpd checks readiness by connecting, so it needs a real port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            inbox.messages.append(envelope)
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            inbox.logins.append((user, password))
            ok = user == SMTP_USER and password == SMTP_PASSWORD
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself
        return AuthResult(success=False, handled=False)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,  # loopback only; TLS is the production default (STARTTLS)
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
