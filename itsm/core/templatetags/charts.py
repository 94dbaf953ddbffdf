"""``{% chart spec %}``: draw a chart built by ``itsm.core.charts`` (templates/includes/chart.html).

The figure holds the static SVG (shown without JavaScript and in PDFs), the figures as a table
(the text alternative, in a ``<details>``; its first column links the rows that drill down)
and the spec as JSON, which static/js/charts.js draws interactively in its place. The Vega
scripts and the charts style sheet are written after the first chart of a page only, so pages
without a chart load none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django import template

from itsm.core.charts import meta, render_svg

register = template.Library()

# Set in the page's root render state once its first chart has written the scripts. The root
# dict is shared by every include and inclusion tag of one page render (they copy the
# render context, not its first dict).
LOADED = "itsm_chart_scripts_loaded"


@register.inclusion_tag("includes/chart.html", takes_context=True)
def chart(context: template.Context, spec: Mapping[str, Any] | None, caption: bool = True) -> dict[str, Any]:
    """``{% chart spec %}``; ``caption=False`` keeps the title for screen readers only (where a
    heading beside the chart already says it). Nothing for no spec."""
    if not spec:
        return {"spec": None}
    state = cast(dict[str, Any], context.render_context.dicts[0])
    first = not state.get(LOADED)
    state[LOADED] = True
    info = meta(spec)
    links = list(info["links"]) + [""] * (len(info["rows"]) - len(info["links"]))
    return {
        "spec": spec,
        "svg": render_svg(spec),
        "title": info["title"],
        "columns": info["columns"],
        "rows": list(zip(info["rows"], links, strict=False)),
        "notes": info["notes"],
        "compact": info["compact"],
        "caption": caption and not info["compact"],
        "load_scripts": first,
    }
