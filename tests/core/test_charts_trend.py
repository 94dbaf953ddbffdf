"""The trend chart and the sparkline (itsm/core/charts.py): one point per period, a dashed
target at its height, highlighted breaches, styled points with a legend, a forecast with its
range, gaps in the line, round axis ticks, thinned labels, escaped text, deterministic output.

Positions are read from Vega's SVG: a point is a symbol translated to its centre, a rule a line
translated to its start (SVG's y grows downwards).
"""

from __future__ import annotations

import pytest
from django.utils import translation

from itsm.core.charts import (
    BREACH_COLOUR,
    DEFAULT_COLOUR,
    Forecast,
    PointStyle,
    TrendPoint,
    meta,
    render_svg,
    sparkline_spec,
    trend_spec,
)
from tests.core.test_charts import layers, marks, parse, position, size, texts

MONTHS = [f"2026-{month:02d}" for month in range(1, 13)]
STYLES = {
    "green": PointStyle("达标", "#198754", "circle"),
    "amber": PointStyle("接近目标", "#D39E00", "triangle-up"),
    "red": PointStyle("未达标", "#DC3545", "diamond"),
}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _points(svg: str) -> list[tuple[float, float]]:
    """The centres of the data points of the line (the first symbol layer)."""
    return [position(element) for element in layers(svg, "symbol")[0]]


def test_a_trend_is_a_labelled_svg_with_its_figures():
    spec = trend_spec([("2026-01", 1.5), ("2026-02", 2.5, True)], title="P1 resolution", target=2, unit=" h")
    svg = render_svg(spec)
    assert parse(svg).get("aria-label") == "P1 resolution"
    assert {"2026-01", "2026-02", "target: 2 h"} <= set(texts(svg))
    info = meta(spec)
    assert info["columns"] == ["Period", "Value"]
    assert info["rows"] == [["2026-01", "1.5 h"], ["2026-02", "2.5 h"]]
    assert info["notes"] == ["target: 2 h"]
    assert "<script" not in svg


def test_one_point_per_period_and_breaches_highlighted():
    points = [TrendPoint(month, 99.0 + index / 10, highlight=index in (2, 5)) for index, month in enumerate(MONTHS)]
    spec = trend_spec(points, title="Availability", target=99.5, unit=" %")
    svg = render_svg(spec)
    symbols = marks(svg, "symbol")
    assert len(symbols) == 12
    fills = [symbol.get("fill") for symbol in symbols]
    assert [index for index, fill in enumerate(fills) if fill == BREACH_COLOUR] == [2, 5]
    assert all(fill == DEFAULT_COLOUR for index, fill in enumerate(fills) if index not in (2, 5))
    # Not by colour alone: a breach is a larger diamond (Vega's diamond path has no arc).
    assert "A" not in symbols[2].get("d") and "A" in symbols[0].get("d")
    assert [row["size"] > 100 for row in spec["data"]["values"]].count(True) == 2


def test_later_points_with_higher_values_are_drawn_right_and_higher():
    xs, ys = zip(*_points(render_svg(trend_spec([("a", 1), ("b", 2), ("c", 3)], title="Rising"))), strict=True)
    assert list(xs) == sorted(xs)
    assert list(ys) == sorted(ys, reverse=True)


def test_the_target_line_is_dashed_labelled_and_at_the_targets_height():
    svg = render_svg(trend_spec([("a", 0), ("b", 4)], title="T", target=2, target_label="target: 2 h"))
    [rule] = marks(svg, "rule")
    assert rule.get("stroke-dasharray")
    assert "target: 2 h" in texts(svg)
    (_, low), (_, high) = _points(svg)
    assert position(rule)[1] == pytest.approx((low + high) / 2)


def test_the_axis_encloses_the_target_even_when_every_value_is_far_from_it():
    svg = render_svg(trend_spec([("a", 1), ("b", 1.2)], title="T", target=10))
    [rule] = marks(svg, "rule")
    tops = [y for _, y in _points(svg)]
    assert 0 <= position(rule)[1] < min(tops)  # the target is above every point, still in the plot


def test_axis_ticks_are_round_numbers():
    svg = render_svg(trend_spec([("a", 99.42), ("b", 99.87)], title="Availability", target=99.5))
    numbers = [float(text) for text in texts(svg) if text.replace(".", "").isdigit()]
    assert len(numbers) >= 3
    steps = {round(b - a, 6) for a, b in zip(numbers, numbers[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() in (0.1, 0.2, 0.25, 0.5)


def test_a_missing_month_breaks_the_line():
    spec = trend_spec([("a", 1), ("b", 2), ("c", None), ("d", 2), ("e", 3)], title="Gaps")
    svg = render_svg(spec)
    [line] = marks(svg, "line")
    assert line.get("d").count("M") == 2  # two runs
    assert len(marks(svg, "symbol")) == 4
    assert ["c", "no data"] in meta(spec)["rows"]


def test_labels_are_thinned_when_they_would_overlap():
    many = [(f"2026-{index:03d}", index) for index in range(40)]
    shown = [text for text in texts(render_svg(trend_spec(many, title="Many", width=320))) if text.startswith("2026-")]
    assert 1 < len(shown) < 40


def test_text_is_escaped():
    spec = trend_spec([("<b>&", 1, False, "<i>")], title='A "quoted" <title>', target_label="<x>", target=1)
    svg = render_svg(spec)
    assert parse(svg).get("aria-label") == 'A "quoted" <title>'
    assert "<b>" not in svg and "<i>" not in svg and "<x>" not in svg
    assert "<b>&" in texts(svg) and "<x>" in texts(svg)


def test_no_values_give_the_no_data_chart():
    for points in ([], [("a", None), ("b", None)]):
        svg = render_svg(trend_spec(points, title="Empty", target=2))
        assert texts(svg) == ["No data"]


def test_a_single_value_and_a_flat_line_still_draw():
    assert len(marks(render_svg(trend_spec([("a", 5)], title="One")), "symbol")) == 1
    assert len(marks(render_svg(trend_spec([("a", 0), ("b", 0)], title="Zero")), "symbol")) == 2


def test_output_is_deterministic():
    points = [TrendPoint(month, index * 1.5, highlight=index % 4 == 0) for index, month in enumerate(MONTHS)]
    assert trend_spec(points, title="Same", target=3) == trend_spec(points, title="Same", target=3)
    assert render_svg(trend_spec(points, title="Same", target=3)) == render_svg(
        trend_spec(points, title="Same", target=3)
    )


def test_styled_points_say_their_kind_by_colour_shape_and_word():
    kinds = ["green", "amber", "red", "green"]
    points = [
        TrendPoint(month, 90 + index, target=92, style=kind, href=f"/kpis/1/values/{index}/records/", cells=(kind,))
        for index, (month, kind) in enumerate(zip(MONTHS, kinds, strict=False))
    ]
    spec = trend_spec(points, title="投诉响应及时率", styles=STYLES, columns=["Status"])
    svg = render_svg(spec)
    symbols = layers(svg, "symbol")[0]
    assert [symbol.get("fill") for symbol in symbols] == ["#198754", "#D39E00", "#DC3545", "#198754"]
    assert len({symbol.get("d") for symbol in symbols}) == 3  # a shape per kind, too
    assert {"达标", "接近目标", "未达标"} <= set(texts(svg))  # the legend, in Chinese
    # The per-period target is a dashed line through the periods, not a rule.
    dashed = [line for line in marks(svg, "line") if line.get("stroke-dasharray")]
    assert len(dashed) == 1 and not marks(svg, "rule")
    # Each point drills down; the tooltip gives its row of the figures.
    assert [row["href"] for row in spec["data"]["values"]] == [point.href for point in points]
    tooltip = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")["encoding"]["tooltip"]
    assert [field["title"] for field in tooltip] == ["Period", "Value", "Status"]
    assert meta(spec)["links"] == [point.href for point in points]


def test_a_forecast_is_a_hollow_point_with_its_range():
    points = [TrendPoint(month, 90 + index) for index, month in enumerate(MONTHS[:6])]
    spec = trend_spec(points, title="T", forecast=Forecast("2026-07", 93, 91, 95, "projected 93 (91 – 95)"))
    svg = render_svg(spec)
    assert "2026-07" in texts(svg)
    hollow = layers(svg, "symbol")[-1]
    assert len(hollow) == 1 and hollow[0].get("fill") in (None, "none", "transparent")
    [bar] = marks(svg, "rule")
    assert position(bar)[0] == pytest.approx(position(hollow[0])[0])  # the range stands at the forecast
    assert meta(spec)["rows"][-1] == ["2026-07", "projected 93 (91 – 95)"]


def test_the_sparkline_is_small_without_axes_and_keeps_its_figures():
    points = [TrendPoint(month, 90 + index % 3, target=91, style="green") for index, month in enumerate(MONTHS[:8])]
    spec = sparkline_spec(points, title="Card", styles=STYLES)
    svg = render_svg(spec)
    width, height = size(svg)
    assert width <= 220 and height <= 60
    assert texts(svg) == []  # no axis, no legend
    assert len(marks(svg, "symbol")) == 8
    assert meta(spec)["compact"] is True
    assert [row[:2] for row in meta(spec)["rows"]][:2] == [["2026-01", "90"], ["2026-02", "91"]]
