"""What every command needs: settings built once, a migrated engine, the CLI's tenant."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer
from sqlalchemy.engine import Engine

from .. import store
from ..config import Settings
from ..store import create_engine_for, migrate

__all__ = ["AppContext", "app_context"]


@dataclass
class AppContext:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine_for(self.settings)
            migrate(self._engine)
            store.resume_pending_scrub(self.settings, self._engine)  # a disconnect's, held up by a reader
        return self._engine

    def tenant_id(self) -> int:
        """The CLI acts for the first usageledger workspace (created on first use)."""
        with self.engine.begin() as conn:
            return store.ensure_default_tenant(conn)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext `main()` handed to the command (the context's `obj`)."""
    return ctx.ensure_object(AppContext)
