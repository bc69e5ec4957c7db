"""`destinations`: where alerts are sent — list, add (email, Slack, signed webhook), test-send, delete.

Secrets (the SMTP password, the Slack webhook URL, the signing secret) come from a hidden prompt, from
standard input (`--secret-stdin`) or from `USAGELEDGER_DESTINATION_SECRET`, never from an argument
(arguments land in shell history and `ps`). They are sealed at once and never printed again: `list` shows
only a hint. A webhook added without a signing secret gets a generated one, printed this once.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from ..errors import UsageError
from .app import app
from .context import AppContext, app_context
from .render import console, render_records

__all__: list[str] = []

destinations_app = typer.Typer(
    help="Where alerts are sent: email, Slack, signed webhooks.", no_args_is_help=True
)
app.add_typer(destinations_app, name="destinations")

FORMATS = ("table", "json", "csv")
SECRET_ENV = "USAGELEDGER_DESTINATION_SECRET"
SecretStdin = Annotated[
    bool, typer.Option("--secret-stdin", help="Read the secret from standard input (one line).")
]
_BY = "operator (CLI)"


def _read_secret(label: str, from_stdin: bool, *, optional: bool = False) -> str:
    """From stdin, the environment, or a hidden prompt; never from an argument."""
    if from_stdin:
        secret = sys.stdin.readline().strip()
        if not secret and not optional:
            raise UsageError(f"--secret-stdin was given but standard input was empty; pipe the {label} in.")
        return secret
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    if not sys.stdin.isatty():
        if optional:
            return ""
        raise UsageError(
            f"No {label}: run in a terminal to be prompted, pipe it with --secret-stdin, or set {SECRET_ENV}."
        )
    hint = " (empty: none)" if optional else ""
    return str(typer.prompt(f"{label}{hint} (input hidden)", hide_input=True, default="" if optional else None,
                            show_default=False))  # fmt: skip


def _add(actx: AppContext, kind: str, name: str, settings: dict[str, Any], secret: str) -> None:
    from ..notify import add_destination
    from ..store import Vault

    vault = Vault.from_settings(actx.settings)
    with actx.engine.begin() as conn:
        added = add_destination(
            conn,
            vault,
            tenant_id=actx.tenant_id(),
            kind=kind,
            name=name,
            settings=settings,
            secret=secret,
            by=_BY,
        )
    row = added.row
    console.print(f"Added {kind} destination {row.id} “{row.name}” ({row.secret_hint}).", highlight=False)
    if added.generated_secret:
        console.print("Signing secret (shown only now; give it to the receiver to verify signatures):")
        console.print(added.generated_secret, highlight=False, markup=False, soft_wrap=True)
    console.print(f"Try it: usageledger destinations test {row.id}", highlight=False)


@destinations_app.command("list")
def list_command(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """List the destinations with their settings and secret hints (never the secrets)."""
    from ..store.destinations import list_destinations

    if fmt not in FORMATS:
        raise UsageError(f"--format is one of {', '.join(FORMATS)}, not {fmt!r}.")
    actx = app_context(ctx)
    with actx.engine.connect() as conn:
        rows = list_destinations(conn, actx.tenant_id())
    if not rows and fmt == "table":
        console.print(
            "No destinations yet: add one with `usageledger destinations add-email|add-slack|add-webhook`."
        )
        return
    records = [
        {
            "id": row.id,
            "name": row.name,
            "kind": row.kind,
            "target": _target(row.kind, row.config, row.secret_hint),
            "secret": row.secret_hint,
            "enabled": row.enabled,
            "created_by": row.created_by,
        }
        for row in rows
    ]
    render_records(records, fmt, title="Notification destinations")


def _target(kind: str, config: dict[str, Any], hint: str) -> str:
    if kind == "email":
        return (
            f"{', '.join(config['recipients'])} via {config['host']}:{config['port']} ({config['security']})"
        )
    if kind == "webhook":
        return str(config["url"])
    return hint


@destinations_app.command("add-email")
def add_email(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the destination, such as 'Finance email'.")],
    host: Annotated[str, typer.Option(help="The SMTP server.")],
    sender: Annotated[str, typer.Option("--from", help="The From address.")],
    to: Annotated[str, typer.Option("--to", help="Recipients, comma-separated.")],
    security: Annotated[str, typer.Option(help="starttls, ssl or none.")] = "starttls",
    port: Annotated[int | None, typer.Option(help="Default: 587 (starttls), 465 (ssl), 25 (none).")] = None,
    username: Annotated[str, typer.Option(help="Sign in as this user (its password is asked).")] = "",
    secret_stdin: SecretStdin = False,
) -> None:
    """Add an email destination (SMTP); the password is asked at a hidden prompt when a user is given."""
    password = _read_secret("SMTP password", secret_stdin) if username else ""
    settings = {"host": host, "port": port, "security": security, "username": username, "sender": sender,
                "recipients": to}  # fmt: skip
    _add(app_context(ctx), "email", name, settings, password)


@destinations_app.command("add-slack")
def add_slack(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the destination, such as '#finops'.")],
    secret_stdin: SecretStdin = False,
) -> None:
    """Add a Slack incoming webhook; its URL (the secret) is asked at a hidden prompt."""
    url = _read_secret("Slack webhook URL", secret_stdin)
    _add(app_context(ctx), "slack", name, {}, url)


@destinations_app.command("add-webhook")
def add_webhook(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the destination, such as 'PagerDuty bridge'.")],
    url: Annotated[str, typer.Option(help="Where the signed JSON is POSTed (https://).")],
    secret_stdin: SecretStdin = False,
) -> None:
    """Add a generic webhook signed with HMAC-SHA256 (Standard Webhooks); empty secret: one is generated."""
    secret = _read_secret("Signing secret", secret_stdin, optional=True)
    _add(app_context(ctx), "webhook", name, {"url": url}, secret)


@destinations_app.command("test")
def test_command(
    ctx: typer.Context,
    destination: Annotated[int, typer.Argument(help="The destination's id (see `destinations list`).")],
) -> None:
    """Send a test notification now and show each attempt; exits 5 when it could not be delivered."""
    from ..errors import UpstreamError
    from ..notify import dispatch, test_notice
    from ..store import Vault
    from ..store.destinations import get_destination

    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.connect() as conn:
        row = get_destination(conn, destination, tenant_id=tenant_id)
    link = (
        f"{actx.settings.public_url.rstrip('/')}/settings/destinations" if actx.settings.public_url else None
    )
    notice = test_notice(tenant_id, row.name, by=_BY, link=link)
    [outcome] = dispatch(actx.engine, Vault.from_settings(actx.settings), notice, destination_id=row.id)
    if not outcome.delivered:
        raise UpstreamError(
            f"The test to “{row.name}” failed after {outcome.attempts} attempt(s): {outcome.error} "
            "Check the destination's settings; the failure is in `usageledger events --kind delivery_failed`."
        )
    code = f" (response {outcome.response_code})" if outcome.response_code else ""
    console.print(f"Delivered to “{row.name}” in {outcome.attempts} attempt(s){code}.", highlight=False)


def _pause(ctx: typer.Context, destination: int, paused: bool) -> None:
    from ..notify import pause_destination

    actx = app_context(ctx)
    with actx.engine.begin() as conn:
        row = pause_destination(conn, destination, tenant_id=actx.tenant_id(), paused=paused, by=_BY)
    said = "paused: it gets no alerts until resumed" if paused else "resumed"
    console.print(f"Destination {row.id} “{row.name}” {said}.", highlight=False)


@destinations_app.command("pause")
def pause_command(
    ctx: typer.Context, destination: Annotated[int, typer.Argument(help="The destination's id.")]
) -> None:
    """Stop sending alerts to a destination, keeping its settings and secret."""
    _pause(ctx, destination, True)


@destinations_app.command("resume")
def resume_command(
    ctx: typer.Context, destination: Annotated[int, typer.Argument(help="The destination's id.")]
) -> None:
    """Send alerts to a paused destination again."""
    _pause(ctx, destination, False)


@destinations_app.command("delete")
def delete_command(
    ctx: typer.Context,
    destination: Annotated[int, typer.Argument(help="The destination's id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a destination and erase its secret; its delivery log is kept."""
    from ..notify import remove_destination
    from ..store import scrub_soon
    from ..store.destinations import get_destination

    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    if not yes:
        with actx.engine.connect() as conn:
            row = get_destination(conn, destination, tenant_id=tenant_id)
        typer.confirm(f"Delete destination “{row.name}” and erase its secret?", abort=True)
    with actx.engine.begin() as conn:
        gone = remove_destination(conn, destination, tenant_id=tenant_id, by=_BY)
    erased = scrub_soon(actx.settings, actx.engine)  # the secret's old bytes leave the database files
    console.print(f"Deleted destination {gone.id} “{gone.name}”; its secret is erased.", highlight=False)
    if not erased:
        console.print("A long database reader still holds its old bytes; the next command removes them.")
