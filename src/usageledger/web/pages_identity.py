"""Identity settings (admins): the SCIM endpoint and its tokens, the CSV import, people and teams."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
