"""Which columns a usage or cost table shows: what `--columns` asks for, or a default that fits the terminal.

The default is built from the keys the report rows actually carry, in an order of preference, so a
metric the read model gains later (cost beside tokens, say) shows up without a list to update here.
The group fields always show (they say what a row is); metrics are added while the table still fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from rich.table import Table

from ..errors import UsageError
from ..reports.rows import share_of, share_text

__all__ = ["PCT_OF_TOTAL", "add_share_of_total", "choose_columns", "parse_columns"]

# The read model's key for a row's share of the period's cost: usage rows carry it (with cost); cost
# rows get it here by the read model's own rule, so both commands show the same figure.
PCT_OF_TOTAL = "cost_share"

# Metrics in the order a narrow table keeps them; keys not listed come after, in the report's order.
_METRIC_PREFERENCE = (
    "amount_usd",
    PCT_OF_TOTAL,
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "requests",
    "list_amount_usd",
)
_NAMED = ("organization", "workspace", "api_key")
_PLAIN_GROUP_KEYS = ("date", "month", "model", "service_tier", "context_window")


def add_share_of_total(records: list[dict[str, Any]], total_usd: str | None) -> None:
    """Give each row its share of the whole filtered set's amount (a percent string, None when that is 0)."""
    if total_usd is None or any("amount_usd" not in r or PCT_OF_TOTAL in r for r in records):
        return
    total = Decimal(total_usd)
    for record in records:
        share = share_of(Decimal(record["amount_usd"]), total)
        record[PCT_OF_TOTAL] = None if share is None else share_text(share)


def parse_columns(text: str, available: Sequence[str]) -> list[str]:
    """The columns `--columns a,b,c` names, in that order; an unknown one is an error listing the valid."""
    wanted = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in available]
    if unknown or not wanted:
        raise UsageError(
            f"--columns takes a comma list of the report's columns: {', '.join(available)}; "
            f"{'unknown: ' + ', '.join(unknown) if unknown else 'none given'}."
        )
    return wanted


def _identity_columns(keys: Sequence[str]) -> list[str]:
    """The group fields, a name in place of its id where the report carries one."""
    out = []
    for key in keys:
        if key in _PLAIN_GROUP_KEYS:
            out.append(key)
        for field in _NAMED:
            if key == f"{field}_id":
                out.append(f"{field}_name" if f"{field}_name" in keys else key)
    return out


def choose_columns(
    keys: Sequence[str], build: Callable[[list[str]], Table], fits: Callable[[Table], bool]
) -> list[str]:
    """The default columns: the group fields, then metrics by preference while the table `fits`."""
    identity = _identity_columns(keys)
    metrics = [k for k in _METRIC_PREFERENCE if k in keys]
    metrics += [k for k in keys if k not in metrics and k not in identity and not _is_group_key(k)]
    chosen = list(identity)
    for metric in metrics:
        if fits(build([*chosen, metric])):
            chosen.append(metric)
        elif chosen == identity:  # not even one metric fits: show the first anyway; the table widens
            chosen.append(metric)
            break
        else:
            break
    return chosen


def _is_group_key(key: str) -> bool:
    return key in _PLAIN_GROUP_KEYS or any(key in (f"{f}_id", f"{f}_name") for f in _NAMED)
