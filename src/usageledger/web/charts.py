"""The detail page's chart: it follows the table (a series per group, top N and Other), per day or month,
with a stable colour per value, provisional days marked, and a table alternative for screen readers."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable
from decimal import Decimal
from html import escape

from markupsafe import Markup

from usageledger.reports.series import ChartData
from usageledger.web.chart_axes import axis_label, nice_ceiling

__all__ = ["OTHER_COLOUR", "SERIES_PALETTE", "plan_colours", "render_series_chart", "series_colour"]

# --- the detail page's chart: it follows the table (series by its grouping, top N and Other) ------------

# Paul Tol's "muted" scheme: distinguishable with the common colour-vision deficiencies. Other is grey.
SERIES_PALETTE: tuple[str, ...] = (
    "#332288", "#88ccee", "#44aa99", "#117733", "#999933", "#ddcc77", "#cc6677", "#882255", "#aa4499",
)  # fmt: skip
OTHER_COLOUR = "#bbbbbb"
_CHART_SIZES = {"wide": (960, 300, 8), "narrow": (330, 300, 4)}  # width, height, most axis labels


def series_colour(key: str) -> str:
    """A series' own colour, from a hash of its values (so a model keeps its colour on every page and metric)."""
    digest = hashlib.blake2s(key.encode(), digest_size=4).digest()
    return SERIES_PALETTE[int.from_bytes(digest, "big") % len(SERIES_PALETTE)]


def _probe(keys: Iterable[str], taken: set[str] | None = None) -> dict[str, str]:
    """Each key its hashed colour; a key (in sorted order) whose colour is taken gets the next free one."""
    taken = set() if taken is None else taken
    out: dict[str, str] = {}
    for key in sorted(set(keys)):
        start = SERIES_PALETTE.index(series_colour(key))
        free = [SERIES_PALETTE[(start + step) % len(SERIES_PALETTE)] for step in range(len(SERIES_PALETTE))]
        colour = next((c for c in free if c not in taken), free[0])  # all taken: repeat the hashed one
        taken.add(colour)
        out[key] = colour
    return out


def plan_colours(data: ChartData, known_keys: Iterable[str] = ()) -> dict[int, str]:
    """Series index → colour.

    Colours are planned over `known_keys` (every stored value of the dimension, e.g. every model of the
    workspace), so a series keeps its colour whatever else the chart shows; keys hashing alike are told
    apart in sorted order. If the chart still shows two series in one colour (more values than colours),
    the later one takes a colour this chart does not use.
    """
    shown = {i: s.colour_key for i, s in enumerate(data.series) if not s.is_other}
    planned = _probe([*known_keys, *shown.values()])
    colours: dict[int, str] = {}
    used: set[str] = set()
    for i in sorted(shown, key=lambda i: shown[i]):
        colour = planned[shown[i]]
        if colour in used:
            colour = _probe([shown[i]], set(used))[shown[i]]
        used.add(colour)
        colours[i] = colour
    colours.update({i: OTHER_COLOUR for i, s in enumerate(data.series) if s.is_other})
    return colours


def _exact_text(value: int | Decimal, money: bool) -> str:
    if money:
        return f"${Decimal(value).quantize(Decimal('0.01')):,}"
    return f"{value:,}"


def _bucket_text(bucket: dt.date, kind: str, short: bool = False) -> str:
    if kind == "month":
        return bucket.strftime("%b ’%y") if short else bucket.strftime("%b %Y")
    return f"{bucket.strftime('%b')} {bucket.day}"


def _chart_svg(data: ChartData, colours: dict[int, str], title: str, size: str) -> str:
    width, height, most_labels = _CHART_SIZES[size]
    left, right, top, bottom = (64 if size == "wide" else 52), 10, 22, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    stacks = [float(data.totals.get(b, 0)) for b in data.buckets]
    y_max = nice_ceiling(max(stacks, default=0.0))
    slot = plot_w / len(data.buckets)
    bar_w = max(slot * 0.8, 0.6)
    hatch = f"hatch-{size}"
    parts = [
        f'<svg class="chart chart-{size}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="system-ui, sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2.5" stroke-opacity="0.75"/></pattern></defs>',
    ]
    for i in range(5):  # grid and y labels
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{axis_label(y_max * i / 4, data.money)}</text>'
        )
    first_provisional_x: float | None = None
    for index, bucket in enumerate(data.buckets):
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h
        provisional = data.provisional(bucket)
        status = " (provisional: may still change)" if provisional else ""
        total = data.totals.get(bucket, 0)
        parts.append(
            f'<g class="bucket{" provisional" if provisional else ""}">'
            f"<title>{_bucket_text(bucket, data.bucket)}: {_exact_text(total, data.money)}{status}</title>"
        )
        for s_index, series in enumerate(data.series):
            value = float(series.values.get(bucket, 0))
            if value <= 0:
                continue
            h = plot_h * value / y_max
            y -= h
            parts.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar_w:.2f}" height="{h:.2f}" fill="{colours[s_index]}">'
                f"<title>{_bucket_text(bucket, data.bucket)} · {escape(series.label)}: "
                f"{_exact_text(series.values.get(bucket, 0), data.money)}{status}</title></rect>"
            )
        if provisional and y < top + plot_h:
            parts.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar_w:.2f}" height="{top + plot_h - y:.2f}" '
                f'fill="url(#{hatch})" pointer-events="none"/>'
            )
        if provisional and first_provisional_x is None:
            first_provisional_x = left + index * slot
        parts.append("</g>")
    if first_provisional_x is not None:  # words as well as the hatching: colour is not the only carrier
        parts.append(
            f'<line x1="{first_provisional_x:.1f}" x2="{first_provisional_x:.1f}" y1="{top - 4}" y2="{top + plot_h}" '
            'stroke="#a15c00" stroke-dasharray="3 3"/>'
            f'<text x="{first_provisional_x - 3:.1f}" y="{top - 8}" text-anchor="end" fill="#a15c00" font-size="11">'
            "provisional ›</text>"
        )
    step = max(1, math.ceil(len(data.buckets) / most_labels))
    for index in range(0, len(data.buckets), step):  # x labels
        x = left + index * slot + slot / 2
        text = _bucket_text(data.buckets[index], data.bucket, short=size == "narrow")
        parts.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" fill="#444">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _legend(data: ChartData, colours: dict[int, str]) -> str:
    items = []
    for index, series in enumerate(data.series):
        items.append(
            f'<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
            f'fill="{colours[index]}"/></svg>{escape(series.label)}</li>'
        )
    if any(data.provisional(b) for b in data.buckets):
        items.append(
            '<li><span class="provisional-mark" aria-hidden="true"></span>Provisional (may still change)</li>'
        )
    return f'<ul class="chart-legend" aria-hidden="true">{"".join(items)}</ul>'


def _series_hidden_table(data: ChartData, title: str) -> str:
    """The chart's figures for screen readers: the SVGs are images to them."""
    head = "".join(f'<th scope="col">{escape(s.label)}</th>' for s in data.series)
    rows = []
    for bucket in data.buckets:
        cells = "".join(f"<td>{_exact_text(s.values.get(bucket, 0), data.money)}</td>" for s in data.series)
        status = "provisional" if data.provisional(bucket) else "final"
        rows.append(
            f'<tr><th scope="row">{_bucket_text(bucket, data.bucket)}</th>{cells}'
            f"<td>{_exact_text(data.totals.get(bucket, 0), data.money)}</td><td>{status}</td></tr>"
        )
    period = "Month" if data.bucket == "month" else "Day"
    return (
        # wrapped: a table grows to its content whatever its own width, so the clipping box is a div
        f'<div class="visually-hidden"><table id="chart-table"><caption>{escape(title)}</caption><thead><tr>'
        f'<th scope="col">{period}</th>{head}<th scope="col">Total</th><th scope="col">Status</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def render_series_chart(data: ChartData, *, title: str, known_keys: Iterable[str] = ()) -> Markup:
    """Stacked bars of `data` (one stack per bucket, a layer per series), wide and phone-sized (CSS shows
    one), an HTML legend, provisional buckets hatched and labelled, and a visually hidden table of the figures."""
    if not data.buckets or not data.series:
        return Markup(
            f'<svg class="chart" viewBox="0 0 960 60" role="img" aria-label="{escape(title)}: no data">'
            '<text x="480" y="34" text-anchor="middle" fill="#555">No usage in this range.</text></svg>'
        )
    colours = plan_colours(data, known_keys)
    return Markup(
        _legend(data, colours)
        + _chart_svg(data, colours, title, "wide")
        + _chart_svg(data, colours, title, "narrow")
        + _series_hidden_table(data, title)
    )
