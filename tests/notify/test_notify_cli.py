"""`usageledger destinations …`: secrets from stdin or the environment (never an argument, never printed),
test sends that reach a real receiver, deletion that erases the secret, and clear refusals."""

from __future__ import annotations

import io
import json
import logging
import sys
from dataclasses import dataclass

import pytest

from usageledger.cli import main

from .conftest import SMTP_PASSWORD, SMTP_USER
from .receivers import webhook_receiver

SECRET = "whsec_" + "Y2xpLXNpZ25pbmctc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY="
SLACK_PATH = "/services/T1/B1/cli-slack-secret-path"


@dataclass
class Result:
    exit_code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch, tmp_path, database_url, secret_key, capsys):
    """Run `usageledger ARGS…` in-process against a fresh database; `stdin` feeds --secret-stdin."""
    monkeypatch.setenv("USAGELEDGER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USAGELEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("USAGELEDGER_SECRET_KEY", secret_key)
    said: list[str] = []

    def run(*args: str, stdin: str = "") -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        captured = capsys.readouterr()
        said.append(captured.out + captured.err)
        return Result(code, captured.out, captured.err)

    run.said = said  # type: ignore[attr-defined]
    return run


def test_a_webhook_is_added_from_stdin_listed_by_hint_tested_and_deleted(cli, caplog):
    """The whole life of a destination; the secret never appears in any output nor any log record."""
    caplog.set_level(logging.DEBUG)
    with webhook_receiver(secret=SECRET) as receiver:
        added = cli("destinations", "add-webhook", "Ops hook", "--url", receiver.url, "--secret-stdin",
                    stdin=SECRET + "\n")  # fmt: skip
        assert added.exit_code == 0, added.err
        assert "Added webhook destination 1 “Ops hook” (whsec_…" in added.out
        listed = cli("destinations", "list", "--format", "json")
        [row] = json.loads(listed.out)
        assert row["secret"].startswith("whsec_…") and row["target"] == receiver.url
        tested = cli("destinations", "test", "1")
        assert (
            tested.exit_code == 0 and "Delivered to “Ops hook” in 1 attempt(s) (response 200)" in tested.out
        )
        assert receiver.rejections == [] and json.loads(receiver.received[0].body)["type"] == "alert.test"
    assert "paused" in cli("destinations", "pause", "1").out
    assert '"enabled": false' in cli("destinations", "list", "--format", "json").out
    assert "resumed" in cli("destinations", "resume", "1").out
    deleted = cli("destinations", "delete", "1", "--yes")
    assert deleted.exit_code == 0 and "its secret is erased" in deleted.out
    assert "No destinations yet" in cli("destinations", "list").out
    events = cli("events", "--json").out
    assert "destination_added" in events and "destination_deleted" in events
    assert not any(SECRET in text or SECRET[6:] in text for text in [*cli.said, caplog.text])


def test_slack_from_the_environment_and_never_from_an_argument(cli, monkeypatch, receiver):
    """The URL comes from USAGELEDGER_DESTINATION_SECRET; given as an argument, the command is refused."""
    url = receiver.url + SLACK_PATH
    refused = cli("destinations", "add-slack", "#finops", url)
    assert refused.exit_code == 2
    cli.said.clear()  # Click's refusal echoes what was typed; from here on nothing may show the URL
    monkeypatch.setenv("USAGELEDGER_DESTINATION_SECRET", url)
    added = cli("destinations", "add-slack", "#finops")
    assert added.exit_code == 0, added.err
    assert "http://127.0.0.1/…" in added.out
    assert cli("destinations", "test", "1").exit_code == 0
    assert receiver.received[0].path == SLACK_PATH
    assert not any("cli-slack-secret-path" in text for text in cli.said)


def test_a_webhook_without_a_secret_gets_one_generated_and_shown_once(cli):
    """The generated whsec_ secret is printed by `add-webhook` and by nothing after it."""
    added = cli(
        "destinations", "add-webhook", "Hook", "--url", "https://hooks.example.com/x", "--secret-stdin"
    )
    assert added.exit_code == 0, added.err
    secret = next(line for line in added.out.splitlines() if line.startswith("whsec_"))
    assert len(secret) > 40
    assert secret not in cli("destinations", "list", "--format", "json").out


def test_email_over_a_real_smtp_server(cli, smtp_server):
    """add-email takes the password from stdin; `test` delivers a message the server accepts."""
    added = cli(
        "destinations", "add-email", "Finance", "--host", smtp_server.host, "--port", str(smtp_server.port),
        "--security", "none", "--username", SMTP_USER, "--from", "alerts@example.com",
        "--to", "fin@example.com", "--secret-stdin", stdin=SMTP_PASSWORD + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.err
    assert "(password set)" in added.out
    assert cli("destinations", "test", "1").exit_code == 0
    [message] = smtp_server.messages
    assert "Test notification to Finance" in message.content.decode()
    assert not any(SMTP_PASSWORD in text for text in cli.said)


def test_bad_settings_and_a_failing_test_exit_with_a_message(cli):
    """A bad recipient is exit 2 naming it; a test to an endpoint that keeps failing is exit 5."""
    bad = cli("destinations", "add-email", "X", "--host", "smtp.example.com", "--from", "a@example.com",
              "--to", "not-an-email")  # fmt: skip
    assert bad.exit_code == 2 and "not-an-email is not an email address" in bad.err
    with webhook_receiver(default=500) as receiver:
        cli("destinations", "add-webhook", "Broken", "--url", receiver.url, "--secret-stdin", stdin=SECRET)
        failed = cli("destinations", "test", "1")
    assert failed.exit_code == 5 and "HTTP 500" in failed.err
    assert cli("destinations", "delete", "99", "--yes").exit_code == 6
