"""The charts: bar, stacked distribution, trend, sparkline and no-data specs (see the package)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from .base import (
    BAR_HEIGHT,
    BREACH_COLOUR,
    DEFAULT_COLOUR,
    HIGHLIGHT_SIZE,
    MIN_WIDTH,
    MUTED_COLOUR,
    PAD,
    PALETTE,
    POINT_SIZE,
    ROW_HEIGHT,
    STACK_HEIGHT,
    TARGET_COLOUR,
    TRACK_COLOUR,
    Bar,
    Forecast,
    PointStyle,
    Segment,
    TrendPoint,
    _cells,
    _colour,
    _contrast,
    _float,
    _href,
    _num,
    _pointer,
    _shape,
    _spec,
    _tooltip,
    shares,
    text_width,
)

# --- the charts ------------------------------------------------------------------------------


def no_data_spec(title: str, *, width: int = 480, message: str | None = None) -> dict[str, Any]:
    """A small chart saying there is nothing to draw (``message``: "No data" by default)."""
    width = max(MIN_WIDTH, int(width))
    message = _("No data") if message is None else message
    return _spec(
        title=title,
        width=width,
        columns=[],
        rows=[],
        notes=[message],
        height=ROW_HEIGHT,
        data={"values": [{"text": str(message)}]},
        layer=[
            {
                "mark": {"type": "rect", "fill": None, "stroke": "#CED4DA", "strokeDash": [4, 3]},
                "encoding": {
                    "x": {"value": 0},
                    "x2": {"value": "width"},
                    "y": {"value": 0},
                    "y2": {"value": "height"},
                },
            },
            {
                "mark": {"type": "text", "color": MUTED_COLOUR},
                "encoding": {"text": {"field": "text", "type": "nominal"}},
            },
        ],
    )


def _as_bar(item: Bar | tuple) -> Bar:
    return item if isinstance(item, Bar) else Bar(*item)


def _as_segment(item: Segment | tuple) -> Segment:
    return item if isinstance(item, Segment) else Segment(*item)


def _as_point(item: TrendPoint | tuple) -> TrendPoint:
    return item if isinstance(item, TrendPoint) else TrendPoint(*item)


def bar_spec(
    bars: Sequence[Bar | tuple],
    *,
    title: str,
    max_value: float | None = None,
    width: int = 480,
    colour: str = DEFAULT_COLOUR,
    value_labels: bool = True,
    unit: str = "",
    label_title: str | None = None,
    value_title: str | None = None,
) -> dict[str, Any]:
    """Horizontal bars, one row per ``bars`` item (``Bar`` or ``(label, value[, colour[, value_label]])``).

    The scale runs from 0 to ``max_value`` (the largest value when None); a value beyond it is
    drawn at full length, a negative one as zero. ``width`` is the chart's width in px (a label
    longer than 40 % of it is cut with "…", whole in the tooltip and the table); the height
    follows from the number of bars. ``value_labels`` writes each value (plus ``unit``) after
    its bar, or the bar's own ``value_label``. No bars → the "no data" chart.
    """
    items = [_as_bar(item) for item in bars]
    width = max(MIN_WIDTH, int(width))
    if not items:
        return no_data_spec(title, width=width)
    values = [max(0.0, float(item.value)) for item in items]
    scale = float(max_value) if max_value is not None and max_value > 0 else max(values)
    scale = scale or 1.0  # every bar zero: an empty track
    columns = [label_title or _("Item"), value_title or _("Value")]
    table, links, data = [], [], []
    for index, (item, value) in enumerate(zip(items, values, strict=True)):
        text = item.value_label if item.value_label is not None else f"{_num(value)}{unit}"
        row = [item.label, text]
        table.append(row)
        links.append(_href(item.href))
        data.append(
            {
                "row": index,
                "label": str(item.label),
                "value": min(value, scale),
                "track": scale,
                "text": str(text) if value_labels else "",
                "fill": _colour(item.colour, _colour(colour, DEFAULT_COLOUR)),
                "href": links[-1],
                **_cells(row),
            }
        )
    tooltip = _tooltip(columns)
    x = {"type": "quantitative", "scale": {"domain": [0, scale]}, "axis": None}
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "bar", "height": BAR_HEIGHT, "color": TRACK_COLOUR, **_pointer(links)},
            "encoding": {"x": {"field": "track", **x}, "tooltip": tooltip},
        },
        {
            "mark": {"type": "bar", "height": BAR_HEIGHT, **_pointer(links)},
            "encoding": {
                "x": {"field": "value", **x},
                "color": {"field": "fill", "type": "nominal", "scale": None},
                "tooltip": tooltip,
            },
        },
        {
            "mark": {"type": "text", "align": "right", "dx": -PAD, "limit": int(width * 0.4)},
            "encoding": {
                "x": {"datum": 0, "type": "quantitative", "axis": None},
                "text": {"field": "label", "type": "nominal"},
            },
        },
    ]
    if value_labels:
        layers.append(
            {
                "mark": {"type": "text", "align": "left", "dx": PAD},
                "encoding": {"x": {"field": "track", **x}, "text": {"field": "text", "type": "nominal"}},
            }
        )
    return _spec(
        title=title,
        width=width,
        columns=columns,
        rows=table,
        links=links,
        height=ROW_HEIGHT * len(items),
        data={"values": data},
        encoding={"y": {"field": "row", "type": "ordinal", "axis": None}},
        layer=layers,
    )


def stacked_spec(
    segments: Sequence[Segment | tuple],
    *,
    title: str,
    width: int = 480,
    colours: Sequence[str] = PALETTE,
    legend: bool = True,
    label_title: str | None = None,
) -> dict[str, Any]:
    """One 100 % bar split into ``segments`` (``Segment`` or ``(label, value[, colour])``), in order.

    A segment's share is written inside it when it fits; the legend below lists every segment,
    zero ones included, as "label: count (share %)" (whole shares adding up to exactly 100). A
    segment without a colour takes the next of ``colours``. A total of zero (or no segments)
    → the "no data" chart.
    """
    items = [_as_segment(item) for item in segments]
    width = max(MIN_WIDTH, int(width))
    values = [max(0.0, float(item.value)) for item in items]
    total = sum(values)
    if not items or total <= 0:
        return no_data_spec(title, width=width)
    fills = [_colour(item.colour, colours[i % len(colours)]) for i, item in enumerate(items)]
    # Whole percentages that add up to 100 (13 + 33 + 55 would read as 101 %).
    percents = [_num(share, 0) for share in shares(values)]
    columns = [label_title or _("Answer"), _("Count"), _("Share")]
    table, links, data, entries = [], [], [], []
    start = 0.0
    for item, value, fill, percent in zip(items, values, fills, percents, strict=True):
        share = f"{percent} %"
        entry = f"{item.label}: {_num(value)} ({share})"
        row = [item.label, _num(value), share]
        table.append(row)
        links.append(_href(item.href))
        entries.append(entry)
        part = width * value / total
        data.append(
            {
                "start": start / total,
                "end": (start + value) / total,
                "mid": (start + value / 2) / total,
                "entry": entry,
                "inside": share if value > 0 and text_width(share) + 2 * PAD <= part else "",
                "ink": _contrast(fill),
                "href": links[-1],
                **_cells(row),
            }
        )
        start += value
    widest = max(text_width(entry) for entry in entries) + 30
    x = {"type": "quantitative", "scale": {"domain": [0, 1]}, "axis": None}
    colour: dict[str, Any] = {"field": "entry", "type": "nominal", "scale": {"domain": entries, "range": fills}}
    colour["legend"] = (
        {
            "orient": "bottom",
            "columns": max(1, min(len(entries), int(width // widest))),
            "symbolType": "square",
            "labelLimit": width - 30,
        }
        if legend
        else None
    )
    return _spec(
        title=title,
        width=width,
        columns=columns,
        rows=table,
        links=links,
        height=STACK_HEIGHT,
        data={"values": data},
        layer=[
            {
                "mark": {"type": "bar", **_pointer(links)},
                "encoding": {
                    "x": {"field": "start", **x},
                    "x2": {"field": "end"},
                    "color": colour,
                    "tooltip": _tooltip(columns),
                },
            },
            {
                "mark": {"type": "text"},
                "encoding": {
                    "x": {"field": "mid", **x},
                    "text": {"field": "inside", "type": "nominal"},
                    "color": {"field": "ink", "type": "nominal", "scale": None},
                },
            },
        ],
    )


def trend_spec(
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
    styles: Mapping[str, PointStyle] | None = None,
    columns: Sequence[str] = (),
    forecast: Forecast | None = None,
    period_title: str | None = None,
    value_title: str | None = None,
    axis_title: str | None = None,
    compact: bool = False,
) -> dict[str, Any]:
    """A line over periods (``TrendPoint`` or ``(label, value[, highlight[, value_label]])``), in
    order, with an optional dashed ``target`` line labelled ``target_label`` (or "target:
    <value><unit>"); points with their own ``target`` draw a dashed line through them instead.

    Highlighted points (breaches) are drawn larger, as diamonds, in ``highlight_colour``; with
    ``styles`` each point takes its style's colour and shape and a legend names them. A point
    without a value breaks the line. The value axis has round ticks enclosing every value and
    the target (``min_value`` / ``max_value`` fix its ends); period labels are thinned out when
    they would overlap; ``axis_title`` names the value axis (its unit). The figures table has
    the period, the value and the point's ``cells`` under ``columns``; a ``forecast`` adds its
    row. ``compact`` leaves out the axes, the legend and the target's label (a sparkline). No
    value at all (and no forecast) → the "no data" chart.
    """
    items = [_as_point(item) for item in points]
    width = max(60 if compact else MIN_WIDTH, int(width))
    if not any(item.value is not None for item in items) and forecast is None:
        return no_data_spec(title, width=width)
    styles = styles or {}
    line = _colour(colour, DEFAULT_COLOUR)
    breach = _colour(highlight_colour, BREACH_COLOUR)
    all_columns = [period_title or _("Period"), value_title or _("Value"), *columns]
    table, links, data = [], [], []
    for item in items:
        shown = (
            (item.value_label if item.value_label is not None else f"{_num(float(item.value))}{unit}")
            if item.value is not None
            else _("no data")
        )
        row = [item.label, shown, *item.cells]
        row += [""] * (len(all_columns) - len(row))
        table.append(row)
        links.append(_href(item.href))
        style = styles.get(item.style or "")
        data.append(
            {
                "label": str(item.label),
                "value": _float(item.value),
                "target": _float(item.target),
                "fill": style.colour if style else (breach if item.highlight else line),
                "shape": _shape(style.shape) if style else ("diamond" if item.highlight else "circle"),
                "size": HIGHLIGHT_SIZE if item.highlight else POINT_SIZE,
                "style": style.label if style else "",
                "href": links[-1],
                **_cells(row),
            }
        )
    labels = [str(item.label) for item in items]
    if forecast is not None and forecast.label not in labels:
        labels.append(str(forecast.label))
    notes = []
    if target is not None:
        notes.append(
            target_label
            if target_label is not None
            else _("target: %(value)s") % {"value": f"{_num(float(target))}{unit}"}
        )
    # A few pixels' room above and below, so a value or target at the end of the range is not drawn
    # on the axis itself.
    y_scale: dict[str, Any] = {"zero": False, "padding": 3 if compact else 10}
    if min_value is not None:
        y_scale["domainMin"] = float(min_value)
    if max_value is not None:
        y_scale["domainMax"] = float(max_value)
    x: dict[str, Any] = {"field": "label", "type": "ordinal", "scale": {"domain": labels}}
    y: dict[str, Any] = {"field": "value", "type": "quantitative", "scale": y_scale}
    if compact:
        x["axis"] = y["axis"] = None
    else:
        x["axis"] = {
            "title": None,
            "labelAngle": 0,
            "labelOverlap": "parity",
            "labelSeparation": 8,
            "labelLimit": 120,
            "ticks": False,
        }
        y["axis"] = {"title": str(axis_title) if axis_title else None, "tickCount": 5, "labelPadding": PAD}
    layers: list[dict[str, Any]] = []
    if any(item.target is not None for item in items):
        layers.append(
            {
                "mark": {"type": "line", "color": TARGET_COLOUR, "strokeDash": [6, 4], "strokeWidth": 1.5},
                "encoding": {"x": x, "y": {**y, "field": "target"}},
            }
        )
    if target is not None:
        layers.append(
            {
                "data": {"values": [{"target": float(target), "text": notes[0]}]},
                "layer": [
                    {
                        "mark": {"type": "rule", "color": TARGET_COLOUR, "strokeDash": [6, 4], "strokeWidth": 1.5},
                        "encoding": {"y": {**y, "field": "target"}, "tooltip": {"field": "text", "type": "nominal"}},
                    },
                    *(
                        []
                        if compact
                        else [
                            {
                                "mark": {"type": "text", "align": "right", "baseline": "bottom", "dy": -2},
                                "encoding": {
                                    "x": {"value": "width"},
                                    "y": {**y, "field": "target"},
                                    "text": {"field": "text", "type": "nominal"},
                                },
                            }
                        ]
                    ),
                ],
            }
        )
    layers.append(
        {
            "mark": {"type": "line", "color": line, "strokeWidth": 2, "invalid": "break-paths-show-domains"},
            "encoding": {"x": x, "y": y},
        }
    )
    point: dict[str, Any] = {
        "mark": {"type": "point", "filled": True, "opacity": 1, "stroke": "white", "strokeWidth": 1, **_pointer(links)},
        "encoding": {
            "x": x,
            "y": y,
            "size": {"field": "size", "type": "quantitative", "scale": None},
            "tooltip": _tooltip(all_columns),
        },
    }
    if styles:
        # Colour and shape both say the status, in one legend of its words.
        kinds = list(styles.values())
        domain = [kind.label for kind in kinds]
        legend = None if compact else {"orient": "bottom", "direction": "horizontal"}
        point["encoding"]["color"] = {
            "field": "style",
            "type": "nominal",
            "scale": {"domain": domain, "range": [_colour(kind.colour, line) for kind in kinds]},
            "legend": legend,
        }
        point["encoding"]["shape"] = {
            "field": "style",
            "type": "nominal",
            "scale": {"domain": domain, "range": [_shape(kind.shape) for kind in kinds]},
            "legend": legend,
        }
    else:
        point["encoding"]["color"] = {"field": "fill", "type": "nominal", "scale": None}
        point["encoding"]["shape"] = {"field": "shape", "type": "nominal", "scale": None}
    layers.append(point)
    if forecast is not None:
        row = [forecast.label, forecast.text or _num(forecast.value)]
        table.append(row + [""] * (len(all_columns) - len(row)))
        links.append("")
        low = forecast.value if forecast.low is None else float(forecast.low)
        high = forecast.value if forecast.high is None else float(forecast.high)
        values = {"label": str(forecast.label), "value": float(forecast.value), "low": low, "high": high}
        tip = _tooltip(all_columns[:2])
        layers.append(
            {
                "data": {"values": [{**values, **_cells(row)}]},
                "layer": [
                    {
                        "mark": {"type": "rule", "color": line, "strokeWidth": 1.5},
                        "encoding": {"x": x, "y": {**y, "field": "low"}, "y2": {"field": "high"}, "tooltip": tip},
                    },
                    {
                        "mark": {
                            "type": "point",
                            "shape": "circle",
                            "filled": False,
                            "color": line,
                            "size": 70,
                            "strokeWidth": 2,
                        },
                        "encoding": {"x": x, "y": y, "tooltip": tip},
                    },
                ],
            }
        )
    body: dict[str, Any] = {"height": height, "data": {"values": data}, "layer": layers}
    if compact:
        body["padding"] = 3
    return _spec(
        title=title, width=width, columns=all_columns, rows=table, links=links, notes=notes, compact=compact, **body
    )


def sparkline_spec(
    points: Sequence[TrendPoint | tuple],
    *,
    title: str,
    target: float | None = None,
    unit: str = "",
    width: int = 200,
    height: int = 36,
    colour: str = DEFAULT_COLOUR,
    styles: Mapping[str, PointStyle] | None = None,
    columns: Sequence[str] = (),
) -> dict[str, Any]:
    """A small trend without axes or legend (a dashboard card): the line, its points (styled
    as in ``trend_spec``), the dashed target; the title (visually hidden: the card names the
    KPI) and the figures table stay beside it."""
    return trend_spec(
        points,
        title=title,
        target=target,
        unit=unit,
        width=width,
        height=height,
        colour=colour,
        styles=styles,
        columns=columns,
        compact=True,
    )
