"""Company settings › Notifications and `/api/v1/destinations`: admins add, test and delete; members read
the API; secrets are write-only everywhere; bad input keeps the form; every change is in the event log."""

# ruff: noqa: F811  (the web fixtures are imported and used as arguments)

from __future__ import annotations

import logging
import re

from tests.web.conftest import (  # noqa: F401
    _clean_fake,
    accounts,
    admin,
    anon,
    app,
    bearer,
    engine,
    fake,
    member,
    outsider,
    running_fake,
    settings,
    tokens,
)
from usageledger.store import list_events

from .receivers import webhook_receiver

PAGE = "/settings/destinations"
SECRET = "whsec_" + "d2ViLXNpZ25pbmctc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY="
SLACK_SECRET_PATH = "/services/T9/B9/web-slack-secret-path"


def _add(client, **fields) -> object:
    return client.post(PAGE, data={"csrf_token": client.csrf(PAGE), **fields})


def _no_secret_left(client, *secrets: str) -> None:
    everything = b"".join(client.bodies)
    for secret in secrets:
        assert secret.encode() not in everything


def test_an_admin_adds_a_slack_destination_and_sees_only_its_hint(admin, receiver, caplog):
    """The URL is the secret: the page shows its host, the test reaches it, nothing echoes or logs the path."""
    caplog.set_level(logging.DEBUG)
    url = receiver.url + SLACK_SECRET_PATH
    added = _add(admin, kind="slack", name="#finops", secret=url)
    assert added.status_code == 303
    page = admin.get(PAGE)
    assert "#finops" in page.text and "http://127.0.0.1/…" in page.text
    [row_id] = re.findall(r"/settings/destinations/(\d+)/test", page.text)
    tested = admin.post(f"{PAGE}/{row_id}/test", data={"csrf_token": admin.csrf(PAGE)})
    assert tested.status_code == 303
    assert "Test delivered to “#finops”" in admin.get(PAGE).text
    assert receiver.received[0].path == SLACK_SECRET_PATH
    _no_secret_left(admin, SLACK_SECRET_PATH)
    assert "web-slack-secret-path" not in caplog.text


def test_a_refused_form_keeps_what_was_typed_but_not_the_secret(admin):
    """A bad To address: 400, the message beside the form, fields kept, the password field empty."""
    refused = _add(admin, kind="email", name="Finance", host="smtp.example.com", security="starttls",
                   username="bot", sender="alerts@example.com", recipients="nobody", secret="pw-never-echoed")  # fmt: skip
    assert refused.status_code == 400
    assert "nobody is not an email address" in refused.text
    assert 'value="Finance"' in refused.text and 'value="smtp.example.com"' in refused.text
    _no_secret_left(admin, "pw-never-echoed")


def test_a_generated_signing_secret_is_shown_once(admin):
    """A webhook without a secret: the response shows the new whsec_ secret; the page after it does not."""
    created = _add(admin, kind="webhook", name="Hook", url="https://hooks.example.com/in", secret="")
    assert created.status_code == 200
    secret = re.search(r'id="new-signing-secret">(whsec_[^<]+)<', created.text)
    assert secret
    assert secret.group(1) not in admin.get(PAGE).text


def test_members_cannot_open_the_page_nor_change_destinations(member, tokens):
    """403 for the page and for API writes; the API list is readable."""
    assert member.get(PAGE).status_code == 403
    assert member.get("/api/v1/destinations", headers=bearer(tokens["acme_member"])).status_code == 200
    refused = member.post("/api/v1/destinations", headers=bearer(tokens["acme_member"]),
                          json={"kind": "slack", "name": "x", "secret": "https://hooks.slack.com/services/a"})  # fmt: skip
    assert refused.status_code == 403


def test_the_api_adds_tests_logs_and_deletes_with_the_secret_write_only(admin, tokens, engine, accounts):
    """201 without the secret; test-send delivered and signed; the delivery log; 204 then 404."""
    headers = bearer(tokens["acme_admin"])
    with webhook_receiver(secret=SECRET) as receiver:
        created = admin.post("/api/v1/destinations", headers=headers, json={
            "kind": "webhook", "name": "Ops", "settings": {"url": receiver.url}, "secret": SECRET})  # fmt: skip
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["secret_hint"].startswith("whsec_…") and body["generated_secret"] is None
        tested = admin.post(f"/api/v1/destinations/{body['id']}/test", headers=headers)
        assert tested.json() == {"delivered": True, "attempts": 1, "response_code": 200, "error": None}
        assert receiver.rejections == []
    listed = admin.get("/api/v1/destinations", headers=headers).json()["destinations"]
    assert [d["name"] for d in listed] == ["Ops"]
    log = admin.get("/api/v1/destinations/deliveries?alert_id=0", headers=headers).json()["deliveries"]
    assert [(d["destination_name"], d["status"], d["response_code"]) for d in log] == [
        ("Ops", "delivered", 200)
    ]
    assert admin.delete(f"/api/v1/destinations/{body['id']}", headers=headers).status_code == 204
    assert admin.get(f"/api/v1/destinations/{body['id']}", headers=headers).status_code == 404
    with engine.connect() as conn:
        kinds = [e.kind for e in list_events(conn, accounts["acme_admin"].tenant_id)]
    assert "destination_added" in kinds and "destination_deleted" in kinds
    _no_secret_left(admin, SECRET, SECRET[6:])


def test_bad_api_input_is_a_400_naming_the_setting(admin, tokens):
    """An http:// URL to another host, a duplicate name: clear 400 and 409, never a 500."""
    headers = bearer(tokens["acme_admin"])
    bad = admin.post("/api/v1/destinations", headers=headers,
                     json={"kind": "webhook", "name": "x", "settings": {"url": "http://example.com/in"}})  # fmt: skip
    assert bad.status_code == 400 and "https://" in bad.json()["error"]["message"]
    ok = {
        "kind": "slack",
        "name": "dup",
        "secret": "https://hooks.slack.com/services/T/B/abcdefghijklmnopqrstuvwxyz",
    }
    assert admin.post("/api/v1/destinations", headers=headers, json=ok).status_code == 201
    assert admin.post("/api/v1/destinations", headers=headers, json=ok).status_code == 409
    listed = admin.get("/api/v1/destinations", headers=headers)
    assert "abcdefghijklmnop" not in listed.text and "hooks.slack.com/…wxyz" in listed.text


def test_another_workspace_cannot_see_or_delete_them(admin, outsider, tokens):
    """Globex's admin gets 404 for Acme's destination and an empty list."""
    created = admin.post("/api/v1/destinations", headers=bearer(tokens["acme_admin"]), json={
        "kind": "webhook", "name": "Acme hook", "settings": {"url": "https://hooks.example.com/a"}})  # fmt: skip
    destination_id = created.json()["id"]
    globex = bearer(tokens["globex_admin"])
    assert outsider.get("/api/v1/destinations", headers=globex).json() == {"destinations": []}
    assert outsider.delete(f"/api/v1/destinations/{destination_id}", headers=globex).status_code == 404
    page = outsider.post(f"{PAGE}/{destination_id}/delete", data={"csrf_token": outsider.csrf(PAGE)})
    assert page.status_code == 404


def test_the_event_log_lists_destination_changes_without_secrets(admin, tokens):
    """`GET /api/v1/events?kind=destination_added` names the destination and the secret's hint only."""
    _add(admin, kind="webhook", name="Hook", url="https://hooks.example.com/in", secret=SECRET)
    events = admin.get("/api/v1/events?kind=destination_added", headers=bearer(tokens["acme_admin"]))
    [event] = events.json()["events"]
    assert "added the Signed webhook destination “Hook” (whsec_…" in event["message"]
    assert SECRET[6:] not in events.text


def test_a_paused_destination_gets_no_alerts_until_resumed(admin, tokens, engine, accounts):
    """PATCH enabled=false: dispatch skips it (a `destination_changed` event); resumed, it is sent again."""
    from usageledger.notify import DeliveryOptions, dispatch, test_notice
    from usageledger.store import Vault

    headers = bearer(tokens["acme_admin"])
    tenant_id = accounts["acme_admin"].tenant_id
    vault = Vault.from_settings(admin.app.state.services.settings)
    with webhook_receiver() as receiver:
        created = admin.post("/api/v1/destinations", headers=headers, json={
            "kind": "webhook", "name": "Hook", "settings": {"url": receiver.url}, "secret": SECRET}).json()  # fmt: skip
        paused = admin.patch(
            f"/api/v1/destinations/{created['id']}", headers=headers, json={"enabled": False}
        )
        assert paused.status_code == 200 and paused.json()["enabled"] is False
        assert (
            dispatch(engine, vault, test_notice(tenant_id, "Hook", by="t"), options=DeliveryOptions()) == []
        )
        assert "paused" in admin.get(PAGE).text
        admin.post(f"{PAGE}/{created['id']}/pause", data={"csrf_token": admin.csrf(PAGE), "paused": "false"})
        [outcome] = dispatch(engine, vault, test_notice(tenant_id, "Hook", by="t"), options=DeliveryOptions())
    assert outcome.delivered and len(receiver.received) == 1
    with engine.connect() as conn:
        changes = [e.message for e in list_events(conn, tenant_id, kind="destination_changed")]
    assert len(changes) == 2 and any("paused" in m for m in changes) and any("resumed" in m for m in changes)
