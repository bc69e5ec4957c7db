"""Pydantic shapes of the allocation, owner and application endpoints (values from the shared read models)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AllocationOut",
    "AllocationRowOut",
    "ApplicationIn",
    "ApplicationOut",
    "ApplicationPatch",
    "ApplicationsOut",
    "OwnerIn",
    "OwnerOut",
    "ResourceIO",
]


class _PeriodOut(BaseModel):
    key: str
    label: str
    since: str
    until: str


class AllocationRowOut(BaseModel):
    key: str = Field(description="Team id, cost center, person id, application id or product; "
                                 "`unallocated:<reason>` for Unallocated rows")  # fmt: skip
    label: str
    amount_usd: str = Field(description="Rounded to the cent so the rows add up to total_usd")
    exact_amount_usd: str = Field(description="Exact, to 1e-8 USD")
    list_amount_usd: str
    share_pct: str
    unallocated: bool
    reason: str | None = Field(description="Why the row is Unallocated (no owner, deleted user, …)")


class AllocationOut(BaseModel):
    by: Literal["team", "cost_center", "person", "application", "product"]
    period: _PeriodOut
    organization: str | None
    total_usd: str = Field(description="The organization's reported cost for the period, to the cent")
    exact_total_usd: str
    list_total_usd: str
    allocated_usd: str
    unallocated_usd: str
    balanced: bool = Field(description="The rows' exact amounts add up to the reported total")
    imbalance_note: str | None
    rows: list[AllocationRowOut]


class OwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: int | None = Field(default=None, ge=1, description="A person of your directory; or team_id")
    team_id: int | None = Field(default=None, ge=1, description="A team of your directory; or person_id")


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    subject_type: str
    subject_id: str
    person_id: int | None
    team_id: int | None
    set_by_user_id: int | None
    set_at: dt.datetime


class ResourceIO(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject_type: Literal["api_key", "workspace"]
    subject_id: str = Field(
        max_length=200, description="The API key's or workspace's id ('' the default workspace)"
    )


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    team_id: int | None = Field(default=None, ge=1)
    resources: list[ResourceIO] = Field(default_factory=list, max_length=1000)


class ApplicationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    team_id: int | None = Field(
        default=None, ge=1, description="Set the team; null with clear_team to remove"
    )
    clear_team: bool = False
    resources: list[ResourceIO] | None = Field(default=None, max_length=1000,
                                               description="Replaces every resource when given")  # fmt: skip


class ApplicationOut(BaseModel):
    id: int
    name: str
    team_id: int | None
    resources: list[ResourceIO]
    created_at: dt.datetime


class ApplicationsOut(BaseModel):
    applications: list[ApplicationOut]
