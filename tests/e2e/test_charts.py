"""The charts in the browser (itsm/core/charts.py, static/js/charts.js): vega-embed replaces each
static SVG with the interactive view under the Content-Security-Policy (no eval: Vega's
expression interpreter; no style element), a point's tooltip gives its figures, a click on it
opens the records behind it, and without JavaScript the static SVG and its figures stay.

The ``new_page`` fixture fails a test on anything the policy refuses."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from itsm.core.management.commands.load_demo import DEMO_PASSWORD
from kpi.models import KpiDefinition

pytestmark = pytest.mark.e2e


def test_a_kpi_trend_turns_interactive_shows_tooltips_and_drills_down(page, log_in, browser_problems):
    definition = KpiDefinition.objects.get(code="incident_satisfaction")
    log_in(page, "brm")
    page.goto(f"/kpis/{definition.pk}/")
    chart = page.locator("[data-testid=kpi-trend-chart] figure[data-chart]")
    expect(chart).to_have_attribute("data-chart-ready", "interactive", timeout=15_000)
    # One SVG: the interactive one took the static one's place, with its label.
    expect(chart.locator("svg")).to_have_count(1)
    expect(chart.locator("svg")).to_have_attribute("aria-label", re.compile(definition.name))
    points = chart.locator("g.mark-symbol.role-mark").first.locator("path")
    assert points.count() >= 12
    point = points.nth(points.count() - 2)
    point.hover(force=True)
    tooltip = page.locator("#vg-tooltip-element")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("%")
    with page.expect_navigation():
        point.click(force=True)
    assert re.search(rf"/kpis/{definition.pk}/values/\d+/records/$", page.url), page.url
    browser_problems.assert_none()


def test_without_javascript_the_static_chart_and_its_figures_stay(browser, live_server, demo_data):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", "brm")
        page.fill("#id_password", DEMO_PASSWORD)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        page.goto("/kpis/")
        sparkline = page.locator("[data-testid=kpi-sparkline] figure[data-chart]").first
        expect(sparkline.locator("svg[role=img]")).to_have_count(1)
        sparkline.locator("summary").click()
        expect(sparkline.locator("table tbody tr").first).to_be_visible()
        assert sparkline.get_attribute("data-chart-ready") is None
    finally:
        context.close()
