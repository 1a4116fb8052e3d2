"""Server-rendered SVG bar charts for the insights page: no JavaScript, no chart library, nothing
fetched from the internet. Colours come from CSS classes (the CSP allows no inline styles); each
chart names itself for screen readers, and the page puts the same numbers in a table beside it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

# Drawn small (viewBox units) and scaled to the card, so its text stays readable on a tablet.
WIDTH, HEIGHT = 480, 210
LEFT, RIGHT, TOP, BOTTOM = 36, 6, 12, 34


def axis_top(value: float, ticks: int = 4) -> float:
    """A round top for the y axis in `ticks` equal whole steps, so gridlines read 0, 1, 2, 3, 4 rather
    than 0, 1.2, 2.5...; past small counts the step is 1, 2, 2.5 or 5 x 10^n."""
    if value <= 0:
        return ticks
    raw = value / ticks
    if raw <= 10:  # small counts: whole steps (9 -> 0, 3, 6, 9, 12)
        return max(1, math.ceil(raw)) * ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if raw <= m * magnitude) * ticks


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def bar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[float], *,
              description: str = "", label_every: int = 1,
              value_label: Callable[[float], str] = _num) -> Markup:
    """One series of vertical bars. `label_every` thins the x-axis labels on long series (every bar
    still has its own tooltip and its row in the page's table)."""
    if len(labels) != len(values):
        raise ValueError("a bar chart needs one label per value")
    top = axis_top(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(values))
    bar_w = max(1.0, slot * 0.72)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" data-testid="chart-{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for i in range(5):  # gridlines at 0, 1/4 ... top
        level = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(value_label(level))}</text>')
    for i, (label, value) in enumerate(zip(labels, values)):
        h = plot_h * (value / top) if top else 0
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = TOP + plot_h - h
        parts.append(f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
                     f'<title>{escape(label)}: {escape(value_label(value))}</title></rect>')
        if i % max(1, label_every) == 0:
            parts.append(f'<text class="chart-label" x="{x + bar_w / 2:.1f}" y="{HEIGHT - BOTTOM + 18}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<line class="chart-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
                 f'y2="{TOP + plot_h}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
