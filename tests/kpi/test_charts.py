"""The KPI charts (kpi/charts.py): a KPI's trend and its dashboard sparkline — status as colour,
shape and word, the target in force, tooltips, a drill-down link per point, the forecast — and
the pages that draw them (constant queries, the figures kept as text)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from itsm.core.charts import meta, render_svg
from itsm.core.roles import Role
from kpi.charts import STATUS_STYLES, sparkline_spec, trend_spec
from kpi.models import ElementKind, KpiDefinition, KpiForecast, KpiValue, Status
from tests.core.test_charts import layers, marks, texts

pytestmark = pytest.mark.django_db

HALVES = [("2025-H1", date(2025, 1, 1), date(2025, 6, 30)), ("2025-H2", date(2025, 7, 1), date(2025, 12, 31))]
HALVES += [("2026-H1", date(2026, 1, 1), date(2026, 6, 30)), ("2026-H2", date(2026, 7, 1), date(2026, 12, 31))]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _value(definition, index: int, value: str | None, status: str, target: str = "95") -> KpiValue:
    label, start, end = HALVES[index]
    return KpiValue.objects.create(
        definition=definition,
        period_start=start,
        period_end=end,
        period_label=label,
        element_kind=ElementKind.OVERALL,
        value=None if value is None else Decimal(value),
        target=Decimal(target),
        status=status,
        closed=index < 3,
        computed_at=timezone.now(),
    )


@pytest.fixture
def definition():
    return KpiDefinition.objects.get(code="complaint_result_satisfaction")


@pytest.fixture
def history(definition):
    """Four half-years, oldest first: on target, near, off, and one without data yet."""
    return [
        _value(definition, 0, "96.5", Status.GREEN),
        _value(definition, 1, "94", Status.AMBER),
        _value(definition, 2, "80", Status.RED, target="90"),
        _value(definition, 3, None, Status.NO_DATA),
    ]


def _point_layer(spec):
    return next(layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "point")


def test_each_point_says_its_status_by_colour_shape_and_word_and_drills_down(definition, history):
    spec = trend_spec(definition, history)
    rows = spec["data"]["values"]
    assert [row["label"] for row in rows] == ["2025-H1", "2025-H2", "2026-H1", "2026-H2"]
    assert [row["value"] for row in rows] == [96.5, 94.0, 80.0, None]
    assert [row["target"] for row in rows] == [95.0, 95.0, 90.0, 95.0]  # the target in force each period
    assert [row["href"] for row in rows] == [reverse("kpi_records", args=[definition.pk, v.pk]) for v in history]
    encoding = _point_layer(spec)["encoding"]
    words = [str(Status(status).label) for status in (Status.GREEN, Status.AMBER, Status.RED, Status.NO_DATA)]
    assert encoding["color"]["scale"]["domain"] == encoding["shape"]["scale"]["domain"] == words
    assert encoding["color"]["scale"]["range"] == [STATUS_STYLES[s][0] for s in Status]
    assert len(set(encoding["shape"]["scale"]["range"])) == 4
    assert [field["title"] for field in encoding["tooltip"]] == ["Period", "Value", "Target", "Status"]
    assert meta(spec)["rows"] == [
        ["2025-H1", "96.5 %", "95.0 %", "on target"],
        ["2025-H2", "94.0 %", "95.0 %", "near target"],
        ["2026-H1", "80.0 %", "90.0 %", "off target"],
        ["2026-H2", "no data", "95.0 %", "no data"],
    ]
    assert meta(spec)["links"] == [row["href"] for row in rows]
    svg = render_svg(spec)
    symbols = layers(svg, "symbol")[0]
    assert [symbol.get("fill") for symbol in symbols] == ["#198754", "#D39E00", "#DC3545"]  # no point without data
    assert len({symbol.get("d") for symbol in symbols}) == 3
    assert {"on target", "near target", "off target", "2025-H1", "%"} <= set(texts(svg))


def test_the_legend_names_only_the_statuses_shown(definition, history):
    spec = trend_spec(definition, history[:2])
    assert _point_layer(spec)["encoding"]["color"]["scale"]["domain"] == ["on target", "near target"]


def test_the_labels_are_chinese_in_chinese(definition, history):
    with translation.override("zh-hans"):
        svg = render_svg(trend_spec(definition, history))
    assert {"达标", "接近目标", "未达标"} <= set(texts(svg))


def test_a_forecast_is_drawn_as_a_hollow_point_with_its_range(definition, history):
    forecast = {"period_label": "2026-H2", "projected": Decimal("91"), "low": Decimal("88"), "high": Decimal("94")}
    spec = trend_spec(definition, history, forecast=forecast)
    assert meta(spec)["rows"][-1] == ["2026-H2", "projected 91.0 % (range 88.0 % – 94.0 %)", "", ""]
    svg = render_svg(spec)
    [hollow] = layers(svg, "symbol")[-1]
    assert hollow.get("fill") in (None, "none", "transparent")
    assert len(marks(svg, "rule")) == 1  # its range
    # A stored forecast does as well; one that projects nothing yet is left out.
    stored = KpiForecast(period_label="2026-H2", projected=Decimal("91"), low=Decimal("88"), high=Decimal("94"))
    assert trend_spec(definition, history, forecast=stored) == spec
    stored.projected = None
    assert trend_spec(definition, history, forecast=stored) == trend_spec(definition, history)


def test_the_sparkline_has_no_axes_and_keeps_the_figures(definition, history):
    spec = sparkline_spec(definition, history)
    assert meta(spec)["compact"] is True
    assert meta(spec)["title"] == f"{definition.name}: the last periods"
    assert [row[:2] for row in meta(spec)["rows"]] == [
        ["2025-H1", "96.5 %"],
        ["2025-H2", "94.0 %"],
        ["2026-H1", "80.0 %"],
        ["2026-H2", "no data"],
    ]
    svg = render_svg(spec)
    assert texts(svg) == []
    assert len(layers(svg, "symbol")[0]) == 3


def _count(client, url: str) -> tuple[int, str]:
    client.get(url)  # warm the session and the caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode()


def test_the_detail_page_draws_the_trend_above_the_periods_in_constant_queries(client_as, definition, history):
    client = client_as(Role.BR_MANAGER.value)
    url = reverse("kpi_detail", args=[definition.pk])
    few, _ = _count(client, url)
    KpiValue.objects.filter(pk__in=[v.pk for v in history[2:]]).delete()
    fewer, _ = _count(client, url)
    assert few == fewer
    page = client.get(url).content.decode()
    figure = page[page.index('data-testid="kpi-trend-chart"') :]
    assert figure.index("<figure") < figure.index("<svg") < figure.index('data-testid="kpi-history"')
    records = reverse("kpi_records", args=[definition.pk, history[0].pk])
    assert f'<a href="{records}">2025-H1</a>' in figure[: figure.index("</figure>")]
    assert page.count("vega-embed.min.js") == 1


def test_each_dashboard_card_draws_a_sparkline_with_its_figures_as_text(client_as, definition, history):
    client = client_as(Role.BR_MANAGER.value)
    url = reverse("kpi_dashboard")
    queries, page = _count(client, url)
    card = page[page.index(f'data-kpi="{definition.code}"') :]
    card = card[: card.index("</article>")]
    sparkline = card[card.index('data-testid="kpi-sparkline"') :]
    assert "<svg" in sparkline and "itsm-chart-compact" in sparkline
    for label, figure in (("2025-H1", "96.5 %"), ("2026-H1", "80.0 %")):
        assert label in sparkline and f"<td>{figure}</td>" in sparkline
    history[1].delete()  # a value fewer: the same queries
    assert _count(client, url)[0] == queries
