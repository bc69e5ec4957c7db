"""The rows a usage or cost query answers with, and how they render as JSON.

Money is held as exact Decimal dollars (summed in SQL as integer micro-cents) and rendered as a string
with `USD_DECIMALS` places, so no float ever touches an amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Generic, TypeVar

from usageledger.models import DAILY

__all__ = [
    "GROUP_KEYS",
    "NAMED_FIELDS",
    "SHARE_DECIMALS",
    "USAGE_METRICS_JSON",
    "USD_DECIMALS",
    "CostReport",
    "CostRow",
    "Report",
    "UsageReport",
    "UsageRow",
    "money_text",
    "share_of",
    "share_text",
    "usd_from_microcents",
    "usd_text",
]

USD_DECIMALS = 8  # exact: amounts are stored in micro-cents (1e-8 USD)
_USD_QUANTUM = Decimal(1).scaleb(-USD_DECIMALS)
SHARE_DECIMALS = 6  # cost_share in JSON: a percent, e.g. "12.345679"
_SHARE_QUANTUM = Decimal(1).scaleb(-SHARE_DECIMALS)

# Group field → the JSON key and the stored column it reads.
GROUP_KEYS: dict[str, str] = {"date": "date", "month": "month", **{f.name: f.column for f in DAILY.fields}}
# Group fields whose ids have names beside them (`<field>_name`).
NAMED_FIELDS: tuple[str, ...] = tuple(f.name for f in DAILY.fields if f.named)
# Usage metrics as users see them: input_tokens means uncached input; cache creation = 5m + 1h.
USAGE_METRICS_JSON: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "requests",
)


@dataclass(frozen=True, slots=True)
class _Grouped:
    """Values shared by usage and cost rows: the group fields asked for, and names beside ids."""

    group_by: tuple[str, ...] = ()
    date: dt.date | None = None
    month: str | None = None
    organization_id: str | None = None
    workspace_id: str | None = None
    api_key_id: str | None = None
    model: str | None = None
    service_tier: str | None = None
    context_window: str | None = None
    organization_name: str | None = None
    workspace_name: str | None = None
    api_key_name: str | None = None

    def _group_json(self, names: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.group_by:
            key = GROUP_KEYS[name]
            value = getattr(self, key)
            out[key] = value.isoformat() if isinstance(value, dt.date) else value
            if names and name in NAMED_FIELDS:
                out[f"{name}_name"] = getattr(self, f"{name}_name")
        return out


@dataclass(frozen=True, slots=True)
class UsageRow(_Grouped):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_creation_5m_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    requests: int | None = None
    web_search_requests: int = 0
    # Cost beside the tokens, for the same group (None when the query did not ask for it, see UsageQuery).
    amount_usd: Decimal | None = None
    list_amount_usd: Decimal | None = None
    cost_share: Decimal | None = None  # percent of the filtered period's cost; None when that cost is 0

    def as_values(self, names: bool = False) -> dict[str, Any]:
        """The JSON keys with typed values (Decimal money, exact share), for renderings that format themselves."""
        out = self._group_json(names)
        for metric in USAGE_METRICS_JSON:
            out[metric] = getattr(self, metric)
        if self.amount_usd is not None:
            out["amount_usd"] = self.amount_usd
            out["list_amount_usd"] = self.list_amount_usd
            out["cost_share"] = self.cost_share
        return out

    def as_json(self, names: bool = False) -> dict[str, Any]:
        """The CLI/API JSON object: the group fields asked for, then the metrics (names beside ids if asked).

        With cost: `amount_usd` and `list_amount_usd` as decimal strings, `cost_share` as a percent string
        with `SHARE_DECIMALS` places (null when the period cost nothing).
        """
        out = self.as_values(names)
        if self.amount_usd is not None:
            out["amount_usd"] = usd_text(self.amount_usd)
            out["list_amount_usd"] = usd_text(self.list_amount_usd or Decimal(0))
            out["cost_share"] = None if self.cost_share is None else share_text(self.cost_share)
        return out


@dataclass(frozen=True, slots=True)
class CostRow(_Grouped):
    amount_usd: Decimal = Decimal(0)
    list_amount_usd: Decimal = Decimal(0)
    requests: int | None = None

    def as_json(self, names: bool = False) -> dict[str, Any]:
        out = self._group_json(names)
        out["amount_usd"] = usd_text(self.amount_usd)
        out["list_amount_usd"] = usd_text(self.list_amount_usd)
        return out


RowT = TypeVar("RowT", UsageRow, CostRow)


@dataclass(frozen=True)  # no slots: a slotted generic dataclass cannot be built through Report[Row](...)
class Report(Generic[RowT]):
    """One page of grouped rows, the totals over every row of the filtered set, and how many rows there are."""

    rows: list[RowT]
    totals: RowT
    total_rows: int

    def as_json(self, names: bool = False) -> dict[str, Any]:
        return {
            "rows": [row.as_json(names) for row in self.rows],
            "totals": self.totals.as_json(),
            "total_rows": self.total_rows,
        }


UsageReport = Report[UsageRow]
CostReport = Report[CostRow]


def usd_text(amount: Decimal) -> str:
    return format(amount.quantize(_USD_QUANTUM, rounding=ROUND_HALF_EVEN), "f")


def money_text(amount: Decimal | None) -> str | None:
    """Dollars as the JSON API says them (an exact decimal string), None as null."""
    return None if amount is None else usd_text(amount)


def share_text(percent: Decimal) -> str:
    return format(percent.quantize(_SHARE_QUANTUM, rounding=ROUND_HALF_EVEN), "f")


def share_of(part: Decimal, whole: Decimal) -> Decimal | None:
    """`part` as a percent of `whole` (28 significant digits; round only to show it); None when whole is 0."""
    if not whole:
        return None
    return part * 100 / whole


def usd_from_microcents(microcents: int | None) -> Decimal:
    """Exact dollars from a sum of micro-cents (1e-8 USD); no sum at all is zero."""
    return Decimal(int(microcents or 0)).scaleb(-8)
