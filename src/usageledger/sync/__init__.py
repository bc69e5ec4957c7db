"""The only place where the Anthropic client and the store meet: planner, engine, connect, background runs."""

from .background import BackgroundSyncs
from .connect import ConnectResult, connect_anthropic, disconnect, probe_source
from .directory_refresh import SCHEDULED_TRIGGER
from .engine import SyncSummary, run_sync
from .planner import API_EARLIEST_DAY, earliest_allowed_day, plan_range, plan_windows

__all__ = [
    "API_EARLIEST_DAY",
    "SCHEDULED_TRIGGER",
    "BackgroundSyncs",
    "ConnectResult",
    "SyncSummary",
    "connect_anthropic",
    "disconnect",
    "earliest_allowed_day",
    "plan_range",
    "plan_windows",
    "probe_source",
    "run_sync",
]
