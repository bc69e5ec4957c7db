"""`people`: the workspace's directory from the shell: import a CSV of people (preview, then --apply), list.

The import is the same as the web page's (`identity.csv_import`): a preview by default, `--apply` to write
in one transaction; a file with any bad line prints every one and exits 2 with nothing written. Identity
modules are imported inside the commands, so other commands do not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UsageError
from .app import app
from .context import app_context
from .render import console, err_console, render_records

if TYPE_CHECKING:
    from ..identity.csv_import import ImportPlan

__all__: list[str] = []

people_app = typer.Typer(help="People and teams of the workspace (SCIM or CSV).", no_args_is_help=True)
app.add_typer(people_app, name="people")

FORMATS = ("table", "json", "csv")


def _print_plan(plan: ImportPlan) -> None:
    rows = [
        {
            "line": p.line,
            "email": p.email,
            "change": p.action,
            "details": "; ".join(
                f"{what}: {before or '—'} → {after or '—'}" for what, before, after in p.changes
            ),
            "team": p.team_after or "",
        }
        for p in plan.people
        if p.action != "unchanged"
    ]
    if rows:
        render_records(rows, "table", title="Changes")
    s = plan.summary()
    console.print(
        f"{s['people_created']} to add, {s['people_updated']} to update, {s['people_unchanged']} unchanged; "
        f"{s['teams_created']} teams to add ({', '.join(plan.teams_to_create) or 'none'}); "
        f"{s['memberships_added']} memberships to add, {s['memberships_removed']} to remove; "
        f"{s['team_cost_centers_set']} team cost centers to set."
    )


@people_app.command("import")
def import_people(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CSV file with the header email,name,team,cost_center.")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the changes (default: only show them).")
    ] = False,
) -> None:
    """Preview (or with --apply, make) the changes a CSV of people brings; bad lines exit 2, nothing written."""
    from ..identity.csv_import import ImportRejected, apply_import, decode_csv, plan_import

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read {file}: {exc.strerror}.") from exc
    text = decode_csv(data)
    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    try:
        with actx.engine.begin() as conn:
            plan = (
                apply_import(conn, tenant_id, text, actor="operator (CLI)")
                if apply
                else plan_import(conn, tenant_id, text)
            )
            if not plan.ok:
                raise ImportRejected(plan)
    except ImportRejected as refused:
        for error in refused.plan.errors:
            where = f"line {error.line}" if error.line else "file"
            err_console.print(f"{file}:{where}: {error.message}", highlight=False, markup=False)
        raise
    _print_plan(plan)
    if not apply:
        console.print("Preview only: run again with --apply to write these changes." if plan.changes_anything
                      else "Nothing to change: the directory already matches the file.")  # fmt: skip
    else:
        console.print(
            "Applied."
            if plan.changes_anything
            else "Nothing to change: the directory already matches the file."
        )


@people_app.command("list")
def list_people_command(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """List the workspace's people: name, email, team, cost center and where they came from."""
    from ..store.people import all_people
    from ..store.teams import team_names_by_person

    if format not in FORMATS:
        raise UsageError(f"--format is one of {', '.join(FORMATS)}, not {format!r}.")
    actx = app_context(ctx)
    tenant_id = actx.tenant_id()
    with actx.engine.connect() as conn:
        everyone = all_people(conn, tenant_id)
        teams_of = team_names_by_person(conn, tenant_id)
    records = [
        {
            "name": p.fields.display_name
            or " ".join(filter(None, (p.fields.given_name, p.fields.family_name))),
            "email": p.fields.email or p.fields.user_name,
            "team": ", ".join(teams_of.get(p.id, [])),
            "cost_center": p.fields.cost_center or "",
            "source": p.source,
            "active": p.fields.active,
        }
        for p in everyone
    ]
    if not records and format == "table":
        console.print(
            "No people yet: import a CSV with `usageledger people import FILE --apply`, or set up SCIM."
        )
        return
    render_records(records, format, title="People")
