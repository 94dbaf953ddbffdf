"""A spec drawn as a static SVG by vl-convert, once per process (see the package)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .base import (
    STATIC_FONT,
    VEGA_LITE_VERSION,
    meta,
)

# --- rendering -------------------------------------------------------------------------------


def spec_key(spec: Mapping[str, Any]) -> str:
    """The spec as canonical JSON: the cache key, and what vl-convert is given."""
    return json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


_ROOT = re.compile(r"<svg\b([^>]*)>")
_IDS = re.compile(r'\bid="([^"]+)"')
_FONTS = re.compile(r'font-family="[^"]*"')


@lru_cache(maxsize=512)
def _render(key: str, label: str) -> str:
    import vl_convert

    svg = vl_convert.vegalite_to_svg(key, vl_version=VEGA_LITE_VERSION)
    # Several charts share a page: any id Vega wrote (a clip path) is made unique to this spec.
    if _IDS.search(svg):
        prefix = "c" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:10] + "-"
        svg = _IDS.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
        svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = _FONTS.sub(f'font-family="{escape(STATIC_FONT)}"', svg)
    # No inline style: WeasyPrint gives an inline SVG styled "height: auto" a page-high box. Pages
    # scale it down to their width with the charts style sheet (static/css/charts.css).
    attributes = f' role="img" aria-label="{escape(label)}"'
    return _ROOT.sub(lambda m: f"<svg{m.group(1)}{attributes}>", svg, count=1)


def render_svg(spec: Mapping[str, Any]) -> SafeString:
    """The chart as one static ``<svg>`` (``role="img"``, labelled with its title), rendered by
    vl-convert once per distinct spec in this process (cached by the spec's JSON: the first
    chart of a process takes about half a second while the renderer starts, a later one
    20–60 ms plus about 15 ms for each Chinese label it measures, a repeated one under a
    millisecond). Raises ``ValueError`` for a spec Vega-Lite refuses."""
    return mark_safe(_render(spec_key(spec), meta(spec)["title"]))  # noqa: S308 - vl-convert escapes every text
