"""KPIs in Chromium (issue 12 §13): a BR manager opens the KPI dashboard, sees the complaint
reply time off target for a closed half-year — said in words, not by colour alone — opens
the KPI, follows the period's "Records" link to the complaints behind the figure and opens
one of them. On a 375 px phone the dashboard does not scroll sideways.

The records are this test's own (factories, through the complaint services), not the demo's:
the dashboard shows only what they make.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation
from playwright.sync_api import expect

from complaints.choices import ComplaintStatus
from complaints.models import Complaint
from itsm.core import calendar as business_calendar
from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role, sync_role_permissions
from kpi.models import KpiDefinition, Status
from kpi.services import kpi_close
from tests.complaints.factories import make_complaint
from tests.factories import UserFactory

from .conftest import PHONE

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "pw-for-tests-123"  # noqa: S105  (tests.factories.UserFactory's)
# A closed half-year: its report fell due on 15 July 2026.
H1 = period_of(Cycle.HALF_YEARLY, date(2026, 3, 1))
# Working days each complaint of H1 waited for its reply: 3.5 on average, over the 2 + 0.5 amber band.
REPLY_DAYS = [2, 3, 4, 5]


@pytest.fixture
def demo_data(transactional_db):
    """Only the role groups: this flow builds its own records instead of the demo's."""
    sync_role_permissions()


@pytest.fixture
def manager(demo_data):
    user = UserFactory(first_name="关系经理")
    user.groups.add(Group.objects.get(name=Role.BR_MANAGER.value))
    return user


@pytest.fixture
def slow_replies(demo_data) -> list[Complaint]:
    """Four complaints of 2026-H1, each accepted days after it came in; the half-year closed."""
    day = business_calendar.working_day_length()
    complaints = []
    for number, days in enumerate(REPLY_DAYS):
        received = datetime(2026, 3, 2 + number, 10, tzinfo=SHANGHAI)
        complaint = make_complaint(
            ComplaintStatus.ACCEPTED, received_at=received, title=f"报修 {number + 1} 迟迟无人受理"
        )
        # Accepted (through the service) today; the reply time as it was then.
        Complaint.objects.filter(pk=complaint.pk).update(
            reply_working_seconds=int(day.total_seconds()) * days,
            responded_at=business_calendar.add_working_time(received, day * days),
        )
        complaints.append(complaint)
    definition = KpiDefinition.objects.get(code="complaint_reply_time")
    assert kpi_close(definition, H1)
    return complaints


def test_a_manager_drills_down_from_a_red_kpi_to_its_complaints(
    new_page, log_in, manager, slow_replies, browser_problems
):
    with translation.override("zh-hans"):
        off_target, records_link = str(Status.RED.label), str(translation.gettext("Records"))
    page = new_page()
    log_in(page, manager.username, PASSWORD)
    page.goto("/kpis/")

    # The red card says so in words and with its icon, not only in colour.
    red = page.locator("article[data-kpi]", has=page.locator(".badge[data-status=red]"))
    expect(red).to_have_count(1)
    expect(red).to_have_attribute("data-kpi", "complaint_reply_time")
    badge = red.locator(".badge[data-status=red]")
    expect(badge).to_contain_text(off_target)
    expect(badge).to_contain_text("✗")
    expect(red).to_contain_text(H1.label)
    expect(red.locator("[data-testid=kpi-value]")).to_contain_text("3.50")

    with page.expect_navigation():
        red.locator("h2 a").click()
    definition = KpiDefinition.objects.get(code="complaint_reply_time")
    expect(page).to_have_url(re.compile(rf"/kpis/{definition.pk}/"))
    row = page.locator(f"[data-testid=kpi-history] tr[data-period='{H1.label}']")
    expect(row.locator(".badge[data-status=red]")).to_contain_text(off_target)
    link = row.get_by_role("link", name=records_link)
    with page.expect_navigation():
        link.click()

    # The frozen records of the closed half-year: every complaint behind the figure.
    listed = page.locator("[data-testid=kpi-records] [data-record]")
    expect(listed).to_have_count(len(slow_replies))
    for complaint in slow_replies:
        expect(page.locator(f"[data-testid=kpi-records] [data-record='{complaint.pk}']")).to_contain_text(
            complaint.reference
        )
    first = slow_replies[0]
    with page.expect_navigation():
        page.locator("[data-testid=kpi-records] a", has_text=first.reference).click()
    expect(page).to_have_url(re.compile(rf"/complaints/{first.pk}/$"))
    expect(page.locator("main")).to_contain_text(first.reference)
    expect(page.locator("main")).to_contain_text(first.title)
    browser_problems.assert_none()


def test_the_dashboard_fits_a_phone(new_page, log_in, manager, slow_replies, browser_problems):
    phone = new_page(viewport=PHONE)
    log_in(phone, manager.username, PASSWORD)
    phone.goto("/kpis/")
    expect(phone.locator("article[data-kpi=complaint_reply_time] .badge[data-status=red]")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), phone.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    browser_problems.assert_none()


def test_the_half_year_is_closed_before_the_browser_looks(slow_replies):
    """The figure the cards show: 3.5 working days against ≤ 2, amber up to 2.5 — off target."""
    definition = KpiDefinition.objects.get(code="complaint_reply_time")
    value = definition.values.get(period_label=H1.label, element_kind="overall", is_current=True)
    assert value.closed and value.status == Status.RED
    assert value.value == sum(REPLY_DAYS) / len(REPLY_DAYS)
    assert H1.end + timedelta(days=15) <= timezone.localdate()
