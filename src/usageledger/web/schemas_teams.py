"""Pydantic shapes of the teams endpoints (`GET /api/v1/teams`, `PUT /api/v1/teams/{id}`)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from usageledger.store.teams import MAX_COST_CENTER

__all__ = ["TeamIn", "TeamOut", "TeamsOut"]


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cost_center: str | None = Field(
        max_length=MAX_COST_CENTER,
        description="The team's cost center; null or blank clears it. Allocation by cost center charges it "
        "with the spend the team owns and its members' spend when they have no cost center of their own.",
    )


class TeamOut(BaseModel):
    id: int
    name: str
    external_id: str | None
    cost_center: str | None
    source: str = Field(description="scim, csv or manual")
    members: int
    updated_at: dt.datetime


class TeamsOut(BaseModel):
    teams: list[TeamOut]
