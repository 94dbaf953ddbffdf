"""Reference-data pages follow the language switch, labels declared on classes included.

Column headings are declared once, at import time, on the list views; they must be lazy
translations or every visitor sees the language the process started in.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from itsm.core.models import Calendar, Contact, Organisation

pytestmark = pytest.mark.e2e


def switch_language(page, code: str) -> None:
    with page.expect_navigation():
        page.select_option("#language-select", code)


@pytest.mark.parametrize(
    ("path", "model", "heading_zh", "columns_zh", "heading_en", "columns_en"),
    [
        ("/contacts/", Contact, "联系人", ["名称", "组织", "部门"], "Contacts", ["Name", "Organisation", "Department"]),
        ("/organisations/", Organisation, "组织", ["名称", "编码", "类型"], "Organisations", ["Name", "Code", "Kind"]),
        (
            "/calendars/",
            Calendar,
            "工作日历",
            ["名称", "国家", "时区"],
            "Business calendars",
            ["Name", "Country", "Time zone"],
        ),
    ],
    ids=["contacts", "organisations", "calendars"],
)
def test_list_page_follows_the_language(
    page, log_in, browser_problems, path, model, heading_zh, columns_zh, heading_en, columns_en
):
    count = model.objects.count()
    assert count >= 1  # the demo has one business calendar (24x7 targets need none)
    log_in(page, "owner")
    page.goto(path)
    headings = page.locator("main table thead th")
    expect(page.locator("main h1")).to_have_text(heading_zh)
    for column in columns_zh:
        expect(headings.filter(has_text=column).first).to_be_visible()
    expect(page.get_by_test_id("result-count")).to_have_text(f"共 {count} 条记录")
    expect(page.locator("main table tbody tr")).to_have_count(count)

    switch_language(page, "en")
    expect(page.locator("main h1")).to_have_text(heading_en)
    for column in columns_en:
        expect(headings.filter(has_text=column).first).to_be_visible()
    expect(page.get_by_test_id("result-count")).to_have_text(f"{count} record" + ("s" if count != 1 else ""))
    browser_problems.assert_none()


def test_calendar_month_is_in_chinese(page, log_in, browser_problems):
    log_in(page, "owner")
    page.goto("/calendars/")
    with page.expect_navigation():
        page.get_by_role("link", name="中国大陆工作日历").click()
    page.goto(page.url.split("?")[0] + "?month=2026-10")
    expect(page.get_by_role("heading", name="2026年10月")).to_be_visible()
    # National Day week 2026: 1 to 7 October off, Saturday 10 October a working day.
    expect(page.locator(".calendar-grid [data-date='2026-10-01']")).to_have_attribute("data-working", "0")
    expect(page.locator(".calendar-grid [data-date='2026-10-10']")).to_have_attribute("data-working", "1")
    expect(page.locator(".calendar-grid [data-date='2026-10-10']")).to_have_attribute("title", "工作日")
    expect(page.locator(".calendar-grid [data-date='2026-10-04']")).to_have_attribute("title", "休息日")
    grid = page.locator(".calendar-grid")
    expect(grid.locator(".head").first).to_have_text("周一")
    expect(grid.locator(".head").last).to_have_text("周日")
    expect(page.get_by_role("heading", name="日历调整")).to_be_visible()
    browser_problems.assert_none()
