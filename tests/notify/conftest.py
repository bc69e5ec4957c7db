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


def _self_signed() -> tuple[bytes, bytes]:
    """A certificate and key for 127.0.0.1, made for this test run."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@dataclass
class TlsSmtpInbox(SmtpInbox):
    client_context: Any = None  # an ssl.SSLContext that trusts the server's certificate


@pytest.fixture
def tls_smtp_server(tmp_path) -> Iterator[TlsSmtpInbox]:
    """An SMTP server that requires STARTTLS before anything else, and sign-in after it."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert_pem, key_pem = _self_signed()
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = TlsSmtpInbox(
        "127.0.0.1", port, client_context=ssl.create_default_context(cadata=cert_pem.decode())
    )

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            inbox.messages.append(envelope)
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            inbox.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            ok = (auth_data.login.decode(), auth_data.password.decode()) == (SMTP_USER, SMTP_PASSWORD)
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, authenticator=authenticate,
        tls_context=server_context, require_starttls=True,
    )  # fmt: skip
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
