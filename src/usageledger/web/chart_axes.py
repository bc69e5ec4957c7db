"""What every server-rendered SVG chart shares: a round ceiling for the value axis and its labels.

Charts here are SVG built as text, so they work without JavaScript or a chart library; colours are SVG
presentation attributes (not `style`), so the strict Content-Security-Policy holds.
"""

from __future__ import annotations

import math

__all__ = ["axis_label", "nice_ceiling"]


def nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    fraction = value / 10**exponent
    scale: float = 10**exponent  # int ** int is Any to mypy (a negative exponent gives a float)
    for step in (1, 2, 2.5, 5, 10):
        if fraction <= step:
            return step * scale
    ceiling: float = 10 ** (exponent + 1)  # pragma: no cover
    return ceiling  # pragma: no cover


def axis_label(value: float, money: bool) -> str:
    if money:
        return f"${value:,.0f}" if value >= 10 else f"${value:,.2f}"
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:,.0f}"
