"""List prices per model, the fallback for what prompt caching saved where no cost breakdown is stored.

The overview prices the saving from the stored cost per token type (`reports.cost_types`). Days stored
before cost was broken out (or a model with no uncached input to price a token by) are estimated as
cache-read tokens × (input price − cache-read price), at standard list prices: batch, long-context and
fast-mode prices differ, and negotiated discounts are ignored. The card says which was used and counts
the models left out for lack of a price.

Source: Anthropic's public pricing (https://docs.anthropic.com/en/docs/about-claude/pricing),
base input and cache-hit (cache read) prices in USD per million tokens, as listed in November 2025.
Update this table (and its date) when prices change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["LIST_PRICES", "LIST_PRICES_AS_OF", "LIST_PRICES_SOURCE", "ListPrice", "list_price"]

LIST_PRICES_AS_OF = "2025-11"
LIST_PRICES_SOURCE = "https://docs.anthropic.com/en/docs/about-claude/pricing"


@dataclass(frozen=True, slots=True)
class ListPrice:
    """USD per million tokens."""

    input: Decimal
    cache_read: Decimal

    @property
    def cache_saving_per_token(self) -> Decimal:
        return (self.input - self.cache_read) / 1_000_000


def _price(input_usd: str, cache_read_usd: str) -> ListPrice:
    return ListPrice(Decimal(input_usd), Decimal(cache_read_usd))


LIST_PRICES: dict[str, ListPrice] = {
    "claude-opus-4-5": _price("5", "0.50"),
    "claude-opus-4-1": _price("15", "1.50"),
    "claude-opus-4": _price("15", "1.50"),
    "claude-sonnet-4-5": _price("3", "0.30"),
    "claude-sonnet-4": _price("3", "0.30"),
    "claude-3-7-sonnet": _price("3", "0.30"),
    "claude-haiku-4-5": _price("1", "0.10"),
    "claude-3-5-haiku": _price("0.80", "0.08"),
    "claude-3-haiku": _price("0.25", "0.03"),
}


def list_price(model: str | None) -> ListPrice | None:
    """The list price of `model`; dated ids (`claude-sonnet-4-5-20250929`) match their family's entry."""
    if not model:
        return None
    if model in LIST_PRICES:
        return LIST_PRICES[model]
    for name in sorted(LIST_PRICES, key=len, reverse=True):  # longest first: opus-4-1 before opus-4
        if model.startswith(name + "-") and model[len(name) + 1 :].isdigit():
            return LIST_PRICES[name]
    return None
