"""The command-line interface: thin Typer commands over sync, reports and store.

Importing this package is cheap: `main()` first raises the collector's thresholds, then imports the
commands (Typer, Rich, SQLAlchemy and the store), so the collector does not run every few hundred objects
while those modules build their classes (measured: ~10% of a query command's start). `app`, the Typer
application with every command registered, is loaded on first use as well.
"""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]

# A sync allocates millions of short-lived, acyclic objects (a few per row). With the default gen-0
# threshold of 700 the cyclic collector runs every few rows and rescans what survived; measured on a
# backfill it cost a third of the sync's time. A larger threshold keeps collections rare but bounded.
_GC_THRESHOLDS = (50_000, 20, 100)
# A sync's insert thread (store.insert_thread) needs the GIL back after every statement SQLite ran without
# it, while the writing thread computes: at the default 5 ms between hand-overs the inserts queued behind
# the writer. Measured on a large organization's year: 75.7 s of writing at 5 ms, 71.3 s at 1 ms.
_SWITCH_INTERVAL_SECONDS = 0.001


def _commands() -> typer.Typer:
    """The Typer app with every command registered (importing a command module registers its commands)."""
    from . import admin, allocate, budgets, close, demo, destinations, export, people, queries, today, worker  # noqa: F401  (they register their commands on `app`)
    from .app import app

    globals()["app"] = app  # the package's `app` is the Typer app, not the `app.py` module it lives in
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    """Run one command; our errors become a message and their exit code, never a traceback."""
    gc.set_threshold(*_GC_THRESHOLDS)
    sys.setswitchinterval(_SWITCH_INTERVAL_SECONDS)
    import typer
    from rich.markup import escape

    from ..config import Settings
    from ..errors import ConfigError, UsageLedgerError
    from ..store.engine import DATABASE_UNAVAILABLE_ERRORS, database_unavailable
    from .context import AppContext
    from .render import err_console

    app = _commands()
    gc.freeze()  # what the imports built lives as long as the process: never rescan it
    try:
        settings = Settings()
    except ConfigError as exc:  # names the variable; prints no secret
        err_console.print(f"[red]Error:[/red] {escape(exc.message)}", highlight=False)
        return exc.exit_code
    actx = AppContext(settings)
    command = typer.main.get_command(app)
    try:
        # Standalone mode handles the parser's own errors (exit 2), --help and aborted prompts.
        command.main(args=argv, prog_name="usageledger", obj=actx, standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except UsageLedgerError as exc:
        err_console.print(f"[red]Error:[/red] {exc.message}", highlight=False)
        return exc.exit_code
    except DATABASE_UNAVAILABLE_ERRORS as exc:  # down, full, read-only or gone: say so, not a traceback
        error = database_unavailable(exc)
        err_console.print(f"[red]Error:[/red] {escape(error.message)}", highlight=False)
        return error.exit_code
    except KeyboardInterrupt:
        err_console.print("Interrupted; whatever was committed is kept and the next sync resumes from it.")
        return 130
    finally:
        actx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
