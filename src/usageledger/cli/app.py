"""The `usageledger` command: connection commands here; queries and the demo in their own modules."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from .. import store
from ..errors import NotFoundError, UsageError
from .context import AppContext, app_context
from .dates import day_range
from .render import console, err_console, sync_progress

if TYPE_CHECKING:
    from ..sync.engine import SyncSummary

__all__ = ["app"]

# `usageledger.sync` brings the Anthropic SDK (about a second to import) and httpx. Only the commands
# that talk to the Admin API import it, inside the command, so `status`, `usage` and `cost` start fast.

app = typer.Typer(
    name="usageledger",
    help="See where your Anthropic organization's tokens and dollars go.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
connect_app = typer.Typer(help="Connect a provider organization.", no_args_is_help=True)
app.add_typer(connect_app, name="connect")

KEY_ENV = "ANTHROPIC_ADMIN_KEY"


def read_admin_key(key_stdin: bool) -> str:
    """From stdin (--key-stdin), the environment, or a hidden prompt; never from an argument."""
    if key_stdin:
        key = sys.stdin.readline().strip()
        if not key:
            raise UsageError("--key-stdin was given but standard input was empty; pipe the key in.")
        return key
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    if not sys.stdin.isatty():
        raise UsageError(
            f"No admin key: run in a terminal to be prompted, pipe it with --key-stdin, or set {KEY_ENV}."
        )
    return str(typer.prompt("Anthropic Admin API key (input hidden)", hide_input=True))


def print_summary(summary: SyncSummary) -> None:
    console.print(
        f"Synced connection {summary.connection_id} ({summary.source}): {summary.days} days, "
        f"{summary.usage_rows:,} usage rows, {summary.cost_rows:,} cost rows, {summary.revised:,} revised, "
        f"{summary.api_calls:,} API calls, {summary.seconds:.1f} s."
    )


def sync_with_progress(actx: AppContext, connection_id: int, **kwargs: object) -> SyncSummary:
    from ..alerting import after_sync_hook
    from ..sync import run_sync

    with sync_progress(f"Syncing connection {connection_id}") as progress:
        summary = run_sync(actx.settings, actx.engine, connection_id, progress=progress, **kwargs)  # type: ignore[arg-type]
    after_sync_hook(actx.settings)(actx.engine, connection_id)  # budgets' alerts, once per crossing
    print_summary(summary)
    return summary


@connect_app.command("anthropic")
def connect_anthropic_command(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option(help="A name for this connection (default: the organization's).")
    ] = None,
    key_stdin: Annotated[
        bool, typer.Option("--key-stdin", help="Read the admin key from standard input.")
    ] = False,
    no_sync: Annotated[
        bool, typer.Option("--no-sync", help="Store the connection without the first sync.")
    ] = False,
    backfill_days: Annotated[
        int | None,
        typer.Option(min=1, max=365, help="How many days the first sync reaches back (default 365)."),
    ] = None,
) -> None:
    """Verify an Anthropic Admin API key, store it encrypted and run the first sync."""
    from ..sync import connect_anthropic

    actx = app_context(ctx)
    key = read_admin_key(key_stdin)
    result = connect_anthropic(
        actx.settings, actx.engine, tenant_id=actx.tenant_id(), admin_key=key, name=name
    )
    del key
    console.print(
        f"Connected to [bold]{result.organization.name}[/bold] ({result.organization.id}) "
        f"using the {result.source} endpoints. Connection id: [bold]{result.connection_id}[/bold]"
    )
    if result.fell_back:
        err_console.print(
            "[yellow]The analytics endpoints refused this key; using the classic reports.[/yellow]"
        )
    if not no_sync:
        if backfill_days is not None:
            actx.settings = actx.settings.model_copy(update={"backfill_days": backfill_days})
        sync_with_progress(actx, result.connection_id, trigger="connect")
    print(result.connection_id)


@app.command()
def sync(
    ctx: typer.Context,
    connection: Annotated[
        int | None, typer.Argument(help="Connection id (default: every connection).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Re-fetch from this day (YYYY-MM-DD, inclusive).")] = None,
    until: Annotated[
        str | None, typer.Option(help="Re-fetch up to this day (YYYY-MM-DD, inclusive).")
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="Re-fetch a named period (e.g. last-month, 7d) or a month YYYY-MM; not with --since/--until."
        ),
    ] = None,
) -> None:
    """Fetch new and revised usage (incremental), or re-fetch a range with --since/--until or --period."""
    first, last = day_range(period, since, until)
    actx = app_context(ctx)
    with actx.engine.connect() as conn:
        if connection is not None:
            ids = [store.get_connection(conn, connection, actx.tenant_id()).id]
        else:
            ids = [c.id for c in store.list_connections(conn, actx.tenant_id()) if c.state != "disconnected"]
    if not ids:
        raise NotFoundError("No connection to sync. Connect one with `usageledger connect anthropic`.")
    for connection_id in ids:
        sync_with_progress(actx, connection_id, since=first, until=last)


@app.command("disconnect")
def disconnect_command(
    ctx: typer.Context,
    connection: Annotated[int, typer.Argument(help="Connection id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete the synced usage and cost.")] = False,
) -> None:
    """Delete the stored key at once; keep the synced usage unless --purge."""
    from ..sync import disconnect

    actx = app_context(ctx)
    with actx.engine.connect() as conn:
        row = store.get_connection(conn, connection, actx.tenant_id())
    if not yes:
        what = "and ALL its synced usage " if purge else ""
        typer.confirm(f"Delete the stored key of '{row.name}' {what}now?", abort=True)
    disconnect(actx.settings, actx.engine, connection, tenant_id=actx.tenant_id(), purge=purge)
    console.print(
        f"Disconnected '{row.name}': the stored key is deleted"
        + (" and its usage purged." if purge else "; its usage is kept.")
    )
    console.print(
        "[yellow]Reminder:[/yellow] revoke the key in the Anthropic Console (Settings → Admin keys) "
        "to remove provider-side access too."
    )


@app.command("rotate-key")
def rotate_key(ctx: typer.Context) -> None:
    """Re-seal every stored admin key with the newest key-encryption key.

    Put the new key first in USAGELEDGER_SECRET_KEY (comma-separated, newest first), run this, then drop
    the old key from the list.
    """
    from ..store.destinations import rotate_destination_secrets

    actx = app_context(ctx)
    vault = store.Vault.from_settings(actx.settings)
    with actx.engine.begin() as conn:
        changed = store.rotate_credentials(conn, vault)
        changed += rotate_destination_secrets(conn, vault)  # notification destinations' secrets too
    store.checkpoint(actx.engine)
    console.print(f"Re-sealed {changed} stored key(s) and secret(s) with key-encryption key {vault.kek_id}.")
