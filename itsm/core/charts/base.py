"""What every chart shares: the palette and sizes, the point styles, text widths, the spec's
skeleton and its ``usermeta`` (see the package)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# The Vega-Lite version of the vendored browser build (static/vendor/vega-lite-6.4.1); vl-convert
# renders with the same one, so the static and the interactive chart agree.
VEGA_LITE_VERSION = "6.4"
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
# Vega measures text in this font (vl-convert on the server has Liberation Sans built in, metric-
# compatible with Arial, and measures it fast); the static SVG then names Noto Sans CJK SC first
# (STATIC_FONT), whose Latin letters are narrower than Arial's: in a PDF or a page without
# JavaScript the text is never wider than the room measured for it, and Chinese is drawn with
# the Chinese (not the Japanese) forms of the CJK font. The browser measures its own fonts.
FONT = 'Arial, "Liberation Sans", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif'
STATIC_FONT = '"Noto Sans CJK SC", "Source Han Sans SC", Arial, "Liberation Sans", "Microsoft YaHei", sans-serif'

# Okabe–Ito colours (distinguishable with colour-blindness), ordered so neighbours differ in
# lightness too and stay apart in greyscale print.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#555555")
DEFAULT_COLOUR = PALETTE[0]
# Ratings 1–5: red (very dissatisfied) through grey (neutral) to green (very satisfied).
RATING_COLOURS: tuple[str, ...] = ("#B2182B", "#EF8A62", "#BDBDBD", "#67A9CF", "#2166AC")
# NPS answers: detractors (0–6), passives (7–8), promoters (9–10).
NPS_COLOURS = {"detractor": "#B2182B", "passive": "#BDBDBD", "promoter": "#2166AC"}
YES_NO_COLOURS = {"yes": "#2166AC", "no": "#B2182B"}
BREACH_COLOUR = "#B2182B"
TEXT_COLOUR = "#212529"
MUTED_COLOUR = "#6C757D"
TRACK_COLOUR = "#F1F3F5"
GRID_COLOUR = "#DEE2E6"
TARGET_COLOUR = "#555555"

FONT_SIZE = 12
ROW_HEIGHT = 22
BAR_HEIGHT = 14
STACK_HEIGHT = 24
PAD = 4
MIN_WIDTH = 160
POINT_SIZE = 60  # area in px² (Vega's symbol size)
HIGHLIGHT_SIZE = 130
NARROW_CHAR = 7.0  # estimated advance of a Latin lower-case letter or digit at FONT_SIZE, in px
WIDE_CHAR = 12.5  # of a CJK (East Asian wide) character
_THIN = frozenset(" .,:;'|!()[]ijlIft")
_WIDE_LATIN = frozenset("mwMW@%")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{3}(?:[0-9A-Fa-f]{3})?|[A-Za-z]{3,20}")
_SHAPES = frozenset({"circle", "square", "cross", "diamond", "triangle-up", "triangle-down", "triangle", "stroke"})


@dataclass(frozen=True)
class Bar:
    """One bar: ``label``, a non-negative ``value``, optionally its own ``colour``, the text
    shown after it (``value_label``; the value itself when None) and a link (``href``)."""

    label: str
    value: float
    colour: str | None = None
    value_label: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: ``label``, a non-negative ``value``, optionally its colour
    and a link."""

    label: str
    value: float
    colour: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class PointStyle:
    """How the points of one kind look (a status): the ``label`` names it in the legend and
    the tooltip, the ``colour`` and the ``shape`` (a Vega symbol) both tell it apart."""

    label: str
    colour: str
    shape: str = "circle"


@dataclass(frozen=True)
class TrendPoint:
    """One period of a trend: ``label`` (e.g. "2026-03"), its ``value`` (None: no figure, the
    line breaks there), whether to ``highlight`` it (a breach), the text shown for it
    (``value_label``; the value itself when None), a link (``href``), the ``target`` in force
    then (drawn as a dashed line through the points), its ``style`` (a key of the chart's
    ``styles``) and further ``cells`` of its row, titled by the chart's ``columns``."""

    label: str
    value: float | None
    highlight: bool = False
    value_label: str | None = None
    href: str | None = None
    target: float | None = None
    style: str | None = None
    cells: tuple[str, ...] = ()


@dataclass(frozen=True)
class Forecast:
    """Where a running period is heading: drawn as a hollow point at ``value`` with a bar from
    ``low`` to ``high``; ``text`` is its row in the figures ("projected … (range …)")."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    text: str = ""


# --- small helpers ---------------------------------------------------------------------------


def _num(value: float, decimals: int = 2) -> str:
    """A number as labels write it: at most ``decimals`` decimals, no trailing zeros."""
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
    """The estimated width of ``text`` in px at the chart font size (generous), to decide on
    the server what fits before Vega lays it out: a share inside its segment, legend columns."""
    return sum(_char_width(ch) for ch in text)


def _contrast(fill: str) -> str:
    """Dark or white text, whichever reads better on ``fill`` (#RRGGBB)."""
    try:
        red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    except (ValueError, IndexError):
        return TEXT_COLOUR
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return TEXT_COLOUR if luminance > 150 else "#FFFFFF"


def _colour(value: str | None, default: str) -> str:
    """A colour Vega may paint: ``#rgb`` / ``#rrggbb`` or a plain name, else ``default``."""
    if value and _COLOUR.fullmatch(value):
        return value
    return default


def _shape(value: str) -> str:
    return value if value in _SHAPES else "circle"


def _href(value: str | None) -> str:
    """A link kept only when it is a path on this site (never ``javascript:`` or another host)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return ""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        # The figure's SVG is one role="img" with a label; its figures are in the table beside it.
        "aria": False,
        "background": "white",
        "view": {"stroke": None},
        "axis": {
            "labelFontSize": 11,
            "labelColor": TEXT_COLOUR,
            "titleColor": TEXT_COLOUR,
            "gridColor": GRID_COLOUR,
            "domainColor": "#ADB5BD",
            "tickColor": "#ADB5BD",
        },
        "legend": {"labelFontSize": 11, "labelColor": TEXT_COLOUR, "title": None, "symbolStrokeWidth": 0},
        "text": {"fontSize": FONT_SIZE, "color": TEXT_COLOUR},
    }


def _spec(
    *,
    title: str,
    width: int,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    links: Sequence[str] = (),
    notes: Sequence[str] = (),
    compact: bool = False,
    **body: Any,
) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "description": str(title),
        "width": width,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": _config(),
        **body,
        "usermeta": {
            "itsm": {
                "title": str(title),
                "columns": [str(column) for column in columns],
                "rows": [[str(cell) for cell in row] for row in rows],
                "links": list(links) or [""] * len(rows),
                "notes": [str(note) for note in notes],
                "compact": compact,
            }
        },
    }


def _cells(row: Sequence[str]) -> dict[str, str]:
    """A data row's tooltip fields: ``c0``, ``c1``, … (the same cells as its table row)."""
    return {f"c{index}": str(cell) for index, cell in enumerate(row)}


def _tooltip(columns: Sequence[str]) -> list[dict[str, str]]:
    return [{"field": f"c{index}", "type": "nominal", "title": str(column)} for index, column in enumerate(columns)]


def _pointer(links: Sequence[str]) -> dict[str, str]:
    """The hand cursor on marks that drill down."""
    return {"cursor": "pointer"} if any(links) else {}


def meta(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What the page shows around a chart (``usermeta.itsm``), with defaults for a bare spec."""
    found = spec.get("usermeta", {}).get("itsm", {}) if isinstance(spec, Mapping) else {}
    return {
        "title": found.get("title") or spec.get("description", ""),
        "columns": found.get("columns", []),
        "rows": found.get("rows", []),
        "links": found.get("links", []),
        "notes": found.get("notes", []),
        "compact": bool(found.get("compact")),
    }
