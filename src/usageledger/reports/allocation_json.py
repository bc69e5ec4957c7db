"""An allocation as the JSON API and `usageledger allocate --json` return it: money as decimal strings.

Each row has its cents (`amount_usd`, rounded so the rows add up to `total_usd`) and its exact amount
(`exact_amount_usd`, to 1e-8 USD); `balanced` says whether the exact amounts add up to the reported total.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from usageledger.reports.allocation import Allocation

__all__ = ["allocation_json"]


def _exact(microcents: int) -> str:
    return format(Decimal(microcents).scaleb(-8), "f")


def _cents(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN), "f")


def allocation_json(a: Allocation) -> dict[str, Any]:
    p = a.period
    return {
        "by": a.by,
        "period": {
            "key": p.key,
            "label": p.label,
            "since": p.start.isoformat(),
            "until": p.last_day.isoformat(),
        },
        "organization": a.organization,
        "total_usd": _cents(a.total_usd),
        "exact_total_usd": _exact(a.total_microcents),
        "list_total_usd": _exact(a.list_total_microcents),
        "allocated_usd": _cents(a.allocated_usd),
        "unallocated_usd": _exact(a.unallocated_microcents),
        "balanced": a.balanced,
        "imbalance_note": a.imbalance_note,
        "rows": [
            {
                "key": r.key,
                "label": r.label,
                "amount_usd": _cents(r.amount_usd),
                "exact_amount_usd": _exact(r.amount_microcents),
                "list_amount_usd": _exact(r.list_amount_microcents),
                "share_pct": format((r.share * 100).quantize(Decimal("0.01")), "f"),
                "unallocated": r.unallocated,
                "reason": r.reason,
            }
            for r in a.rows
        ],
    }
