"""The SVG chart helper: well-formed, accessible, escaped, deterministic, scaled to its width."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation
from django.utils.safestring import SafeString

from itsm.core import charts
from itsm.core.charts import Bar, Segment, bar_chart, no_data_chart, stacked_bar

NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _english():
    """These tests read the English messages."""
    with translation.override("en"):
        yield


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it is well-formed


def _rects(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{NS}rect")]


def _bars(root: ET.Element, colour: str) -> list[float]:
    return [float(r.get("width")) for r in _rects(root) if r.get("fill") == colour]


def test_bar_chart_is_a_self_contained_accessible_svg():
    svg = bar_chart([("Speed", 3), ("Attitude", 6)], title="Ratings")
    assert isinstance(svg, SafeString)
    root = _parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Ratings"
    assert re.fullmatch(r"0 0 \d+(\.\d+)? \d+(\.\d+)?", root.get("viewBox"))
    assert root.find(f"{NS}title").text == "Ratings"
    assert root.find(f"{NS}desc").text == "Speed: 3; Attitude: 6"
    assert "<script" not in svg and "href" not in svg and "@import" not in svg and "url(" not in svg
    # The larger value fills the track; the smaller half of it.
    lengths = _bars(root, charts.DEFAULT_COLOUR)
    assert len(lengths) == 2
    assert lengths[0] * 2 == lengths[1]


def test_labels_are_escaped():
    evil = '<script>alert("x")</script> & co'
    svg = bar_chart([Bar(evil, 1)], title=evil, width=800)
    assert "<script>" not in svg
    root = _parse(svg)  # still well-formed XML
    assert root.get("aria-label") == evil
    assert root.find(f"{NS}title").text == evil
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert evil in texts
    stacked = stacked_bar([Segment(evil, 2), Segment("b", 1)], title=evil)
    assert "<script>" not in stacked
    assert _parse(stacked).find(f"{NS}desc").text.startswith(evil)


def test_unsafe_colours_are_replaced_by_the_default():
    svg = bar_chart([Bar("a", 1, colour='red" onload="alert(1)')], title="t")
    assert "onload" not in svg
    assert _bars(_parse(svg), charts.DEFAULT_COLOUR)


def test_zero_values_draw_no_bar_but_keep_their_row_and_label():
    root = _parse(bar_chart([("none", 0), ("some", 4)], title="t"))
    assert _bars(root, charts.DEFAULT_COLOUR) and len(_bars(root, charts.DEFAULT_COLOUR)) == 1
    assert [t.text for t in root.iter(f"{NS}text")] == ["none", "0", "some", "4"]
    all_zero = _parse(bar_chart([("a", 0), ("b", 0)], title="t"))
    assert _bars(all_zero, charts.DEFAULT_COLOUR) == []


def test_max_value_fixes_the_scale_and_clamps():
    root = _parse(bar_chart([("half", 50), ("over", 150)], title="t", max_value=100, unit=" %"))
    track = float(next(r.get("width") for r in _rects(root) if r.get("fill") == charts.TRACK_COLOUR))
    half, over = _bars(root, charts.DEFAULT_COLOUR)
    assert half == round(track / 2, 2)
    assert over == track
    assert "50 %" in [t.text for t in root.iter(f"{NS}text")]


def test_highlight_colour_per_bar():
    root = _parse(bar_chart([Bar("a", 1), Bar("b", 2, colour="#B2182B")], title="t"))
    assert len(_bars(root, "#B2182B")) == 1
    assert len(_bars(root, charts.DEFAULT_COLOUR)) == 1


def test_width_scales_the_chart_and_its_bars():
    narrow = _parse(bar_chart([("a", 1), ("b", 2)], title="t", width=300))
    wide = _parse(bar_chart([("a", 1), ("b", 2)], title="t", width=600))
    assert narrow.get("viewBox").split()[2] == "300"
    assert wide.get("viewBox").split()[2] == "600"
    assert narrow.get("viewBox").split()[3] == wide.get("viewBox").split()[3]  # height follows the rows
    assert max(_bars(wide, charts.DEFAULT_COLOUR)) - max(_bars(narrow, charts.DEFAULT_COLOUR)) == 300
    # More rows, taller chart.
    taller = _parse(bar_chart([("a", 1), ("b", 2), ("c", 3)], title="t", width=300))
    assert float(taller.get("height")) > float(narrow.get("height"))


def test_long_labels_are_cut_but_kept_whole_in_the_tooltip():
    label = "A very long option label that would push the bars off the chart entirely"
    root = _parse(bar_chart([(label, 1)], title="t", width=300))
    shown = next(root.iter(f"{NS}text")).text
    assert shown.endswith("…") and len(shown) < len(label)
    assert root.find(f"{NS}g/{NS}title").text == f"{label}: 1"


def test_empty_input_gives_a_small_no_data_chart():
    for svg in (
        bar_chart([], title="Nothing"),
        stacked_bar([], title="Nothing"),
        stacked_bar([("a", 0)], title="Nothing"),
    ):
        root = _parse(svg)
        assert root.get("role") == "img"
        assert root.find(f"{NS}title").text == "Nothing"
        assert [t.text for t in root.iter(f"{NS}text")] == ["No data"]
        assert float(root.get("height")) < 40
    assert stacked_bar([], title="Nothing") == no_data_chart("Nothing")
    assert "No answers yet" in no_data_chart("t", message="No answers yet")


def test_stacked_bar_splits_the_full_width_and_lists_every_segment():
    segments = [Segment(str(v), n) for v, n in zip(range(1, 6), [1, 0, 2, 5, 2], strict=True)]
    svg = stacked_bar(segments, title="Rating", width=500, colours=charts.RATING_COLOURS)
    root = _parse(svg)
    bar = [r for r in _rects(root) if r.get("height") == str(charts.STACK_HEIGHT)]
    assert len(bar) == 4  # the zero segment takes no room
    assert sum(float(r.get("width")) for r in bar) == 500
    assert [float(r.get("width")) for r in bar] == [50, 100, 250, 100]
    assert [r.get("fill") for r in bar] == ["#B2182B", "#BDBDBD", "#67A9CF", "#2166AC"]
    legend = [t.text for t in root.iter(f"{NS}text") if ":" in (t.text or "")]
    assert legend == ["1: 1 (10 %)", "2: 0 (0 %)", "3: 2 (20 %)", "4: 5 (50 %)", "5: 2 (20 %)"]
    # Shares written inside the segments wide enough to hold them, in a contrasting colour.
    inside = {t.text: t.get("fill") for t in root.iter(f"{NS}text") if t.get("text-anchor") == "middle"}
    assert inside == {"10 %": "#FFFFFF", "20 %": "#FFFFFF", "50 %": "#212529"}


def test_legend_wraps_to_the_width():
    segments = [(f"Answer number {n}", 1) for n in range(8)]
    narrow = _parse(stacked_bar(segments, title="t", width=300))
    wide = _parse(stacked_bar(segments, title="t", width=1200))
    assert float(narrow.get("height")) > float(wide.get("height"))


def test_output_is_deterministic():
    args = ([("a", 1.25), ("b", 2)],)
    assert bar_chart(*args, title="t") == bar_chart(*args, title="t")
    assert stacked_bar([("x", 1), ("y", 3)], title="t") == stacked_bar([("x", 1), ("y", 3)], title="t")
    expected = (
        '<svg xmlns="http://www.w3.org/2000/svg" class="itsm-chart" viewBox="0 0 200 26" width="200" height="26" '
        'role="img" aria-label="One" font-family="sans-serif" font-size="12" style="max-width:100%;height:auto">'
        "<title>One</title><desc>a: 2</desc><g><title>a: 2</title>"
        '<text x="11" y="17.2" fill="#212529" text-anchor="end">a</text>'
        '<rect x="15" y="6" width="170" height="14" fill="#F1F3F5"/>'
        '<rect x="15" y="6" width="170" height="14" fill="#0072B2"/>'
        '<text x="189" y="17.2" fill="#212529">2</text></g></svg>'
    )
    assert bar_chart([("a", 2)], title="One", width=200) == expected


def test_wide_characters_take_more_room():
    latin = _parse(bar_chart([("abcd", 1)], title="t"))
    chinese = _parse(bar_chart([("满意程度", 1)], title="t"))
    track_x = lambda root: float(_rects(root)[0].get("x"))  # noqa: E731
    assert track_x(chinese) > track_x(latin)


def test_weasyprint_renders_the_charts():
    # The PDF review packs embed these charts; WeasyPrint must take them as they are.
    import weasyprint

    html = (
        "<html><body>"
        + bar_chart([("Alpha", 66.7, None, "66.7 %"), ("Beta", 50)], title="By organisation", max_value=100)
        + stacked_bar([("1", 1), ("2", 0), ("5", 3)], title="Rating", colours=charts.RATING_COLOURS)
        + no_data_chart("Nothing")
        + "</body></html>"
    )
    assert weasyprint.HTML(string=html).write_pdf().startswith(b"%PDF")


def test_shares_always_add_up_to_exactly_100():
    """Rounding each part half up made 1 / 1 / 4 read 17 + 17 + 67 = 101 % and 1 / 1 / 1 read
    33 × 3 = 99 %; the largest remainder method always gives 100."""
    from itsm.core.charts import shares

    for values in (
        [1, 1, 1],
        [1, 3, 5],
        [2, 4, 9],
        [13, 33, 55],
        [1, 0, 0, 2],
        [7, 7, 7, 7, 7, 7],
        [3, 3, 3, 3, 3, 3, 3],
    ):
        parts = shares(values)
        assert sum(parts) == 100, values
        for part, value in zip(parts, values, strict=True):
            assert abs(part - 100 * value / sum(values)) < 1  # each within a unit of its exact share
    assert shares([1, 1, 1], digits=1) == [33.4, 33.3, 33.3]
    assert shares([1, 1, 1]) == [34.0, 33.0, 33.0]
    assert shares([0, 0]) == [0.0, 0.0] and shares([]) == []


def test_the_stacked_bar_labels_add_up_to_100():
    import re

    from itsm.core.charts import stacked_bar

    svg = str(stacked_bar([("a", 1), ("b", 1), ("c", 1)], title="t"))
    legend = [int(n) for n in re.findall(r"\((\d+) %\)</text>", svg)]
    assert sum(legend) == 100, legend
