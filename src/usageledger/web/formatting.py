"""Numbers as people read them: money, compact big counts, counts with separators, percent shares.

Every function takes exact values (int, Decimal, or the API's decimal strings) and refuses floats, so
no amount is ever rounded through binary floating point. Where a shown value is rounded, the exact one
is in the element's `title`, shown on hover.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

from markupsafe import Markup

__all__ = [
    "event_details",
    "format_compact",
    "format_count",
    "format_money",
    "format_percent",
    "format_share",
]

_EMPTY = Markup('<span class="muted">—</span>')
_CENTS = Decimal("0.01")
_TENTH = Decimal("0.1")
_UNITS = ("", "K", "M", "B", "T")


def _exact(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise TypeError("Formatting filters take exact numbers (int, Decimal or decimal text), never float.")
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise TypeError(f"Not a number: {value!r}")
    return Decimal(value)


def _titled(shown: str, exact: str, css: str) -> Markup:
    if shown == exact:
        return Markup('<span class="{}">{}</span>').format(css, shown)
    return Markup('<span class="{}" title="{}">{}</span>').format(css, exact, shown)


def format_money(value: object) -> Markup:
    """US dollars to the cent with separators ($54,619.04); the exact amount in the title."""
    amount = _exact(value)
    if amount is None:
        return _EMPTY
    sign = "-" if amount < 0 else ""
    shown = f"{sign}${abs(amount).quantize(_CENTS, rounding=ROUND_HALF_EVEN):,f}"
    exact = f"{sign}${abs(amount):,f}"
    return _titled(shown, exact, "money")


def format_count(value: object) -> Markup:
    """A whole count with thousands separators (45,708)."""
    number = _exact(value)
    if number is None:
        return _EMPTY
    return Markup("{}").format(f"{number:,f}")


def format_compact(value: object, unit: str = "") -> Markup:
    """A big count in a few characters (127.2B, 45.7K, 999); the exact count in the title.

    `unit="$"` makes it money that fits a tile: `$1.2M`, with the exact amount in the title."""
    number = _exact(value)
    if number is None:
        return _EMPTY
    if unit == "$" and abs(number) < 1000:
        return format_money(number)
    exact = f"{number:,f}" if unit != "$" else f"{'-' if number < 0 else ''}${abs(number):,f}"
    size = abs(number)
    for power in range(len(_UNITS)):
        scaled = (size / Decimal(1000) ** power).quantize(_TENTH if power else Decimal(1), ROUND_HALF_EVEN)
        if scaled < 1000 or power == len(_UNITS) - 1:
            text = f"{scaled:f}".removesuffix(".0")
            shown = f"{'-' if number < 0 else ''}{'$' if unit == '$' else ''}{text}{_UNITS[power]}"
            return _titled(shown, exact, "compact")
    raise AssertionError("unreachable")  # pragma: no cover


def format_share(value: object) -> Markup:
    """A percent to one decimal (12.3%); the exact share in the title."""
    share = _exact(value)
    if share is None:
        return _EMPTY
    shown = f"{share.quantize(_TENTH, rounding=ROUND_HALF_EVEN):f}%"
    exact = f"{share.normalize():f}%"
    return _titled(shown, exact, "share")


def format_percent(value: object, signed: bool = False) -> str:
    """A share or a change in percent, one decimal: `41.2 %`, `+25.0 %` with `signed`; `—` for none."""
    number = _exact(value)
    if number is None:
        return "—"
    shown = number.quantize(_TENTH, rounding=ROUND_HALF_EVEN)
    sign = "+" if signed and shown > 0 else ("−" if shown < 0 else "")
    return f"{sign}{abs(shown)} %"


def _detail_value(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):  # counts and seconds, never money (that has its own filter)
        return f"{value:,}"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {_detail_value(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_detail_value(item) for item in value)
    return str(value)


def event_details(details: Mapping[str, object] | None, prefix: str = "") -> list[tuple[str, str]]:
    """An event's details as (label, value) lines a person reads: nested objects become "in flight · peak",
    counts get separators, lists are joined. The event log shows them under the message."""
    lines: list[tuple[str, str]] = []
    for key, value in (details or {}).items():
        label = prefix + key.replace("_", " ")
        if isinstance(value, Mapping) and value:
            lines.extend(event_details(value, f"{label} · "))
        else:
            lines.append((label, _detail_value(value)))
    return lines
