"""Pydantic shapes of the JSON API (they document /docs; the values come from the shared read models)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "AccessTokenOut",
    "ConnectIn",
    "ConnectionOut",
    "ConnectionsOut",
    "CostOut",
    "ErrorOut",
    "EventOut",
    "EventsOut",
    "MeOut",
    "NewAccessTokenOut",
    "SyncRunOut",
    "SyncRunsOut",
    "SyncStartedOut",
    "TokenIn",
    "TokensOut",
    "UsageOut",
    "UserIn",
    "UserOut",
    "UserRoleIn",
    "UsersOut",
]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    type: str = Field(
        description="Stable machine-readable type, e.g. not_found, credential_error, forbidden."
    )
    message: str = Field(description="What went wrong and what to do next.")


class ErrorOut(BaseModel):
    error: ErrorBody


class MeOut(_Out):
    id: int
    tenant_id: int
    email: str
    role: str


class ConnectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str = Field("anthropic", pattern="^anthropic$", description="Only 'anthropic' for now.")
    admin_key: SecretStr = Field(
        min_length=1,
        max_length=500,
        description="An Anthropic Admin API key (sk-ant-admin…). Never echoed back.",
    )
    name: str | None = Field(None, max_length=200, description="Defaults to the organization's name.")
    sync: bool = Field(True, description="Start the initial sync in the background.")


class ConnectionOut(_Out):
    """The status read model (`usageledger status --json`) of one connection."""

    id: int
    name: str
    provider: str
    organization_id: str | None = None
    organization_name: str | None = None
    state: str = Field(description="connected | syncing | error | disconnected")
    source: str | None = Field(None, description="analytics | classic (fallback)")
    key_hint: str | None = Field(None, description="A masked hint of the stored key; never the key.")
    has_credential: bool
    sync_running: bool
    last_sync_status: str | None = None
    last_sync_started_at: dt.datetime | None = None
    last_sync_finished_at: dt.datetime | None = None
    last_sync_succeeded_at: dt.datetime | None = None
    last_error: str | None = None
    data_refreshed_at: dt.datetime | None = None
    directory_read_at: dt.datetime | None = Field(
        None, description="When a sync last read the workspaces, API keys, users and memberships."
    )
    rows_stored: int = 0
    cost_rows_stored: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    cursor_date: dt.date | None = None


class ConnectionsOut(BaseModel):
    connections: list[ConnectionOut]


class SyncRunOut(_Out):
    id: int
    connection_id: int
    trigger: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    range_start: dt.date | None = None
    range_end: dt.date | None = None
    days_total: int
    days_done: int
    api_calls: int
    usage_rows: int
    cost_rows: int
    rows_revised: int
    error: str | None = None


class SyncRunsOut(BaseModel):
    running: bool = Field(description="A sync of this connection is running in this server now.")
    runs: list[SyncRunOut]


class SyncStartedOut(BaseModel):
    connection_id: int
    started: bool
    runs_url: str


class EventOut(_Out):
    id: int
    connection_id: int | None = None
    created_at: dt.datetime
    kind: str
    level: str
    message: str
    request_id: str | None = None
    details: dict[str, Any] | None = None


class EventsOut(BaseModel):
    events: list[EventOut]


class UsageOut(BaseModel):
    rows: list[dict[str, Any]] = Field(
        description="One object per group: the CLI's JSON keys, names beside ids."
    )
    totals: dict[str, Any] = Field(description="Sums over every row of the query, not just this page.")
    total_rows: int = Field(description="Rows of the whole query, over every page.")
    limit: int = Field(description="Rows per page.")
    offset: int = Field(0, description="Rows before this page.")
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` (same query) for the next page; null on the last page."
    )


class CostOut(UsageOut):
    pass


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class AccessTokenOut(_Out):
    id: int
    user_id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None


class NewAccessTokenOut(AccessTokenOut):
    token: str = Field(description="The secret: shown only in this response, stored only as a hash.")


class TokensOut(BaseModel):
    tokens: list[AccessTokenOut]


class UserOut(_Out):
    id: int
    email: str
    role: str
    created_at: dt.datetime


class UsersOut(BaseModel):
    users: list[UserOut]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320, description="Their sign-in name; unique.")
    password: SecretStr = Field(
        min_length=10, max_length=1000, description="At least 10 characters; stored as an argon2 hash."
    )
    role: Literal["admin", "member"] = "member"


class UserRoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "member"] = Field(
        description="The new role; the user's sessions and access tokens end at once."
    )
