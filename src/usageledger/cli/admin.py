"""`admin`: the operator's commands for usageledger users (the people who sign in to the web app).

The operator has the server's shell, so these act on any workspace and find users by email. Passwords
come from a hidden prompt or standard input, never from an argument (arguments land in shell history
and `ps`). Heavy modules (argon2, the store's account code) are imported inside the commands, so
`usageledger --help` stays fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..errors import UsageError
from .app import app
from .context import app_context
from .render import console, render_records

__all__: list[str] = []

admin_app = typer.Typer(help="Manage usageledger users.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")

FORMATS = ("table", "json", "csv")
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (one line).")
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin was given but standard input was empty; pipe the password in.")
        return password
    if not sys.stdin.isatty():
        raise UsageError("No password: run in a terminal to be prompted, or pipe it with --password-stdin.")
    return str(typer.prompt("Password (input hidden)", hide_input=True, confirmation_prompt=True))


@admin_app.command("create-user")
def create_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email (their sign-in name).")],
    role: Annotated[str, typer.Option(help="admin or member.")] = "member",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user in this usageledger workspace; the password is asked at a hidden prompt."""
    from ..store import accounts

    if role not in accounts.ROLES:
        raise UsageError(f"--role is admin or member, not {role!r}.")
    password = _read_password(password_stdin)
    actx = app_context(ctx)
    with actx.engine.begin() as conn:
        user_id = accounts.create_user(conn, actx.tenant_id(), email, password, role)
    console.print(f"Created {role} {email} (user id {user_id}).")


@admin_app.command("list-users")
def list_users(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """List the users of every workspace, with their roles."""
    from ..store import accounts

    if fmt not in FORMATS:
        raise UsageError(f"--format is one of {', '.join(FORMATS)}, not {fmt!r}.")
    actx = app_context(ctx)
    with actx.engine.connect() as conn:
        names = {}
        records = []
        for user in accounts.list_users(conn, None):
            if user.tenant_id not in names:
                names[user.tenant_id] = accounts.get_tenant(conn, user.tenant_id).name
            records.append({"id": user.id, "email": user.email, "role": user.role,
                            "workspace": names[user.tenant_id],
                            "created_at": user.created_at.isoformat()})  # fmt: skip
    render_records(records, fmt, title="usageledger users")


@admin_app.command("set-password")
def set_password(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password (a reset); every web session of theirs ends at once."""
    from ..store import accounts, user_admin

    password = _read_password(password_stdin)
    actx = app_context(ctx)
    with actx.engine.begin() as conn:
        user = accounts.get_user_by_email(conn, email)
        ended = user_admin.set_password(conn, user.id, password)
    console.print(f"Password of {user.email} changed; {ended} web session(s) ended.")


@admin_app.command("set-role")
def set_role(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email.")],
    role: Annotated[str, typer.Argument(help="admin or member.")],
) -> None:
    """Make a user admin or member; their web sessions and access tokens end at once."""
    from ..store import accounts, user_admin

    actx = app_context(ctx)
    with actx.engine.begin() as conn:
        user = user_admin.set_role(conn, accounts.get_user_by_email(conn, email).id, role)
    console.print(f"{user.email} is {user.role}; their web sessions and access tokens have ended.")


@admin_app.command("remove-user")
def remove_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a user with their web sessions and access tokens (never a workspace's last admin)."""
    from ..store import accounts, user_admin

    actx = app_context(ctx)
    with actx.engine.connect() as conn:
        user = accounts.get_user_by_email(conn, email)
    if not yes:
        typer.confirm(f"Remove {user.role} {user.email} and revoke their access tokens now?", abort=True)
    with actx.engine.begin() as conn:
        user_admin.remove_user(conn, user.id)
    console.print(f"Removed {user.email}; their web sessions and access tokens have ended.")
