"""Delivery: a real SMTP server receives the email, a signed webhook verifies and refuses replays, Slack gets
its JSON, a failing endpoint is retried with backoff and every attempt is in the delivery log."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from sqlalchemy import Engine

from usageledger.notify import AlertNotice, DeliveryOptions, add_destination, dispatch, sign_webhook
from usageledger.notify.notice import render_json
from usageledger.store import Vault, list_events
from usageledger.store.destinations import list_deliveries

from .conftest import SMTP_PASSWORD, SMTP_USER, SmtpInbox
from .receivers import WebhookReceiver, webhook_receiver

SIGNING_SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy0wMTIzNA=="
SLACK_PATH = "/services/T000/B000/slack-path-secret-XYZW"


def _notice(tenant_id: int, alert_id: int = 41) -> AlertNotice:
    return AlertNotice(
        alert_id=alert_id,
        tenant_id=tenant_id,
        kind="anomaly_spike",
        subject="API key Prod backend",
        title="Cost spike on API key Prod backend",
        message="$1,234.00 on 2026-05-04, against a usual $120.00 on weekdays.",
        occurred_at=dt.datetime(2026, 5, 5, 6, 0, tzinfo=dt.UTC),
        details={"day": "2026-05-04", "amount_usd": "1234.00"},
        link="https://usage.example.com/alerts/41",
    )


def _add(
    engine: Engine, vault: Vault, tenant_id: int, kind: str, settings: dict, secret: str, name: str = ""
):
    with engine.begin() as conn:
        return add_destination(
            conn, vault, tenant_id=tenant_id, kind=kind, name=name or kind, settings=settings, secret=secret,
            by="ada@example.com",
        )  # fmt: skip


def test_the_smtp_server_receives_the_email(engine, vault, tenant_id, smtp_server: SmtpInbox, fast):
    """Email goes over SMTP with sign-in, to every recipient, saying what the alert says."""
    _add(engine, vault, tenant_id, "email", {
        "host": smtp_server.host, "port": smtp_server.port, "security": "none", "username": SMTP_USER,
        "sender": "alerts@example.com", "recipients": "fin@example.com, eng@example.com",
    }, SMTP_PASSWORD)  # fmt: skip
    [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert outcome.delivered and outcome.attempts == 1
    assert smtp_server.logins == [(SMTP_USER, SMTP_PASSWORD)]  # the sealed password was opened and used
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["fin@example.com", "eng@example.com"]
    text = envelope.content.decode()
    assert "Subject: [usageledger] Cost spike on API key Prod backend" in text
    assert "$1,234.00 on 2026-05-04" in text and "https://usage.example.com/alerts/41" in text
    with engine.connect() as conn:
        [logged] = list_deliveries(conn, tenant_id, alert_id=41)
    assert (logged.status, logged.attempt, logged.response_code) == ("delivered", 1, 250)


def test_a_wrong_smtp_password_fails_once_without_retry_and_is_logged(
    engine, vault, tenant_id, smtp_server, fast
):
    """A refused sign-in (535) will not pass by retrying: one attempt, a failure event, no password in either."""
    _add(engine, vault, tenant_id, "email", {
        "host": smtp_server.host, "port": smtp_server.port, "security": "none", "username": SMTP_USER,
        "sender": "alerts@example.com", "recipients": "fin@example.com",
    }, "wrong-password-xyz")  # fmt: skip
    [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert not outcome.delivered and outcome.attempts == 1 and outcome.response_code == 535
    with engine.connect() as conn:
        [logged] = list_deliveries(conn, tenant_id)
        [event] = list_events(conn, tenant_id, kind="delivery_failed")
    assert logged.status == "failed" and "535" in (logged.error or "")
    assert "wrong-password-xyz" not in (logged.error or "") + event.message + json.dumps(event.details)


def test_the_webhook_is_signed_and_the_receiver_verifies_it(engine, vault, tenant_id, fast):
    """The receiver checks the Standard Webhooks signature over id, timestamp and body, and accepts it."""
    with webhook_receiver(secret=SIGNING_SECRET) as receiver:
        _add(engine, vault, tenant_id, "webhook", {"url": receiver.url + "/hook"}, SIGNING_SECRET)
        [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert outcome.delivered, receiver.rejections
    [request] = receiver.received
    assert request.answered == 200 and request.path == "/hook"
    assert request.headers["webhook-id"] == f"msg_{tenant_id}_41_{outcome.destination_id}"
    assert request.headers["webhook-signature"].startswith("v1,")
    payload = json.loads(request.body)
    assert payload["type"] == "alert.anomaly_spike" and payload["data"]["alert_id"] == 41
    assert SIGNING_SECRET not in json.dumps(request.headers) + request.body.decode()


def _post(url: str, body: str, headers: dict[str, str]) -> int:
    import httpx

    return httpx.post(url, content=body, headers={"content-type": "application/json", **headers}).status_code


def test_the_receiver_rejects_a_stale_timestamp_a_replay_and_a_bad_signature(tenant_id):
    """Outside the 5-minute window, a second use of an accepted id, or another key's signature: refused."""
    body = render_json(_notice(tenant_id))
    now = dt.datetime.now(dt.UTC)
    with webhook_receiver(secret=SIGNING_SECRET) as receiver:
        fresh = sign_webhook(SIGNING_SECRET, "msg_1", body, now)
        assert _post(receiver.url, body, fresh) == 200
        assert _post(receiver.url, body, fresh) == 409  # the same message again: a replay
        stale = sign_webhook(SIGNING_SECRET, "msg_2", body, now - dt.timedelta(minutes=6))
        assert _post(receiver.url, body, stale) == 401
        forged = sign_webhook("whsec_" + "b3RoZXIta2V5LW9mLWFuLWF0dGFja2VyLTAxMjM0NTY3", "msg_3", body, now)
        assert _post(receiver.url, body, forged) == 401
        tampered = sign_webhook(SIGNING_SECRET, "msg_4", body, now)
        assert _post(receiver.url, body.replace("1,234", "9,999"), tampered) == 401
    assert receiver.rejections == [
        "replayed message id",
        "Message timestamp too old",
        "No matching signature found",
        "No matching signature found",
    ]


def test_a_failing_endpoint_is_retried_with_backoff_and_every_attempt_is_logged(
    engine, vault, tenant_id, fast
):
    """500, 503, then 200: three attempts, waits growing (0.05 s, then 0.1 s), two failures in the log."""
    with webhook_receiver(secret=SIGNING_SECRET, script=[500, 503]) as receiver:
        _add(engine, vault, tenant_id, "webhook", {"url": receiver.url}, SIGNING_SECRET)
        [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert outcome.delivered and outcome.attempts == 3
    times = [r.at for r in receiver.received]
    assert [r.answered for r in receiver.received] == [500, 503, 200]
    assert times[1] - times[0] >= 0.05 and times[2] - times[1] >= 0.1  # exponential, not immediate
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # a retry is the same message
    with engine.connect() as conn:
        log = sorted(list_deliveries(conn, tenant_id, alert_id=41), key=lambda d: d.attempt)
        failures = list_events(conn, tenant_id, kind="delivery_failed")
    assert [(d.attempt, d.status, d.response_code) for d in log] == [
        (1, "failed", 500),
        (2, "failed", 503),
        (3, "delivered", 200),
    ]
    assert failures == []  # it got through in the end


def test_an_endpoint_that_keeps_failing_gives_up_and_says_so(engine, vault, tenant_id, fast):
    """After the last attempt the failure is an error event of the tenant naming the destination."""
    with webhook_receiver(default=502) as receiver:
        _add(engine, vault, tenant_id, "webhook", {"url": receiver.url}, SIGNING_SECRET, name="Ops hook")
        [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert not outcome.delivered and outcome.attempts == 3 and len(receiver.received) == 3
    with engine.connect() as conn:
        [event] = list_events(conn, tenant_id, kind="delivery_failed")
        assert len(list_deliveries(conn, tenant_id)) == 3
    assert event.level == "error" and "Ops hook" in event.message and "HTTP 502" in event.message


def test_a_client_error_is_not_retried(engine, vault, tenant_id, fast):
    """A 404 will not change by asking again: one attempt."""
    with webhook_receiver(default=404) as receiver:
        _add(engine, vault, tenant_id, "webhook", {"url": receiver.url}, SIGNING_SECRET)
        [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert not outcome.delivered and outcome.attempts == 1 and outcome.response_code == 404


def test_a_connection_refused_is_retried_and_logged_without_the_slack_url(
    engine, vault, tenant_id, fast, caplog: pytest.LogCaptureFixture
):
    """Nothing listens: every attempt fails (retried), and neither the log nor the events hold the URL."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slack_url = f"http://127.0.0.1:{port}{SLACK_PATH}"
    caplog.set_level(logging.DEBUG)
    _add(engine, vault, tenant_id, "slack", {}, slack_url)
    [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert not outcome.delivered and outcome.attempts == 3
    with engine.connect() as conn:
        said = json.dumps([d.error for d in list_deliveries(conn, tenant_id)])
        said += json.dumps([(e.message, e.details) for e in list_events(conn, tenant_id)])
    said += caplog.text + (outcome.error or "")
    assert "ConnectError" in said
    assert "slack-path-secret" not in said


def test_slack_gets_text_and_blocks(engine, vault, tenant_id, receiver: WebhookReceiver, fast):
    """The incoming webhook receives `text` (the fallback) and blocks with the details and the link."""
    _add(engine, vault, tenant_id, "slack", {}, receiver.url + SLACK_PATH)
    [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert outcome.delivered
    [request] = receiver.received
    assert request.path == SLACK_PATH
    payload = json.loads(request.body)
    assert payload["text"].startswith("*Cost spike on API key Prod backend*")
    assert payload["blocks"][0]["type"] == "section"
    assert {"type": "mrkdwn", "text": "*amount_usd*\n1234.00"} in payload["blocks"][1]["fields"]
    assert "https://usage.example.com/alerts/41" in json.dumps(payload["blocks"][-1])


def test_every_enabled_destination_gets_it_and_one_failure_does_not_stop_the_others(
    engine, vault, tenant_id, fast
):
    """Two destinations: the broken one fails alone; the other is delivered; another tenant gets nothing."""
    with webhook_receiver(default=500) as broken, webhook_receiver() as working:
        _add(engine, vault, tenant_id, "webhook", {"url": broken.url}, SIGNING_SECRET, name="broken")
        _add(engine, vault, tenant_id, "slack", {}, working.url + SLACK_PATH, name="working")
        outcomes = dispatch(engine, vault, _notice(tenant_id), options=fast)
        assert dispatch(engine, vault, _notice(tenant_id + 1000), options=fast) == []
    assert {(o.destination_name, o.delivered) for o in outcomes} == {("broken", False), ("working", True)}
    assert len(working.received) == 1


def test_a_sealed_secret_from_a_key_no_longer_configured_is_a_logged_failure(
    engine, tenant_id, fast, receiver
):
    """The vault cannot open it: the delivery fails with the vault's advice, nothing is sent."""
    from cryptography.fernet import Fernet

    old = Vault.from_keys([Fernet.generate_key().decode()])
    _add(engine, old, tenant_id, "webhook", {"url": receiver.url}, SIGNING_SECRET)
    new = Vault.from_keys([Fernet.generate_key().decode()])
    [outcome] = dispatch(engine, new, _notice(tenant_id), options=fast)
    assert not outcome.delivered and "USAGELEDGER_SECRET_KEY" in (outcome.error or "")
    assert receiver.received == []


def test_default_options_are_patient():
    """Production waits start at a second and grow, for four attempts: minutes of outage are ridden out."""
    options = DeliveryOptions()
    assert (
        options.retry.attempts == 4 and options.retry.wait_initial == 1.0 and options.retry.wait_exp_base == 2
    )


def test_rotating_the_key_reseals_destination_secrets(engine, tenant_id, fast, receiver):
    """After rotation to a new key, the old key can be dropped and the destination still delivers."""
    from cryptography.fernet import Fernet

    from usageledger.store.destinations import rotate_destination_secrets

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    _add(engine, Vault.from_keys([old]), tenant_id, "webhook", {"url": receiver.url}, SIGNING_SECRET)
    with engine.begin() as conn:
        assert rotate_destination_secrets(conn, Vault.from_keys([new, old])) == 1
        assert rotate_destination_secrets(conn, Vault.from_keys([new, old])) == 0
    [outcome] = dispatch(engine, Vault.from_keys([new]), _notice(tenant_id), options=fast)
    assert outcome.delivered


def test_starttls_is_used_before_signing_in(engine, vault, tenant_id, tls_smtp_server, fast):
    """The default security: the server requires STARTTLS; the password only crosses the encrypted channel."""
    _add(engine, vault, tenant_id, "email", {
        "host": tls_smtp_server.host, "port": tls_smtp_server.port, "username": SMTP_USER,
        "sender": "alerts@example.com", "recipients": "fin@example.com",
    }, SMTP_PASSWORD)  # fmt: skip
    fast.ssl_context = tls_smtp_server.client_context
    [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert outcome.delivered, outcome.error
    assert tls_smtp_server.logins == [(SMTP_USER, SMTP_PASSWORD)] and len(tls_smtp_server.messages) == 1


def test_a_certificate_that_is_not_trusted_fails_without_sending_the_password(
    engine, vault, tenant_id, tls_smtp_server, fast
):
    """With the system's trust store the self-signed certificate is refused: no sign-in, no retry."""
    _add(engine, vault, tenant_id, "email", {
        "host": tls_smtp_server.host, "port": tls_smtp_server.port, "username": SMTP_USER,
        "sender": "alerts@example.com", "recipients": "fin@example.com",
    }, SMTP_PASSWORD)  # fmt: skip
    [outcome] = dispatch(engine, vault, _notice(tenant_id), options=fast)
    assert not outcome.delivered and "CERTIFICATE_VERIFY_FAILED" in (outcome.error or "")
    assert outcome.attempts == 1  # a certificate that fails verification will fail again
    assert tls_smtp_server.logins == []
