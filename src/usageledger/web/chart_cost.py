"""The overview's daily cost chart: a bar per day of the period, the comparable period as a faint line,
provisional days hatched, and the same figures as a table for screen readers."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape
from typing import NamedTuple

from markupsafe import Markup

from usageledger.web.chart_axes import axis_label, nice_ceiling

__all__ = ["CostDay", "render_cost_chart"]

# --- the overview's daily cost: bars for the period, the comparable period as a faint line -----------------

_BAR = "#4e79a7"
_PREVIOUS = "#9aa5b1"


class CostDay(NamedTuple):
    """One bar: the day's cost, the comparable day's cost of the period before, and whether it may still change."""

    day: dt.date
    amount: Decimal
    previous: Decimal | None
    provisional: bool


def _axis_day(day: dt.date) -> str:
    return f"{day.strftime('%b')} {day.day}"


def _iso_day(day: dt.date) -> str:
    return day.isoformat()


def _hidden_table(
    days: Sequence[CostDay], title: str, previous_label: str, name_of: Callable[[dt.date], str], heading: str
) -> str:
    """The chart's data for screen readers (the SVG itself is one image to them)."""
    rows = "".join(
        f'<tr><th scope="row">{escape(name_of(d.day))}</th><td>${d.amount:,.2f}</td>'
        f"<td>{'—' if d.previous is None else f'${d.previous:,.2f}'}</td>"
        f"<td>{'provisional' if d.provisional else 'final'}</td></tr>"
        for d in days
    )
    return (
        f'<div class="visually-hidden"><table><caption>{escape(title)}</caption><thead><tr><th scope="col">{escape(heading)}</th>'
        f'<th scope="col">Cost</th><th scope="col">{escape(previous_label)}</th><th scope="col">Status</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def render_cost_chart(
    days: Sequence[CostDay],
    *,
    title: str,
    previous_label: str,
    width: int = 720,
    height: int = 280,
    axis_name: Callable[[dt.date], str] = _axis_day,
    name_of: Callable[[dt.date], str] = _iso_day,
    heading: str = "Day",
    empty: str = "No cost in this period.",
    provisional_legend: bool = True,
) -> Markup:
    """Cost per day as bars, the previous period as a faint line, provisional days hatched and labelled.

    Returns the <svg> (one image, labelled) followed by a visually hidden table of the same figures. The
    bars may be hours instead (the overview's today by hour): `axis_name` labels the axis, `name_of` each
    bar and table row, `heading` the table's first column; `provisional_legend` False leaves that legend out.
    """
    label = escape(title)
    if not days or not any(d.amount or d.previous for d in days):
        return Markup(
            f'<svg class="chart" viewBox="0 0 {width} 60" role="img" aria-label="{label}: no cost">'
            f'<text x="{width / 2}" y="34" text-anchor="middle" fill="#555">{escape(empty)}</text></svg>'
        )
    left, right, top, bottom = 64, 12, 30, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = nice_ceiling(max(float(max(d.amount, d.previous or 0)) for d in days))
    slot = plot_w / len(days)
    bar_w = max(slot * 0.75, 0.6)

    def y_of(value: Decimal) -> float:
        return top + plot_h - plot_h * float(value) / y_max

    parts = [
        f'<svg class="chart cost-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="system-ui, sans-serif">',
        f"<title>{label}</title>",
        '<defs><pattern id="provisional-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{_BAR}" fill-opacity="0.35"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{_BAR}" stroke-width="3"/></pattern></defs>',
        # legend: shape and words, not colour alone
        f'<rect x="{left}" y="8" width="12" height="12" fill="{_BAR}"/><text x="{left + 16}" y="18" fill="#333">Cost</text>'
        + (
            f'<rect x="{left + 70}" y="8" width="12" height="12" fill="url(#provisional-hatch)" stroke="{_BAR}"/>'
            f'<text x="{left + 86}" y="18" fill="#333">Provisional (may still change)</text>'
            if provisional_legend
            else ""
        )
        + f'<line x1="{left + 300}" x2="{left + 324}" y1="14" y2="14" stroke="{_PREVIOUS}" stroke-width="2" '
        f'stroke-dasharray="5 3"/><text x="{left + 330}" y="18" fill="#333">{escape(previous_label)}</text>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{axis_label(value, True)}</text>'
        )
    for index, d in enumerate(days):
        x = left + index * slot + (slot - bar_w) / 2
        y = y_of(d.amount)
        status = " (provisional)" if d.provisional else ""
        fill = "url(#provisional-hatch)" if d.provisional else _BAR
        parts.append(
            f'<g class="{"day provisional" if d.provisional else "day"}"><title>{escape(name_of(d.day))}: '
            f"${d.amount:,.2f}{status}</title>"
            f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar_w:.2f}" height="{top + plot_h - y:.2f}" fill="{fill}"/></g>'
        )
    line = [
        f"{left + i * slot + slot / 2:.1f},{y_of(d.previous):.1f}"
        for i, d in enumerate(days)
        if d.previous is not None
    ]
    if line:
        parts.append(
            f'<polyline class="previous" points="{" ".join(line)}" fill="none" stroke="{_PREVIOUS}" '
            'stroke-width="2" stroke-dasharray="5 3" stroke-opacity="0.8"/>'
        )
    step = max(1, math.ceil(len(days) / 8))
    for index in range(0, len(days), step):
        x = left + index * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="#555">{escape(axis_name(days[index].day))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts) + _hidden_table(days, title, previous_label, name_of, heading))
