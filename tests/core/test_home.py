"""The home page holds each role's work (issue 9, item 3): registered panels, each a count and
the first items of a queue with their deadlines, in a constant number of queries; a superuser
gets every panel and the admin link; the role cards promise only what exists."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from complaints.choices import ComplaintStatus
from itsm.core.home import PANELS
from itsm.core.models import User
from itsm.core.navigation import ROLE_HOME
from itsm.core.roles import Role
from itsm.core.testing import assert_constant_queries
from surveys.choices import CampaignStatus
from surveys.services.callbacks import ticket_ingest
from surveys.services.weekly import weekly_report_create
from tests.complaints.factories import AT_BRM, AT_HEAD, make_complaint, role_user
from tests.factories import ContactFactory, DepartmentFactory

pytestmark = pytest.mark.django_db

S = ComplaintStatus
# Thursday 2026-11-26 10:00 in Shanghai: working hours of an ordinary week.
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)

# The improvement queues every staff role has (what it owns, suggestions to take on), and
# those of the roles that run plans (reviews due) and approve them.
MINE = ["improvement.my_actions", "improvement.suggestions"]
EXPECTED = {
    Role.SERVICE_DESK: ["complaints.awaiting_acceptance", "surveys.callbacks_due", "surveys.weekly", *MINE],
    Role.BR_MANAGER: [
        "complaints.awaiting_acceptance",
        "complaints.my_escalations",
        "kpi.needing_attention",
        "surveys.campaigns_to_approve",
        *MINE,
        "improvement.plans_to_approve",
        "improvement.reviews_due",
    ],
    Role.DEPARTMENT_HEAD: [
        "complaints.level_2",
        "kpi.needing_attention",
        *MINE,
        "improvement.plans_to_approve",
        "improvement.reviews_due",
    ],
    Role.MANAGEMENT_REP: ["complaints.level_3", "kpi.needing_attention", *MINE],
    Role.SATISFACTION_OWNER: ["surveys.running_campaigns", *MINE, "improvement.reviews_due"],
    Role.QUALITY_MANAGER: ["kpi.needing_attention", "surveys.running_campaigns", *MINE, "improvement.reviews_due"],
    Role.SERVICE_LEVEL_MANAGER: [
        "sla.underpinning_gaps",
        "sla.reports_to_approve",
        "sla.reviews_due",
        "sla.expiring",
        *MINE,
        "improvement.reviews_due",
    ],
    Role.AUDITOR: ["core.recent_changes"],
    Role.PROCESS_OWNER: [
        "complaints.overdue",
        "kpi.needing_attention",
        "surveys.callbacks_overdue",
        "sla.reviews_overdue",
        *MINE,
        "improvement.reviews_due",
        "core.recent_changes",
    ],
}


def page_of(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def panels(page: str) -> list[str]:
    return re.findall(r'data-panel="([^"]+)"', page)


def panel(page: str, key: str) -> str:
    match = re.search(rf'data-panel="{re.escape(key)}".*?</section>', page, re.S)
    assert match, key
    return match.group(0)


def count(page: str, key: str) -> int:
    return int(re.search(r'data-testid="panel-count">(\d+)<', panel(page, key)).group(1))


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_own_queues(client, role):
    assert panels(page_of(client, role_user(role))) == EXPECTED[role]


def test_every_registered_panel_belongs_to_some_role():
    shown = {key for keys in EXPECTED.values() for key in keys}
    assert shown == set(PANELS)


def test_the_superuser_gets_every_panel_and_the_admin_link_not_a_no_role_warning(client):
    admin = User.objects.create_superuser("root", "root@example.com", "x")
    page = page_of(client, admin)
    assert set(panels(page)) == set(PANELS)
    assert f'href="{reverse("admin:index")}"' in page and "alert-warning" not in page


def test_a_user_without_a_role_gets_no_panels_and_the_warning(client):
    page = page_of(client, User.objects.create_user("nobody"))
    assert panels(page) == [] and "alert-warning" in page


def test_the_service_desk_has_the_register_button(client):
    page = page_of(client, role_user(Role.SERVICE_DESK))
    assert re.search(rf'<a class="btn btn-primary" href="{reverse("complaint_create")}"[^>]*>登记投诉</a>', page)
    assert 'data-action="complaints.register"' not in page_of(client, role_user(Role.AUDITOR))


# --- what the queues hold --------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_complaints_awaiting_acceptance_show_the_working_time_left(client):
    make_complaint(S.REGISTERED, title="等待受理的投诉")
    make_complaint(S.ACCEPTED, title="已受理的投诉")
    page = page_of(client, role_user(Role.SERVICE_DESK))
    queue = panel(page, "complaints.awaiting_acceptance")
    assert count(page, "complaints.awaiting_acceptance") == 1
    assert "等待受理的投诉" in queue and "已受理的投诉" not in queue
    assert "9.0 个工作小时" in queue or "1 个工作日" in queue  # one working day to respond


@time_machine.travel(NOW, tick=False)
def test_call_backs_due_today_and_overdue_but_not_tomorrow(client):
    for external, hours_ago in (("T-OVER", 30), ("T-TODAY", 18), ("T-TOMORROW", 2)):
        ticket_ingest(
            data={
                "external_id": external,
                "ticket_ref": external,
                "requester_name": "李",
                "requester_email": "li@example.com",
                "requester_phone": "13800000000",
                "technician_name": "Tech",
                "technician_email": "",
                "resolved_at": NOW - timedelta(hours=hours_ago),
                "summary": "fixed",
            },
            actor=None,
        )
    page = page_of(client, role_user(Role.SERVICE_DESK))
    queue = panel(page, "surveys.callbacks_due")
    assert count(page, "surveys.callbacks_due") == 2
    assert "T-OVER" in queue and "T-TODAY" in queue and "T-TOMORROW" not in queue
    assert queue.index("T-OVER") < queue.index("T-TODAY")  # oldest due first
    assert "text-danger" in queue


@time_machine.travel(NOW, tick=False)
def test_this_weeks_visit_reports_list_the_missing_departments_first(client):
    desk = role_user(Role.SERVICE_DESK)
    filed = DepartmentFactory(name="已提交部门", weekly_visits=True)
    missing = DepartmentFactory(name="未提交部门", weekly_visits=True)
    DepartmentFactory(name="不走访部门", weekly_visits=False)
    weekly_report_create(department=filed, week_start=date(2026, 11, 23), recorder=desk, actor=desk)
    page = page_of(client, desk)
    queue = panel(page, "surveys.weekly")
    assert count(page, "surveys.weekly") == 1
    assert queue.index("未提交部门") < queue.index("已提交部门") and "不走访部门" not in queue
    assert f"?department={missing.pk}&amp;week=2026-11-23" in queue


def test_escalations_sit_with_their_levels_owner(client):
    at_brm, at_head = make_complaint(AT_BRM, title="一级升级"), make_complaint(AT_HEAD, title="二级升级")
    brm_page = page_of(client, role_user(Role.BR_MANAGER))
    assert "一级升级" in panel(brm_page, "complaints.my_escalations")
    head_page = page_of(client, role_user(Role.DEPARTMENT_HEAD))
    assert "二级升级" in panel(head_page, "complaints.level_2") and "一级升级" not in head_page
    assert count(page_of(client, role_user(Role.MANAGEMENT_REP)), "complaints.level_3") == 0
    assert at_brm.escalation_level == 1 and at_head.escalation_level == 2


def test_running_campaigns_show_the_live_response_rate(client):
    from surveys.choices import InvitationStatus
    from tests.surveys.factories import CampaignFactory, InvitationFactory

    campaign = CampaignFactory(title="半年度满意度调查", status=CampaignStatus.RUNNING)
    InvitationFactory(campaign=campaign, status=InvitationStatus.ANSWERED, answered_at=NOW)
    for _ in range(3):
        InvitationFactory(campaign=campaign, status=InvitationStatus.SENT)
    page = page_of(client, role_user(Role.SATISFACTION_OWNER))
    queue = panel(page, "surveys.running_campaigns")
    assert "半年度满意度调查" in queue and "25 %" in queue


def test_the_process_owner_sees_what_is_overdue(client):
    with time_machine.travel(datetime(2026, 10, 12, 2, 0, tzinfo=UTC), tick=False):
        make_complaint(S.INVESTIGATING, title="早已逾期")
    with time_machine.travel(NOW, tick=False):
        make_complaint(S.INVESTIGATING, title="刚登记")
        page = page_of(client, role_user(Role.PROCESS_OWNER))
    queue = panel(page, "complaints.overdue")
    assert "早已逾期" in queue and "刚登记" not in queue


def test_the_auditor_sees_the_latest_changes(client):
    from itsm.core import services

    services.organisation_create(actor=role_user(Role.PROCESS_OWNER), name="新客户甲", code="new-a")
    page = page_of(client, role_user(Role.AUDITOR))
    assert "新客户甲" in panel(page, "core.recent_changes")


# --- costs and promises ----------------------------------------------------------------------


def _rows(n: int) -> None:
    for _ in range(n):
        make_complaint(S.REGISTERED, contact=ContactFactory())
        make_complaint(AT_HEAD, contact=ContactFactory())
        DepartmentFactory(weekly_visits=True)


@pytest.mark.parametrize(
    "role", [Role.SERVICE_DESK, Role.BR_MANAGER, Role.DEPARTMENT_HEAD, Role.PROCESS_OWNER, Role.AUDITOR]
)
def test_the_home_page_runs_a_constant_number_of_queries(client, role):
    client.force_login(role_user(role))
    assert_constant_queries(client, reverse("home"), _rows, few=1, many=7)


def test_the_superusers_home_runs_a_constant_number_of_queries(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    assert_constant_queries(client, reverse("home"), _rows, few=1, many=7)


NOT_BUILT = ("internal audit", "management review", "quality report", "PDF")


@pytest.mark.parametrize("role", list(ROLE_HOME))
def test_a_role_card_promises_only_what_exists(role):
    summary = str(ROLE_HOME[role]["summary"])
    for module in NOT_BUILT:
        assert module.lower() not in summary.lower(), (role, module)


def test_a_user_with_two_roles_sees_each_queue_once(client):
    user = role_user(Role.SERVICE_DESK)
    user.groups.add(Group.objects.get(name=Role.BR_MANAGER))
    shown = panels(page_of(client, user))
    assert len(shown) == len(set(shown))
    assert set(shown) == set(EXPECTED[Role.SERVICE_DESK]) | set(EXPECTED[Role.BR_MANAGER])
