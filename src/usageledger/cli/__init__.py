"""The command-line interface: thin Typer commands over sync, reports and store."""

from __future__ import annotations

import gc
import sys

import typer
from pydantic import ValidationError

from ..config import Settings
from ..errors import UsageLedgerError
from . import admin, demo, people, queries  # noqa: F401  (they register their commands on `app`)
from .app import app
from .context import AppContext
from .render import err_console

__all__ = ["app", "main"]

# A sync allocates millions of short-lived, acyclic objects (a few per row). With the default gen-0
# threshold of 700 the cyclic collector runs every few rows and rescans what survived; measured on a
# backfill it cost a third of the sync's time. A larger threshold keeps collections rare but bounded.
_GC_THRESHOLDS = (50_000, 20, 100)


def main(argv: list[str] | None = None) -> int:
    """Run one command; our errors become a message and their exit code, never a traceback."""
    gc.freeze()  # what the imports built lives as long as the process: never rescan it
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        settings = Settings()
    except ValidationError as exc:
        err_console.print(f"[red]Error:[/red] a USAGELEDGER_ setting is invalid: {exc.errors()[0]['msg']}")
        return 2
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
    except KeyboardInterrupt:
        err_console.print("Interrupted; whatever was committed is kept and the next sync resumes from it.")
        return 130
    finally:
        actx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
