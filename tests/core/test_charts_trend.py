"""The trend chart: well-formed and accessible, a target line, highlighted breaches, gaps in
the line, round axis ticks, escaped labels, deterministic output."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.utils import translation
from django.utils.safestring import SafeString

from itsm.core.charts import BREACH_COLOUR, DEFAULT_COLOUR, TrendPoint, trend_chart

NS = "{http://www.w3.org/2000/svg}"
MONTHS = [f"2026-{month:02d}" for month in range(1, 13)]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it is well-formed


def _circles(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{NS}circle"))


def test_trend_chart_is_a_self_contained_accessible_svg():
    svg = trend_chart([("2026-01", 1.5), ("2026-02", 2.5, True)], title="P1 resolution", target=2, unit=" h")
    assert isinstance(svg, SafeString)
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "P1 resolution"
    assert root.find(f"{NS}title").text == "P1 resolution"
    assert root.find(f"{NS}desc").text == "2026-01: 1.5 h; 2026-02: 2.5 h; target: 2 h"
    assert "<script" not in svg


def test_one_point_per_period_and_breaches_highlighted():
    points = [TrendPoint(month, 99.0 + index / 10, highlight=index in (2, 5)) for index, month in enumerate(MONTHS)]
    root = _parse(trend_chart(points, title="Availability", target=99.5, unit=" %"))
    circles = _circles(root)
    assert len(circles) == 12
    fills = [circle.get("fill") for circle in circles]
    assert [index for index, fill in enumerate(fills) if fill == BREACH_COLOUR] == [2, 5]
    assert all(fill == DEFAULT_COLOUR for index, fill in enumerate(fills) if index not in (2, 5))
    highlighted = [group for group in root.iter(f"{NS}g") if group.get("data-role") == "highlight"]
    assert len(highlighted) == 2
    assert float(circles[2].get("r")) > float(circles[0].get("r"))


def test_later_points_with_higher_values_are_drawn_right_and_higher():
    root = _parse(trend_chart([("a", 1), ("b", 2), ("c", 3)], title="Rising"))
    xs = [float(circle.get("cx")) for circle in _circles(root)]
    ys = [float(circle.get("cy")) for circle in _circles(root)]
    assert xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)  # SVG's y grows downwards


def test_target_line_is_dashed_labelled_and_at_the_targets_height():
    root = _parse(trend_chart([("a", 0), ("b", 4)], title="T", target=2, target_label="target: 2 h"))
    [group] = [g for g in root.iter(f"{NS}g") if g.get("data-role") == "target"]
    line = group.find(f"{NS}line")
    assert line.get("stroke-dasharray")
    assert group.find(f"{NS}title").text == "target: 2 h"
    low, high = (float(c.get("cy")) for c in _circles(root))
    assert float(line.get("y1")) == pytest.approx((low + high) / 2)


def test_the_axis_encloses_the_target_even_when_every_value_is_far_from_it():
    root = _parse(trend_chart([("a", 1), ("b", 1.2)], title="T", target=10))
    line = next(g for g in root.iter(f"{NS}g") if g.get("data-role") == "target").find(f"{NS}line")
    tops = [float(c.get("cy")) for c in _circles(root)]
    assert float(line.get("y1")) < min(tops)  # the target is above every point, still in the plot
    assert float(line.get("y1")) > 0


def test_axis_ticks_are_round_numbers():
    root = _parse(trend_chart([("a", 99.42), ("b", 99.87)], title="Availability", target=99.5))
    ticks = [text.text for text in root.iter(f"{NS}text") if text.get("text-anchor") == "end"]
    numbers = [float(tick) for tick in ticks if tick.replace(".", "").isdigit()]
    assert len(numbers) >= 3
    steps = {round(b - a, 6) for a, b in zip(numbers, numbers[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() in (0.1, 0.2, 0.25, 0.5)


def test_a_missing_month_breaks_the_line():
    points = [("a", 1), ("b", 2), ("c", None), ("d", 2), ("e", 3)]
    root = _parse(trend_chart(points, title="Gaps"))
    assert len(list(root.iter(f"{NS}polyline"))) == 2
    assert len(_circles(root)) == 4
    assert "c: no data" in root.find(f"{NS}desc").text


def test_labels_are_thinned_when_they_would_overlap():
    many = [(f"2026-{index:03d}", index) for index in range(40)]
    root = _parse(trend_chart(many, title="Many", width=320))
    labels = [text.text for text in root.iter(f"{NS}text") if text.get("text-anchor") == "middle"]
    assert 1 < len(labels) < 40


def test_text_is_escaped():
    svg = trend_chart([("<b>&", 1, False, "<i>")], title='A "quoted" <title>', target_label="<x>", target=1)
    root = _parse(svg)
    assert root.get("aria-label") == 'A "quoted" <title>'
    assert "<b>" not in svg and "<i>" not in svg and "<x>" not in svg


def test_no_values_give_the_no_data_chart():
    for points in ([], [("a", None), ("b", None)]):
        root = _parse(trend_chart(points, title="Empty", target=2))
        assert root.find(f"{NS}desc").text == "No data"


def test_a_single_value_and_a_flat_line_still_draw():
    assert len(_circles(_parse(trend_chart([("a", 5)], title="One")))) == 1
    assert len(_circles(_parse(trend_chart([("a", 0), ("b", 0)], title="Zero")))) == 2


def test_output_is_deterministic():
    points = [TrendPoint(month, index * 1.5, highlight=index % 4 == 0) for index, month in enumerate(MONTHS)]
    assert trend_chart(points, title="Same", target=3) == trend_chart(points, title="Same", target=3)
