"""The charts (itsm/core/charts.py): Vega-Lite specs rendered to a static SVG by vl-convert —
well-formed, labelled, escaped, deterministic, cached, sized to their width, Chinese included
(in the SVG and in a WeasyPrint PDF) — and the ``{% chart %}`` tag around them.

The SVG is Vega's: the tests read the labels and figures it holds and the positions of its
marks, not its exact text.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zlib

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import SafeString

from itsm.core import charts
from itsm.core.charts import Bar, Segment, bar_spec, meta, no_data_spec, render_svg, shares, stacked_spec

NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _english():
    """These tests read the English messages."""
    with translation.override("en"):
        yield


# --- reading the SVG (shared with the trend and KPI chart tests) -------------------------------


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it is well-formed


def texts(svg: str) -> list[str]:
    """Every text the SVG shows (Vega hides a label thinned out by overlap with opacity 0)."""
    return [t.text or "" for t in parse(svg).iter(f"{NS}text") if t.get("opacity") != "0"]


def layers(svg: str, kind: str) -> list[list[ET.Element]]:
    """The elements of each layer of data marks of one ``kind`` ("symbol", "rule", "line",
    "rect", "text"), in drawing order, not those of the axes and legends."""
    found = []
    for group in parse(svg).iter(f"{NS}g"):
        classes = (group.get("class") or "").split()
        if f"mark-{kind}" in classes and "role-mark" in classes:
            found.append([child for child in group if child.tag != f"{NS}title"])
    return found


def marks(svg: str, kind: str) -> list[ET.Element]:
    return [element for layer in layers(svg, kind) for element in layer]


def bar_lengths(elements: list[ET.Element]) -> list[float]:
    """The lengths of horizontal bars (Vega draws a bar as a path "M x,y h length v height …")."""
    return [float(re.search(r"h(-?[\d.]+)", element.get("d")).group(1)) for element in elements]


def position(element: ET.Element) -> tuple[float, float]:
    x, y = re.fullmatch(r"translate\(([-\d.e]+),([-\d.e]+)\)", element.get("transform")).groups()
    return float(x), float(y)


def size(svg: str) -> tuple[float, float]:
    root = parse(svg)
    return float(root.get("width")), float(root.get("height"))


def left_offset(svg: str) -> float:
    """Where the plot starts: room left of it for the labels."""
    return float(re.search(r'transform="translate\(([-\d.]+),', svg).group(1))


# --- the static SVG ----------------------------------------------------------------------------


def test_a_chart_is_a_labelled_self_contained_svg():
    spec = bar_spec([("Speed", 3), ("Attitude", 6)], title="Ratings")
    assert spec["$schema"].endswith("vega-lite/v6.json")
    svg = render_svg(spec)
    assert isinstance(svg, SafeString)
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Ratings"
    assert re.fullmatch(r"0 0 \d+(\.\d+)? \d+(\.\d+)?", root.get("viewBox"))
    assert "<script" not in svg and "href" not in svg and "@import" not in svg and "url(" not in svg
    assert "style=" not in svg.split(">", 1)[0]  # WeasyPrint makes an SVG styled "height: auto" page-high
    assert {"Speed", "Attitude", "3", "6"} <= set(texts(svg))
    # The figures, for the table beside the chart and the tooltips.
    assert meta(spec)["rows"] == [["Speed", "3"], ["Attitude", "6"]]
    assert meta(spec)["columns"] == ["Item", "Value"]
    # The larger value fills the track; the smaller half of it.
    tracks, bars = (bar_lengths(layer) for layer in layers(svg, "rect"))
    assert tracks[0] == tracks[1] and bars == [pytest.approx(tracks[0] / 2), tracks[0]]


def test_the_static_svg_names_the_cjk_font_first():
    svg = render_svg(bar_spec([("满意", 1)], title="t"))
    families = set(re.findall(r'font-family="([^"]*)"', svg))
    assert families and all(family.startswith("&quot;Noto Sans CJK SC&quot;") for family in families)


def test_labels_are_escaped_and_stay_whole_in_the_figures():
    evil = '<script>alert("x")</script> & co'
    spec = bar_spec([Bar(evil, 1)], title=evil, width=800)
    svg = render_svg(spec)
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed XML
    assert root.get("aria-label") == evil
    assert evil in texts(svg)
    assert meta(spec)["rows"][0][0] == evil
    stacked = render_svg(stacked_spec([Segment(evil, 2), Segment("b", 1)], title=evil))
    assert "<script>" not in stacked
    assert f"{evil}: 2 (67 %)" in texts(stacked)


def test_unsafe_colours_and_links_are_dropped():
    spec = bar_spec(
        [
            Bar("a", 1, colour='red" onload="alert(1)', href="javascript:alert(1)"),
            Bar("b", 2, href="//elsewhere.example/x"),
            Bar("c", 3, href="/kpis/1/"),
        ],
        title="t",
    )
    rows = spec["data"]["values"]
    assert [row["fill"] for row in rows] == [charts.DEFAULT_COLOUR] * 3
    assert [row["href"] for row in rows] == ["", "", "/kpis/1/"]
    assert meta(spec)["links"] == ["", "", "/kpis/1/"]
    assert "onload" not in render_svg(spec)


def test_zero_values_keep_their_row_and_label():
    spec = bar_spec([("none", 0), ("some", 4)], title="t")
    assert {"none", "0", "some", "4"} <= set(texts(render_svg(spec)))
    assert render_svg(bar_spec([("a", 0), ("b", 0)], title="t")).startswith("<svg")


def test_max_value_fixes_the_scale_and_clamps():
    spec = bar_spec([("half", 50), ("over", 150)], title="t", max_value=100, unit=" %")
    assert [row["value"] for row in spec["data"]["values"]] == [50, 100]
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, 100.0]
    assert "150 %" in texts(render_svg(spec))  # the real value is still written


def test_the_chart_takes_its_width_and_grows_with_its_rows():
    narrow = render_svg(bar_spec([("a", 1), ("b", 2)], title="t", width=300))
    wide = render_svg(bar_spec([("a", 1), ("b", 2)], title="t", width=600))
    assert size(narrow)[0] == 300 and size(wide)[0] == 600
    assert size(narrow)[1] == size(wide)[1]  # the height follows the rows
    taller = render_svg(bar_spec([("a", 1), ("b", 2), ("c", 3)], title="t", width=300))
    assert size(taller)[1] > size(narrow)[1]


def test_long_labels_are_cut_in_the_svg_but_kept_whole_in_the_figures():
    label = "A very long option label that would push the bars off the chart entirely"
    spec = bar_spec([(label, 1)], title="t", width=300)
    shown = next(text for text in texts(render_svg(spec)) if text.startswith("A very"))
    assert shown.endswith("…") and len(shown) < len(label)
    assert meta(spec)["rows"][0][0] == label


def test_empty_input_gives_a_small_no_data_chart():
    for spec in (
        bar_spec([], title="Nothing"),
        stacked_spec([], title="Nothing"),
        stacked_spec([("a", 0)], title="Nothing"),
    ):
        svg = render_svg(spec)
        assert parse(svg).get("aria-label") == "Nothing"
        assert texts(svg) == ["No data"]
        assert size(svg)[1] < 40
        assert meta(spec)["rows"] == []
    assert stacked_spec([], title="Nothing") == no_data_spec("Nothing")
    assert "No answers yet" in texts(render_svg(no_data_spec("t", message="No answers yet")))


def test_stacked_bar_splits_the_whole_and_lists_every_segment():
    segments = [Segment(str(v), n) for v, n in zip(range(1, 6), [1, 0, 2, 5, 2], strict=True)]
    spec = stacked_spec(segments, title="Rating", width=500, colours=charts.RATING_COLOURS)
    rows = spec["data"]["values"]
    assert [(row["start"], row["end"]) for row in rows] == [(0, 0.1), (0.1, 0.1), (0.1, 0.3), (0.3, 0.8), (0.8, 1)]
    assert spec["layer"][0]["encoding"]["color"]["scale"]["range"] == list(charts.RATING_COLOURS)
    svg = render_svg(spec)
    legend = [text for text in texts(svg) if ":" in text]
    assert legend == ["1: 1 (10 %)", "2: 0 (0 %)", "3: 2 (20 %)", "4: 5 (50 %)", "5: 2 (20 %)"]
    # Shares written inside the segments wide enough to hold them, in a contrasting colour.
    inside = {row["inside"]: row["ink"] for row in rows if row["inside"]}
    assert inside == {"10 %": "#FFFFFF", "20 %": "#FFFFFF", "50 %": "#212529"}
    assert {"10 %", "20 %", "50 %"} <= set(texts(svg))
    assert meta(spec)["rows"][1] == ["2", "0", "0 %"]


def test_the_legend_wraps_to_the_width():
    segments = [(f"Answer number {n}", 1) for n in range(8)]
    narrow = render_svg(stacked_spec(segments, title="t", width=300))
    wide = render_svg(stacked_spec(segments, title="t", width=1200))
    assert size(narrow)[1] > size(wide)[1]


def test_the_stacked_bar_labels_add_up_to_100():
    svg = render_svg(stacked_spec([("a", 1), ("b", 1), ("c", 1)], title="t"))
    legend = [int(n) for n in re.findall(r"\((\d+) %\)</text>", svg)]
    assert sum(legend) == 100, legend


def test_shares_always_add_up_to_exactly_100():
    """Rounding each part half up made 1 / 1 / 4 read 17 + 17 + 67 = 101 % and 1 / 1 / 1 read
    33 × 3 = 99 %; the largest remainder method always gives 100."""
    for values in ([1, 1, 1], [1, 3, 5], [2, 4, 9], [13, 33, 55], [1, 0, 0, 2], [7] * 6, [3] * 7):
        parts = shares(values)
        assert sum(parts) == 100, values
        for part, value in zip(parts, values, strict=True):
            assert abs(part - 100 * value / sum(values)) < 1  # each within a unit of its exact share
    assert shares([1, 1, 1], digits=1) == [33.4, 33.3, 33.3]
    assert shares([1, 1, 1]) == [34.0, 33.0, 33.0]
    assert shares([0, 0]) == [0.0, 0.0] and shares([]) == []


def test_output_is_deterministic_and_rendered_once():
    def build():
        return bar_spec([("a", 1.25), ("b", 2)], title="Same")

    assert build() == build()
    first = render_svg(build())
    hits = charts._render.cache_info().hits
    assert render_svg(build()) == first
    assert charts._render.cache_info().hits == hits + 1  # the same chart is not rendered again


def test_chinese_labels_are_measured_and_drawn():
    latin = render_svg(bar_spec([("abcd", 1)], title="t"))
    chinese = render_svg(bar_spec([("满意程度非常高", 1)], title="满意度"))
    assert "满意程度非常高" in texts(chinese)
    assert parse(chinese).get("aria-label") == "满意度"
    assert left_offset(chinese) > left_offset(latin) + 30  # seven wide characters take their room


def _pdf_text(pdf: bytes) -> tuple[str, set[str]]:
    """The font names and the characters a PDF's fonts map to (their ToUnicode maps)."""
    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    names = b" ".join(re.findall(rb"/(?:BaseFont|FontName)\s*/([^\s/>]+)", b" ".join([pdf, *streams])))
    characters = set()
    for stream in streams:
        if b"beginbfchar" in stream or b"beginbfrange" in stream:
            for code in re.findall(rb"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4})>", stream):
                characters.add(chr(int(code, 16)))
    return names.decode("latin-1"), characters


def test_weasyprint_draws_the_charts_with_their_chinese_text():
    # The PDF review packs embed these charts; WeasyPrint must take them as they are and draw
    # the Chinese labels in the CJK font (fonts-noto-cjk), not as empty boxes.
    import weasyprint

    html = (
        '<html lang="zh-Hans"><body>'
        + render_svg(bar_spec([("客户单位甲", 66.7, None, "66.7 %"), ("Beta", 50)], title="按客户单位", max_value=100))
        + render_svg(stacked_spec([("满意", 1), ("不满意", 3)], title="评分", colours=charts.RATING_COLOURS))
        + render_svg(no_data_spec("Nothing"))
        + "</body></html>"
    )
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf.startswith(b"%PDF")
    names, characters = _pdf_text(pdf)
    assert "Noto-Sans-CJK-SC" in names, f"the CJK font is missing (apt-get install fonts-noto-cjk): {names}"
    assert set("客户单位甲满意不") <= characters


# --- the template tag --------------------------------------------------------------------------


def _render(source: str, **context) -> str:
    return Template("{% load charts %}" + source).render(Context(context))


def test_the_tag_draws_a_figure_with_its_svg_figures_and_spec():
    spec = bar_spec([Bar("Alpha", 2, href="/kpis/1/"), Bar("<b>", 1)], title="By <organisation>")
    html = _render("{% chart spec %}", spec=spec)
    assert html.count("<figure") == 1 and 'class="itsm-chart"' in html and "data-chart" in html
    assert "<figcaption" in html and "By &lt;organisation&gt;" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html
    # The text alternative: the figures as a table, the drilling rows linked.
    table = html[html.index("<details") : html.index("</details>")]
    assert '<th scope="col">Item</th>' in table and '<a href="/kpis/1/">Alpha</a>' in table
    assert "&lt;b&gt;" in table and "<b>" not in table
    # The spec, for the interactive view, as JSON that cannot close its script element.
    data = re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1)
    assert "<b>" not in data and json.loads(data) == json.loads(json.dumps(spec))


def test_the_vega_scripts_come_once_and_only_with_a_chart():
    one = bar_spec([("a", 1)], title="One")
    two = bar_spec([("b", 2)], title="Two")
    html = _render("{% chart one %}{% include 'includes/chart.html' with spec=None %}{% chart two %}", one=one, two=two)
    assert html.count("<figure") == 2
    for script in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "js/charts.js", "css/charts.css"):
        assert html.count(script) == 1, script
    loaded = re.findall(r"<script src=[^>]*>", html)
    assert len(loaded) == 4 and all(tag.endswith(" defer>") for tag in loaded)  # in order, after the page
    assert _render("{% chart nothing %}", nothing=None).strip() == ""


def test_a_compact_chart_hides_its_caption_but_not_its_figures():
    spec = charts.sparkline_spec([("2026-01", 1), ("2026-02", 2)], title="Card")
    html = _render("{% chart spec %}", spec=spec)
    assert "itsm-chart itsm-chart-compact" in html
    assert '<figcaption class="visually-hidden">Card</figcaption>' in html
    assert "<td>2</td>" in html


def test_a_caption_said_by_a_heading_beside_the_chart_is_kept_for_screen_readers_only():
    spec = bar_spec([("a", 1)], title="Question")
    assert '<figcaption class="itsm-chart-title">Question</figcaption>' in _render("{% chart spec %}", spec=spec)
    hidden = _render("{% chart spec caption=False %}", spec=spec)
    assert '<figcaption class="visually-hidden">Question</figcaption>' in hidden
