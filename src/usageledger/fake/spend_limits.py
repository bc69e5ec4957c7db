"""`GET /v1/organizations/spend_limits` of the fake, shaped as the SDK's `BetaSpendLimit` (a PageCursor list).

A Claude Console organization's limits, newest first: its organization limit, its read-only usage-tier cap
and limits on two workspaces (one with no numeric cap: `amount: null`). `mode` chooses how the endpoint
answers: `console` (the list), `forbidden` (403, a key that may not read them) or `unsupported`
(400 `organization_type_not_supported`, as outside the early-access preview). Without the beta header
`spend-limit-reads-2026-09-26` it answers 400, as the API does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .listing import _cursor_page
from .params import ApiError, QueryParams, invalid, rfc3339

if TYPE_CHECKING:
    from .directory import FakeWorkspace
    from .generator import FakeOrganization

__all__ = [
    "SPEND_LIMITS_BETA",
    "SPEND_LIMIT_MODES",
    "FakeSpendLimits",
    "build_spend_limits",
    "list_spend_limits",
]

SPEND_LIMITS_BETA = "spend-limit-reads-2026-09-26"
SPEND_LIMIT_MODES = ("console", "forbidden", "unsupported")
_CONSOLE_SCOPES = frozenset({"organization", "workspace", "usage_tier"})


@dataclass
class FakeSpendLimits:
    mode: str = "console"
    limits: list[dict[str, Any]] = field(default_factory=list)  # newest first, as the API lists them


def _limit(limit_id: str, scope: dict[str, Any], amount: str | None, moment: dt.datetime) -> dict[str, Any]:
    return {
        "id": limit_id, "type": "spend_limit", "amount": amount, "currency": "USD",
        "is_enabled": True, "period": "monthly", "scope": scope,
        "created_at": rfc3339(moment), "updated_at": rfc3339(moment),
    }  # fmt: skip


def build_spend_limits(created: dt.datetime, workspaces: list[FakeWorkspace]) -> FakeSpendLimits:
    """The organization's $50,000 limit, the usage tier's $200,000 cap, $20,000 and no cap on two workspaces."""
    live = [w for w in workspaces if w.archived_at is None and not w.is_default]
    limits = [
        _limit(
            "spl_01FakeOrganization0000000",
            {"type": "organization"},
            "5000000",
            created + dt.timedelta(days=400),
        ),
        _limit("spl_01FakeUsageTier000000000", {"type": "usage_tier"}, "20000000", created),
    ]
    for n, (ws, amount) in enumerate(zip(live[:2], ("2000000", None), strict=False)):
        limits.insert(0, _limit(f"spl_01FakeWorkspace{n:010d}", {"type": "workspace", "workspace_id": ws.id},
                                amount, created + dt.timedelta(days=500 + n)))  # fmt: skip
    return FakeSpendLimits("console", limits)


def list_spend_limits(fake: FakeOrganization, params: QueryParams, betas: list[str]) -> dict[str, Any]:
    state = fake.spend_limits
    if SPEND_LIMITS_BETA not in betas:
        raise invalid(f"This endpoint is in beta: send the anthropic-beta header {SPEND_LIMITS_BETA}.")
    if state.mode == "forbidden":
        raise ApiError(403, "permission_error", "This API key does not have permission to read spend limits.")
    if state.mode == "unsupported":
        raise ApiError(
            400, "invalid_request_error", "Listing spend limits is not available for this organization type.",
            details={"error_code": "organization_type_not_supported"},
        )  # fmt: skip
    wanted = params.getlist("scope_type")
    if unknown := [s for s in wanted if s not in _CONSOLE_SCOPES]:
        raise invalid(f"scope_type: {unknown[0]!r} does not apply to this organization")
    items = [item for item in state.limits if not wanted or item["scope"]["type"] in wanted]
    workspace_id = params.get("workspace_id")
    if workspace_id:
        items = [item for item in items if item["scope"].get("workspace_id") == workspace_id]
    return _cursor_page(items, params, "spend_limits")
