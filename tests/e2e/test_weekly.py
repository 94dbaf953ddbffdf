"""Weekly visit reports in Chromium: this week's report, a new item, the Monday meeting.

The demo data (``surveys.demo.weekly``) holds the two weeks before this one for three
departments; last week's reports carry over the open items of the week before. The desk
opens this week's reports for two of them (open items are carried over again), adds a new
problem with an owner, and the meeting page shows it in its department's column, next to the
other department, with the carried-over matters' "open N weeks" badges.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from itsm.core.models import Department, User
from surveys.models import WeeklyReport, WeeklyReportItem
from surveys.services.weekly import week_monday

from .conftest import pick

pytestmark = pytest.mark.e2e

NEW_PROBLEM = "柜面终端开机后无法连接打印服务"
CARRIED_TWICE = "核心系统夜间批处理偶发超时"  # raised two weeks ago, open since
CARRIED_ONCE = "网银证书更新提醒缺失"  # raised last week


def create_report(page, department: Department) -> WeeklyReport:
    """Open this week's report for a department through the form; return it."""
    page.goto("/surveys/weekly/new/")
    this_week = week_monday(timezone.localdate())
    expect(page.locator("#id_week_start")).to_have_value(this_week.isoformat())
    pick(page, "id_department", department.name, department.name)  # a type-ahead picker
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page.locator("main .alert-success")).to_be_visible()
    report = WeeklyReport.objects.get(department=department, week_start=this_week)
    expect(page).to_have_url(re.compile(rf"/surveys/weekly/{report.pk}/$"))
    return report


def item_row(page, text: str):
    return page.locator("[data-testid=items] tbody tr", has=page.locator("td", has_text=text))


def test_this_weeks_report_and_the_monday_meeting(new_page, log_in, browser_problems):
    bank = Department.objects.get(organisation__code="hx-bank", name="信息科技部")
    power = Department.objects.get(organisation__code="dz-power", name="调度中心")
    brm = User.objects.get(username="brm")
    this_week = week_monday(timezone.localdate())
    assert not WeeklyReport.objects.filter(week_start=this_week).exists()

    desk = new_page()
    log_in(desk, "desk")
    desk.goto("/surveys/weekly/")
    expect(desk.locator("[data-testid=weekly-table] tbody tr")).to_have_count(6)  # two demo weeks × three
    with desk.expect_navigation():
        desk.locator(".btn-primary[href$='/surveys/weekly/new/']").click()

    report = create_report(desk, bank)
    # Last week's open matters came along, with how long they have been open.
    carried = {item.text for item in report.items.all()}
    assert carried == {CARRIED_TWICE, CARRIED_ONCE}
    expect(item_row(desk, CARRIED_TWICE).locator("[data-testid=weeks-open]")).to_contain_text("3")
    expect(item_row(desk, CARRIED_ONCE).locator("[data-testid=weeks-open]")).to_contain_text("2")

    # A new problem from this week's visit, owned by the BR manager.
    desk.select_option("#id_new-kind", "new_problem")
    desk.fill("#id_new-text", NEW_PROBLEM)
    pick(desk, "id_new-owner", brm.username, str(brm))
    with desk.expect_navigation():
        desk.locator(f"form[action$='/surveys/weekly/{report.pk}/items/'] button[type=submit]").click()
    expect(desk.locator("main .alert-success")).to_be_visible()
    item = WeeklyReportItem.objects.get(report=report, text=NEW_PROBLEM)
    assert (item.kind, item.owner, item.resolved, item.carried_from) == ("new_problem", brm, False, None)
    assert set(report.items.exclude(pk=item.pk).values_list("kind", flat=True)) == {"follow_up"}
    row = item_row(desk, NEW_PROBLEM)
    expect(row).to_contain_text(str(brm))
    expect(row.locator("[data-testid=weeks-open]")).to_have_count(0)  # raised this week

    # A second department reports too, so the meeting has them side by side.
    create_report(desk, power)

    with desk.expect_navigation():
        desk.locator(f"main a[href$='/surveys/weekly/meeting/?week={this_week.isoformat()}']").click()
    meeting = desk.locator("[data-testid=meeting]")
    headers = meeting.locator("thead th")
    expect(headers).to_have_count(3)  # the kind, then one column per department
    column = {
        department.name: headers.filter(has_text=department.name).evaluate("th => th.cellIndex")
        for department in (bank, power)
    }
    assert sorted(column.values()) == [1, 2]

    def cell_of(text: str) -> int:
        entry = meeting.locator("tbody li", has_text=text)
        expect(entry).to_have_count(1)
        return entry.evaluate("li => li.closest('td').cellIndex")

    new_entry = meeting.locator("tbody li", has_text=NEW_PROBLEM)
    assert cell_of(NEW_PROBLEM) == column[bank.name]
    expect(new_entry).to_contain_text(str(brm))
    expect(new_entry.locator("[data-testid=weeks-open]")).to_have_count(0)
    # Grouped by kind: the new problem in its row, the carried-over matters among the follow-ups.
    rows = meeting.locator("tbody tr")
    new_row = new_entry.evaluate("li => li.closest('tr').rowIndex")
    follow_up_row = meeting.locator("tbody li", has_text=CARRIED_TWICE).evaluate("li => li.closest('tr').rowIndex")
    assert new_row != follow_up_row
    assert rows.nth(new_row - 1).locator("li", has_text=CARRIED_TWICE).count() == 0

    assert cell_of(CARRIED_TWICE) == column[bank.name]
    badge = meeting.locator("tbody li", has_text=CARRIED_TWICE).locator("[data-testid=weeks-open]")
    expect(badge).to_have_text(re.compile(r"\b3\b"))
    badge = meeting.locator("tbody li", has_text=CARRIED_ONCE).locator("[data-testid=weeks-open]")
    expect(badge).to_have_text(re.compile(r"\b2\b"))
    # The other department's carried-over complaint sits in its own column.
    assert cell_of("上周网络中断通知不及时") == column[power.name]
    expect(
        meeting.locator("tbody li", has_text="上周网络中断通知不及时").locator("[data-testid=weeks-open]")
    ).to_be_visible()

    # Last week's meeting still shows all three demo departments, the older matter open 2 weeks.
    desk.goto(f"/surveys/weekly/meeting/?week={(this_week - timedelta(weeks=1)).isoformat()}")
    expect(desk.locator("[data-testid=meeting] thead th")).to_have_count(4)
    badge = desk.locator("[data-testid=meeting] tbody li", has_text=CARRIED_TWICE).locator("[data-testid=weeks-open]")
    expect(badge).to_have_text(re.compile(r"\b2\b"))
    expect(desk.locator("[data-testid=meeting] tbody li", has_text=NEW_PROBLEM)).to_have_count(0)
    browser_problems.assert_none()
