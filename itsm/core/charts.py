"""Server-side SVG charts for pages and PDF review packs (WeasyPrint renders inline SVG).

The charts, each returning a ``SafeString`` holding one self-contained ``<svg>``:

* ``bar_chart(bars, title=…)`` — horizontal bars, one per label, with value labels; a bar may
  carry its own colour (to highlight it), ``max_value`` fixes the scale (e.g. 100 for %).
* ``stacked_bar(segments, title=…)`` — one 100 % bar split into segments (a distribution, such
  as the counts of ratings 1–5) with a legend giving each segment's count and share.
* ``trend_chart(points, title=…, target=…)`` — a line over periods (months) with a dashed
  target line; highlighted points (breaches) stand out.

Every chart has a ``viewBox``, ``role="img"``, an ``aria-label`` and a ``<title>`` (its
title), and a ``<desc>`` listing the data for screen readers. Every label is escaped; there is
no script, no external style sheet and no font to fetch. The palette is fixed and readable in
black-and-white print (dark / light alternate, text on a fill picks the contrasting colour).
The output depends only on the arguments, so tests compare strings. Text widths are estimated
(there are no font metrics on the server): wide (CJK) characters count about twice a Latin
one, and a label too long for its column is cut with "…" (the full label stays in the title
tooltip and in ``<desc>``). Empty input, or a distribution whose total is zero, gives a small
"no data" chart.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

__all__ = [
    "DEFAULT_COLOUR",
    "NPS_COLOURS",
    "PALETTE",
    "RATING_COLOURS",
    "YES_NO_COLOURS",
    "Bar",
    "Segment",
    "TrendPoint",
    "bar_chart",
    "no_data_chart",
    "stacked_bar",
    "trend_chart",
]

# Okabe–Ito colours (distinguishable with colour-blindness), ordered so neighbours differ in
# lightness too and stay apart in greyscale print.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#555555")
DEFAULT_COLOUR = PALETTE[0]
# Ratings 1–5: red (very dissatisfied) through grey (neutral) to green (very satisfied).
RATING_COLOURS: tuple[str, ...] = ("#B2182B", "#EF8A62", "#BDBDBD", "#67A9CF", "#2166AC")
# NPS answers: detractors (0–6), passives (7–8), promoters (9–10).
NPS_COLOURS = {"detractor": "#B2182B", "passive": "#BDBDBD", "promoter": "#2166AC"}
YES_NO_COLOURS = {"yes": "#2166AC", "no": "#B2182B"}

FONT_SIZE = 12
ROW_HEIGHT = 22
BAR_HEIGHT = 14
STACK_HEIGHT = 24
LEGEND_ROW = 18
SWATCH = 10
PAD = 4
NARROW_CHAR = 7.0  # estimated advance of a Latin lower-case letter or digit at FONT_SIZE, in px
WIDE_CHAR = 12.5  # of a CJK (East Asian wide) character
_THIN = frozenset(" .,:;'|!()[]ijlIft")
_WIDE_LATIN = frozenset("mwMW@%")
MIN_WIDTH = 160
TEXT_COLOUR = "#212529"
MUTED_COLOUR = "#6C757D"
TRACK_COLOUR = "#F1F3F5"
_COLOUR = re.compile(r"#[0-9A-Fa-f]{3}(?:[0-9A-Fa-f]{3})?|[A-Za-z]{3,20}")


@dataclass(frozen=True)
class Bar:
    """One bar: ``label``, a non-negative ``value``, optionally its own ``colour`` and the
    text shown after it (``value_label``; the value itself when None)."""

    label: str
    value: float
    colour: str | None = None
    value_label: str | None = None


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: ``label``, a non-negative ``value``, optionally its colour."""

    label: str
    value: float
    colour: str | None = None


# --- small helpers ---------------------------------------------------------------------------


def _num(value: float, decimals: int = 2) -> str:
    """A number as SVG and labels write it: at most ``decimals`` decimals, no trailing zeros."""
    quantum = Decimal(1).scaleb(-decimals)
    text = format(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def shares(values: Sequence[float], digits: int = 0) -> list[float]:
    """The percentage of each of ``values`` in their total, rounded to ``digits`` so that the
    parts add up to exactly 100 (largest remainder: the units lost to rounding go to the
    parts that lost most). All zeros (or nothing) → zeros."""
    total = sum(max(0.0, float(v)) for v in values)
    if total <= 0:
        return [0.0 for _ in values]
    scale = 10**digits
    exact = [max(0.0, float(v)) * 100 * scale / total for v in values]
    floors = [math.floor(x) for x in exact]
    left = round(100 * scale) - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (exact[i] - floors[i], exact[i]), reverse=True)
    for i in by_remainder[:left]:
        floors[i] += 1
    return [f / scale for f in floors]


def _char_width(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in "WF":
        return WIDE_CHAR
    if ch in _THIN:
        return 3.6
    if ch in _WIDE_LATIN:
        return 10.8
    if ch.isupper():
        return 8.6
    return NARROW_CHAR


def text_width(text: str) -> float:
    """The estimated width of ``text`` in px at the chart font size (generous: a label drawn
    wider than estimated would be clipped, one drawn narrower only leaves some space)."""
    return sum(_char_width(ch) for ch in text)


def _fit(text: str, width: float) -> str:
    """``text`` cut with "…" to fit ``width`` px (estimated)."""
    if text_width(text) <= width + 0.01:  # tolerance: the column was sized from this same sum
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…") > width:
            break
        out += ch
    return out + "…"


def _contrast(fill: str) -> str:
    """Dark or white text, whichever reads better on ``fill`` (#RRGGBB)."""
    try:
        red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    except (ValueError, IndexError):
        return TEXT_COLOUR
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return TEXT_COLOUR if luminance > 150 else "#FFFFFF"


def _colour(value: str | None, default: str) -> str:
    """A colour safe to put in an attribute: ``#rgb`` / ``#rrggbb`` or a plain name, else ``default``."""
    if value and _COLOUR.fullmatch(value):
        return value
    return default


def _svg(width: float, height: float, title: str, desc: str, body: list[str]) -> SafeString:
    w, h = _num(width), _num(height)
    label = escape(title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="itsm-chart" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}" role="img" aria-label="{label}" font-family="sans-serif" font-size="{FONT_SIZE}" '
        f'style="max-width:100%;height:auto">',
        f"<title>{label}</title>",
    ]
    if desc:
        parts.append(f"<desc>{escape(desc)}</desc>")
    parts.extend(body)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text and attribute above is escaped or numeric


def _text(x: float, y: float, text: str, *, fill: str = TEXT_COLOUR, anchor: str = "start") -> str:
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{_num(x)}" y="{_num(y)}" fill="{fill}"{anchor_attr}>{escape(text)}</text>'


def no_data_chart(title: str, *, width: int = 480, message: str | None = None) -> SafeString:
    """A small chart saying there is nothing to draw (``message``: "No data" by default)."""
    width = max(MIN_WIDTH, width)
    message = _("No data") if message is None else message
    height = ROW_HEIGHT + 2 * PAD
    body = [
        f'<rect x="0.5" y="0.5" width="{_num(width - 1)}" height="{_num(height - 1)}" fill="none" '
        f'stroke="#CED4DA" stroke-dasharray="4 3"/>',
        _text(width / 2, height / 2 + FONT_SIZE * 0.35, message, fill=MUTED_COLOUR, anchor="middle"),
    ]
    return _svg(width, height, title, message, body)


def _as_bar(item: Bar | tuple) -> Bar:
    return item if isinstance(item, Bar) else Bar(*item)


def _as_segment(item: Segment | tuple) -> Segment:
    return item if isinstance(item, Segment) else Segment(*item)


# --- charts ----------------------------------------------------------------------------------


def bar_chart(
    bars: Sequence[Bar | tuple],
    *,
    title: str,
    max_value: float | None = None,
    width: int = 480,
    colour: str = DEFAULT_COLOUR,
    value_labels: bool = True,
    unit: str = "",
) -> SafeString:
    """Horizontal bars, one row per ``bars`` item (``Bar`` or ``(label, value[, colour[, value_label]])``).

    The scale runs from 0 to ``max_value`` (the largest value when None); a value beyond it is
    drawn at full length, a negative one as zero. ``width`` is the chart's width in px (the
    label column takes at most 40 % of it); the height follows from the number of bars.
    ``value_labels`` writes each value (plus ``unit``) after its bar, or the bar's own
    ``value_label``. No bars → the "no data" chart.
    """
    items = [_as_bar(item) for item in bars]
    width = max(MIN_WIDTH, int(width))
    if not items:
        return no_data_chart(title, width=width)
    values = [max(0.0, float(item.value)) for item in items]
    scale = float(max_value) if max_value is not None and max_value > 0 else max(values)
    shown = [
        (item.value_label if item.value_label is not None else f"{_num(values[i])}{unit}") if value_labels else ""
        for i, item in enumerate(items)
    ]
    label_col = min(max(text_width(item.label) for item in items) + 2 * PAD, width * 0.4)
    value_col = (max(text_width(text) for text in shown) + 2 * PAD) if value_labels else PAD
    track = max(width - label_col - value_col, 20.0)
    height = len(items) * ROW_HEIGHT + PAD
    body = []
    for index, (item, value, text) in enumerate(zip(items, values, shown, strict=True)):
        top = PAD + index * ROW_HEIGHT
        bar_y = top + (ROW_HEIGHT - PAD - BAR_HEIGHT) / 2
        baseline = bar_y + BAR_HEIGHT / 2 + FONT_SIZE * 0.35
        length = track * min(value / scale, 1.0) if scale else 0.0
        fill = _colour(item.colour, _colour(colour, DEFAULT_COLOUR))
        row = [
            f"<g><title>{escape(item.label)}: {escape(text or _num(value))}</title>",
            _text(label_col - PAD, baseline, _fit(item.label, label_col - 2 * PAD), anchor="end"),
            f'<rect x="{_num(label_col)}" y="{_num(bar_y)}" width="{_num(track)}" height="{BAR_HEIGHT}" '
            f'fill="{TRACK_COLOUR}"/>',
        ]
        if length > 0:
            row.append(
                f'<rect x="{_num(label_col)}" y="{_num(bar_y)}" width="{_num(length)}" height="{BAR_HEIGHT}" '
                f'fill="{fill}"/>'
            )
        if text:
            row.append(_text(label_col + track + PAD, baseline, text))
        row.append("</g>")
        body.append("".join(row))
    desc = "; ".join(
        f"{item.label}: {text or _num(value)}" for item, value, text in zip(items, values, shown, strict=True)
    )
    return _svg(width, height, title, desc, body)


def stacked_bar(
    segments: Sequence[Segment | tuple],
    *,
    title: str,
    width: int = 480,
    colours: Sequence[str] = PALETTE,
    legend: bool = True,
) -> SafeString:
    """One 100 % bar split into ``segments`` (``Segment`` or ``(label, value[, colour])``), in order.

    A segment's share is written inside it when it fits; the legend below lists every segment,
    zero ones included, as "label: count (share %)". A segment without a colour takes the next
    of ``colours``. A total of zero (or no segments) → the "no data" chart.
    """
    items = [_as_segment(item) for item in segments]
    width = max(MIN_WIDTH, int(width))
    values = [max(0.0, float(item.value)) for item in items]
    total = sum(values)
    if not items or total <= 0:
        return no_data_chart(title, width=width)
    fills = [_colour(item.colour, colours[i % len(colours)]) for i, item in enumerate(items)]
    # Whole percentages that add up to 100 (13 + 33 + 55 would read as 101 %).
    percents = [_num(share, 0) for share in shares(values)]
    body = []
    x = 0.0
    for item, value, fill, percent in zip(items, values, fills, percents, strict=True):
        if value <= 0:
            continue
        part = width * value / total
        share = f"{percent} %"
        segment = [
            f"<g><title>{escape(item.label)}: {_num(value)} ({share})</title>",
            f'<rect x="{_num(x)}" y="0" width="{_num(part)}" height="{STACK_HEIGHT}" fill="{fill}"/>',
        ]
        if text_width(share) + 2 * PAD <= part:
            segment.append(
                _text(x + part / 2, STACK_HEIGHT / 2 + FONT_SIZE * 0.35, share, fill=_contrast(fill), anchor="middle")
            )
        segment.append("</g>")
        body.append("".join(segment))
        x += part
    height = float(STACK_HEIGHT)
    if legend:
        cursor_x, row = 0.0, 0
        for item, value, fill, percent in zip(items, values, fills, percents, strict=True):
            text = f"{item.label}: {_num(value)} ({percent} %)"
            entry = SWATCH + PAD + min(text_width(text), width - SWATCH - PAD) + 3 * PAD
            if cursor_x > 0 and cursor_x + entry > width:
                cursor_x, row = 0.0, row + 1
            top = STACK_HEIGHT + PAD + row * LEGEND_ROW
            body.append(
                f'<rect x="{_num(cursor_x)}" y="{_num(top + (LEGEND_ROW - SWATCH) / 2)}" width="{SWATCH}" '
                f'height="{SWATCH}" fill="{fill}"/>'
                + _text(
                    cursor_x + SWATCH + PAD,
                    top + LEGEND_ROW / 2 + FONT_SIZE * 0.35,
                    _fit(text, width - SWATCH - PAD),
                )
            )
            cursor_x += entry
        height = STACK_HEIGHT + PAD + (row + 1) * LEGEND_ROW
    desc = "; ".join(
        f"{item.label}: {_num(value)} ({percent} %)"
        for item, value, percent in zip(items, values, percents, strict=True)
    )
    return _svg(width, height, title, desc, body)


# --- trend ----------------------------------------------------------------------------------

BREACH_COLOUR = "#B2182B"
GRID_COLOUR = "#DEE2E6"
TARGET_COLOUR = "#555555"
POINT_RADIUS = 3.5
HIGHLIGHT_RADIUS = 5


@dataclass(frozen=True)
class TrendPoint:
    """One period of a trend: ``label`` (e.g. "2026-03"), its ``value`` (None: no figure, the
    line breaks there), whether to ``highlight`` it (a breach) and the text shown for it
    (``value_label``; the value itself when None)."""

    label: str
    value: float | None
    highlight: bool = False
    value_label: str | None = None


def _as_point(item: TrendPoint | tuple) -> TrendPoint:
    return item if isinstance(item, TrendPoint) else TrendPoint(*item)


def _nice_step(span: float, ticks: int) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) giving about ``ticks`` intervals over ``span``."""
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _scale(values: list[float], min_value: float | None, max_value: float | None) -> tuple[float, float, float]:
    """(low, high, step) of the value axis: round ticks enclosing every value."""
    low = min(values) if min_value is None else float(min_value)
    high = max(values) if max_value is None else float(max_value)
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = _nice_step(high - low, 4)
    low_tick, high_tick = math.floor(low / step) * step, math.ceil(high / step) * step
    if min(values) >= 0 and min_value is None:
        low_tick = max(0.0, low_tick)
    if high_tick == low_tick:
        high_tick = low_tick + step
    return low_tick, high_tick, step


def trend_chart(
    points: Sequence[TrendPoint | tuple],
    *,
    title: str,
    target: float | None = None,
    target_label: str | None = None,
    unit: str = "",
    width: int = 560,
    height: int = 200,
    colour: str = DEFAULT_COLOUR,
    highlight_colour: str = BREACH_COLOUR,
    min_value: float | None = None,
    max_value: float | None = None,
) -> SafeString:
    """A line over periods (``TrendPoint`` or ``(label, value[, highlight[, value_label]])``),
    in order, with an optional dashed ``target`` line labelled ``target_label`` (or "target:
    <value><unit>").

    Highlighted points (breaches) are drawn larger in ``highlight_colour``; a point without a
    value breaks the line. The value axis has round ticks enclosing every value and the target
    (``min_value`` / ``max_value`` fix its ends; it never goes below 0 when every value is
    ≥ 0); period labels are thinned out when they would overlap. No value at all
    → the "no data" chart.
    """
    items = [_as_point(item) for item in points]
    width = max(MIN_WIDTH, int(width))
    values = [float(item.value) for item in items if item.value is not None]
    if not values:
        return no_data_chart(title, width=width)
    shown = [
        (item.value_label if item.value_label is not None else f"{_num(float(item.value))}{unit}")
        if item.value is not None
        else _("no data")
        for item in items
    ]
    target_text = ""
    if target is not None:
        target_text = (
            target_label
            if target_label is not None
            else _("target: %(value)s") % {"value": f"{_num(float(target))}{unit}"}
        )
    low, high, step = _scale(values + ([float(target)] if target is not None else []), min_value, max_value)
    ticks = [low + index * step for index in range(round((high - low) / step) + 1)]
    tick_labels = [_num(tick, 4) for tick in ticks]
    left = max(text_width(label) for label in tick_labels) + 2 * PAD
    top, bottom = ROW_HEIGHT / 2 + PAD, float(max(height, 4 * ROW_HEIGHT)) - ROW_HEIGHT
    plot_width = max(width - left - PAD, 20.0)
    slot = plot_width / len(items)
    fill = _colour(colour, DEFAULT_COLOUR)
    breach = _colour(highlight_colour, BREACH_COLOUR)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * (min(max(value, low), high) - low) / (high - low)

    def x_of(index: int) -> float:
        return left + slot * (index + 0.5)

    body = []
    for tick, label in zip(ticks, tick_labels, strict=True):
        y = y_of(tick)
        body.append(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(left + plot_width)}" y2="{_num(y)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
            + _text(left - PAD, y + FONT_SIZE * 0.35, label, fill=MUTED_COLOUR, anchor="end")
        )
    if target is not None:
        y = y_of(float(target))
        body.append(
            f'<g data-role="target"><title>{escape(target_text)}</title>'
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(left + plot_width)}" y2="{_num(y)}" '
            f'stroke="{TARGET_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4"/>'
            + _text(left + plot_width - PAD, y - PAD, _fit(target_text, plot_width - 2 * PAD), anchor="end")
            + "</g>"
        )
    run: list[str] = []
    runs: list[list[str]] = []
    for index, item in enumerate(items):
        if item.value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append(f"{_num(x_of(index))},{_num(y_of(float(item.value)))}")
    if run:
        runs.append(run)
    for line in runs:
        if len(line) > 1:
            body.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{fill}" stroke-width="2"/>')
    for index, (item, text) in enumerate(zip(items, shown, strict=True)):
        if item.value is None:
            continue
        radius, point_fill = (HIGHLIGHT_RADIUS, breach) if item.highlight else (POINT_RADIUS, fill)
        role = ' data-role="highlight"' if item.highlight else ""
        body.append(
            f"<g{role}><title>{escape(item.label)}: {escape(text)}</title>"
            f'<circle cx="{_num(x_of(index))}" cy="{_num(y_of(float(item.value)))}" r="{_num(radius)}" '
            f'fill="{point_fill}" stroke="#FFFFFF" stroke-width="1"/></g>'
        )
    widest = max(text_width(item.label) for item in items) + 2 * PAD
    every = max(1, math.ceil(widest / slot))
    baseline = bottom + ROW_HEIGHT / 2 + FONT_SIZE * 0.35
    for index, item in enumerate(items):
        if index % every == 0:
            body.append(_text(x_of(index), baseline, _fit(item.label, max(slot * every - PAD, 20.0)), anchor="middle"))
    desc = "; ".join(f"{item.label}: {text}" for item, text in zip(items, shown, strict=True))
    if target_text:
        desc = f"{desc}; {target_text}"
    return _svg(width, bottom + ROW_HEIGHT, title, desc, body)
