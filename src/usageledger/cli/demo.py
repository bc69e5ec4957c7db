"""`demo`, `fake-anthropic` and `serve`: the offline demo and the long-running commands."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..private_files import make_private_dir
from ..reports.usage import UsageQuery, query_cost, query_usage
from .app import app, sync_with_progress
from .budgets import seed_demo_budget
from .context import AppContext, app_context
from .queries import print_report
from .render import console
from .worker import serve_with_job_queue

if TYPE_CHECKING:
    from ..fake import FakeOrganization

__all__: list[str] = []

DEMO_SEED = 7
DEMO_ROWS_PER_DAY = 150
DEMO_ADMIN_EMAIL = "admin@demo.example"
SECOND_ORG_NAME = "Globex Fake Labs"
SECOND_DEMO_KEY = (
    "sk-ant-admin01-fake-demo-key-second-org-000000000000"  # a fake key, served by the fake only
)


@app.command("fake-anthropic")
def fake_anthropic(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    seed: Annotated[int, typer.Option(help="Seed of the generated organization.")] = DEMO_SEED,
    rows_per_day: Annotated[int, typer.Option(help="Dimension combinations a day.")] = DEMO_ROWS_PER_DAY,
    rbac_groups: Annotated[
        bool,
        typer.Option(help="Serve RBAC groups like a Claude Enterprise organization (else they answer 403)."),
    ] = False,
    latency_ms: Annotated[
        int,
        typer.Option(
            min=0,
            help="Answer every request this many milliseconds after it arrived (the page built within).",
        ),
    ] = 0,
    max_in_flight: Annotated[
        int | None,
        typer.Option(min=1, help="Answer at most this many requests at once; 429 with retry-after above it."),
    ] = None,
) -> None:
    """Serve the fake Anthropic Admin API alone on loopback, for trying things by hand."""
    from ..fake import FAKE_ADMIN_KEY, serve_forever

    console.print(f"Fake Anthropic Admin API on http://127.0.0.1:{port} — admin key: {FAKE_ADMIN_KEY}")
    console.print(f"Point usageledger at it: USAGELEDGER_ANTHROPIC_BASE_URL=http://127.0.0.1:{port}")
    serve_forever(
        "127.0.0.1",
        port,
        seed,
        rows_per_day,
        rbac_groups=rbac_groups,
        latency=latency_ms / 1000,
        max_in_flight=max_in_flight,
    )


@app.command()
def demo(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Open the web app afterwards.")] = True,
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8000,
) -> None:
    """The whole journey offline: fake organization, connect, backfill, summary, then the web app."""
    from ..fake import FAKE_ADMIN_KEY, FakeOrganization, FakeOrganizations, serve_in_thread
    from ..fake.directory import people_csv
    from ..sync import connect_anthropic

    actx = app_context(ctx)
    home = actx.settings.home / "demo"
    if home.exists():
        shutil.rmtree(home)  # the demo always starts from a fresh organization and database
    make_private_dir(home)
    fake = FakeOrganization(seed=DEMO_SEED, rows_per_day=DEMO_ROWS_PER_DAY)
    # A second organization behind the same fake API, for trying the connect flow in the browser.
    second = FakeOrganization(
        seed=DEMO_SEED + 1,
        rows_per_day=DEMO_ROWS_PER_DAY // 2,
        name=SECOND_ORG_NAME,
        admin_key=SECOND_DEMO_KEY,
    )
    with serve_in_thread(FakeOrganizations(fake, second)) as running:
        actx.settings = actx.settings.model_copy(
            update={"home": home, "database_url": None, "anthropic_base_url": running.url}
        )
        console.print(
            f"Fake Anthropic Admin API serving [bold]{fake.organization.name}[/bold] at {running.url}"
        )
        result = connect_anthropic(
            actx.settings, actx.engine, tenant_id=actx.tenant_id(), admin_key=FAKE_ADMIN_KEY
        )
        console.print(
            f"Connected (connection id {result.connection_id}, {result.source} endpoints). Backfilling…"
        )
        sync_with_progress(actx, result.connection_id, trigger="connect")
        _import_people(actx, people_csv(fake.users))
        _assign_owners(actx, fake)
        seed_demo_budget(actx, fake.organization.id)  # so Budgets, Alerts and the overview's card have one
        with actx.engine.connect() as conn:
            report = query_usage(conn, UsageQuery(tenant_id=actx.tenant_id(), group_by=("month", "model")))
            costs = query_cost(conn, UsageQuery(tenant_id=actx.tenant_id(), group_by=("month",)))
            from ..reports.today_by_hour import today_by_hour  # only the demo needs it: keep it off start-up

            hours = today_by_hour(conn, actx.tenant_id(), dt.datetime.now(dt.UTC))
        print_report("usage", report, ("month", "model"))
        print_report("cost", costs, ("month",))
        busiest = max(hours.hours, key=lambda h: h.amount)
        console.print(
            f"Today so far (UTC, by hour): ${hours.total:,.2f}; busiest hour {busiest.hour:%H}:00 "
            f"(${busiest.amount:,.2f}). `usageledger today` lists every hour.",
            markup=False,
            highlight=False,
        )
        console.print(f"Database: {actx.settings.resolved_database_url()}", markup=False, highlight=False)
        # The demo keeps its data apart from the user's own (it is wiped on every run), so other
        # commands find it only when pointed at its home; say exactly how.
        console.print(
            f"To query the demo from another terminal (status, usage, cost), first run:\n"
            f"  {demo_env_line(home)}",
            markup=False,
            highlight=False,
        )
        if serve:
            _serve_demo(actx, port)
        else:
            console.print("Then `usageledger serve` browses it.", markup=False, highlight=False)


def _import_people(actx: AppContext, csv_text: str) -> None:
    """The people and teams of the demo organization, as a company imports them from its identity provider
    (the same import as `usageledger people import`), so allocation has owners to put spend on."""
    from ..identity.csv_import import apply_import

    with actx.engine.begin() as conn:
        plan = apply_import(conn, actx.tenant_id(), csv_text, actor="usageledger demo")
    s = plan.summary()
    console.print(
        f"Imported {s['people_created']} people in {s['teams_created']} teams from the demo organization's "
        "identity provider (CSV).",
        markup=False,
        highlight=False,
    )


def _assign_owners(actx: AppContext, fake: FakeOrganization) -> None:
    """What an admin sets next on the Unallocated page: the organization's service accounts (its batch
    pipelines) and the Production workspace belong to the first admin (the Platform team's lead), and
    Production runs as an application of that team. What stays Unallocated is small, each reason still there."""
    from ..fake.directory import PLATFORM_TEAM
    from ..reports.allocation import allocate
    from ..reports.periods import resolve_period
    from ..store.ownership import Editor, create_application, set_owner
    from ..store.people import all_people
    from ..store.teams import all_teams

    tenant, editor = actx.tenant_id(), Editor(None, "usageledger demo")
    lead = next(str(u["email"]) for u in fake.users if u["role"] == "admin")
    production = next(w.id for w in fake.directory.workspaces if w.name == "Production")
    with actx.engine.begin() as conn:
        owner = next(p.id for p in all_people(conn, tenant) if p.fields.email == lead)
        platform = next(t.id for t in all_teams(conn, tenant) if t.fields.display_name == PLATFORM_TEAM)
        for subject in [("service_account", a) for a in fake.holders.service_account_ids] + [
            ("workspace", production)
        ]:
            set_owner(conn, tenant, *subject, person_id=owner, editor=editor)
        create_application(conn, tenant, "Production API", team_id=platform,
                           resources=[("workspace", production)], editor=editor)  # fmt: skip
        month = allocate(
            conn,
            tenant,
            "team",
            resolve_period("this-month", None, None, today=dt.datetime.now(dt.UTC).date()),
        )
    share = month.unallocated_microcents / month.total_microcents if month.total_microcents else 0
    console.print(
        f"This month: {month.total_usd:,} USD on {sum(not r.unallocated for r in month.rows)} teams; "
        f"Unallocated {Decimal(month.unallocated_microcents).scaleb(-8):,.2f} USD ({share:.1%}), each with its "
        "reason. `usageledger allocate --by team` shows it.",
        markup=False,
        highlight=False,
    )


def demo_env_line(home: Path) -> str:
    """The shell line that points other commands at the demo's data (and off any database URL)."""
    line = f"export USAGELEDGER_HOME={shlex.quote(str(home))}"
    if os.environ.get("USAGELEDGER_DATABASE_URL"):
        line += "; unset USAGELEDGER_DATABASE_URL"
    return line


def _serve_demo(actx: AppContext, port: int) -> None:
    from ..store import accounts

    password = os.environ.get("USAGELEDGER_DEMO_PASSWORD", "demo-password-123")
    with actx.engine.begin() as conn:
        accounts.create_user(conn, actx.tenant_id(), DEMO_ADMIN_EMAIL, password, "admin")
    # markup and highlighting off: Rich would colour the digits of a password (or read `[` as markup).
    console.print(
        f"Web app: http://127.0.0.1:{port} — sign in as {DEMO_ADMIN_EMAIL} with password {password} "
        "(Ctrl-C stops).",
        markup=False,
        highlight=False,
    )
    console.print(
        f"To try the connect flow, open Integrations → Anthropic → Connect and paste the second demo "
        f"organization's (fake) Admin key: {SECOND_DEMO_KEY}",
        markup=False,
        highlight=False,
    )
    _run_web(actx, "127.0.0.1", port)


def _run_web(actx: AppContext, host: str, port: int) -> None:
    import uvicorn

    from ..web import create_app

    app = create_app(actx.settings, actx.engine)
    syncs = app.state.services.syncs
    stop_queue = serve_with_job_queue(actx, syncs)  # PostgreSQL: the workers sync; None on SQLite
    if stop_queue is None:
        syncs.schedule(actx.settings.sync_interval_hours * 3600)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        syncs.stop()
        if stop_queue is not None:
            stop_queue()


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address (default USAGELEDGER_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default USAGELEDGER_PORT, 8000).")] = None,
) -> None:
    """Serve the web app and the JSON API."""
    actx = app_context(ctx)
    console.print(f"usageledger on http://{host or actx.settings.host}:{port or actx.settings.port}")
    _run_web(actx, host or actx.settings.host, port or actx.settings.port)
