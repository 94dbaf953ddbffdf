"""Charts: one Vega-Lite definition per chart, drawn as a static SVG on the server and
interactively in the browser.

A chart is a Vega-Lite spec (a plain dict) built by one of these functions:

* ``bar_spec(bars, title=…)`` — horizontal bars, one per label, with value labels; a bar may
  carry its own colour (to highlight it), ``max_value`` fixes the scale (e.g. 100 for %).
* ``stacked_spec(segments, title=…)`` — one 100 % bar split into segments (a distribution, such
  as the counts of ratings 1–5) with a legend giving each segment's count and share.
* ``trend_spec(points, title=…, target=…)`` — a line over periods with a dashed target line
  (one value, or each point's own); highlighted points (breaches) or styled points (a status:
  colour *and* shape, with a legend) stand out; an optional forecast is drawn hollow with its
  range.
* ``sparkline_spec(points, title=…)`` — the same line, small, without axes (a dashboard card).
* ``no_data_spec(title)`` — a small box saying there is nothing to draw.

A page draws a spec with ``{% chart spec %}`` (``itsm/core/templatetags/charts.py``): a
``<figure>`` holding the static SVG from ``render_svg`` (vl-convert; it shows without
JavaScript and in WeasyPrint PDFs), the figures as a table (the text alternative) and the spec
itself, which ``static/js/charts.js`` hands to the vendored vega-embed to replace the SVG with
the interactive view: tooltips, and a mark whose datum has an ``href`` opens it on click (the
drill-down; the table links the same rows for keyboards and pages without JavaScript).

Besides the Vega-Lite keys, a spec carries under ``usermeta.itsm`` (Vega-Lite ignores
``usermeta``) what the page shows around the chart: its title, the columns, rows and row links
of the text alternative, notes (the target) and whether it is compact. Every label is data:
vl-convert escapes it in the SVG, ``json_script`` in the page. A link is kept only when it is a
path on this site. The output depends only on the arguments (the period labels are given as
text, never as dates to be formatted in some time zone).

Text is set in Noto Sans CJK SC (``fonts-noto-cjk``, installed by the Dockerfile and
``scripts/install-system-deps.sh``): vl-convert finds it among the system fonts and measures
the labels with it, and WeasyPrint draws them with it through fontconfig, so a Chinese label
takes the room it was given. A browser without it falls back to its own CJK font (the
interactive view measures text in the browser).
"""

from .base import (
    BREACH_COLOUR,
    DEFAULT_COLOUR,
    NPS_COLOURS,
    PALETTE,
    RATING_COLOURS,
    YES_NO_COLOURS,
    Bar,
    Forecast,
    PointStyle,
    Segment,
    TrendPoint,
    meta,
    shares,
    text_width,  # noqa: F401  (tests measure labels)
)
from .render import _render, render_svg  # noqa: F401  (_render: its cache, for tests)
from .specs import bar_spec, no_data_spec, sparkline_spec, stacked_spec, trend_spec

__all__ = [
    "BREACH_COLOUR",
    "DEFAULT_COLOUR",
    "NPS_COLOURS",
    "PALETTE",
    "RATING_COLOURS",
    "YES_NO_COLOURS",
    "Bar",
    "Forecast",
    "PointStyle",
    "Segment",
    "TrendPoint",
    "bar_spec",
    "meta",
    "no_data_spec",
    "render_svg",
    "shares",
    "sparkline_spec",
    "stacked_spec",
    "trend_spec",
]
