"""Ground truth of cost per cost type and token type: what the cost endpoint's fan-out serves, and a sync stores.

The analytics cost endpoint grouped by `cost_type` and `token_type` splits each group's cost into one row
per token type (cost type `tokens`) and one each for web search and code execution, leaving out the
components that cost nothing; `requests` is null on every such row. These functions give the same split
of the generator's rows, summed to a grain's dimensions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from usageledger.models import CostRecord

from . import catalog
from .analytics import components
from .generator import Row, amount_cents, list_amount_cents

__all__ = ["COMPONENTS", "truth_cost_by_type"]

# (cost_type, token_type) of each entry of `analytics.components(row)`, in its order.
COMPONENTS: tuple[tuple[str, str | None], ...] = (
    *(("tokens", token_type) for token_type in catalog.TOKEN_TYPES),
    ("web_search", None),
    ("code_execution", None),
)


def truth_cost_by_type(
    rows: Iterable[tuple[dt.date, Row]], dims_of: Callable[[Row], Any]
) -> list[CostRecord]:
    """One record per day × dimensions (as `dims_of` gives them) × cost component that cost something."""
    sums: dict[tuple[dt.date, Any, tuple[str, str | None]], int] = {}
    for day, row in rows:
        dims = dims_of(row)
        for part, units in zip(COMPONENTS, components(row), strict=True):
            if units:
                key = (day, dims, part)
                sums[key] = sums.get(key, 0) + units
    return [
        CostRecord(day, dims, amount_cents(units), list_amount_cents(units), "USD", None, part)
        for (day, dims, part), units in sums.items()
        if units
    ]
