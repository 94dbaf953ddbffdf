"""Regressions of the smaller defects a first walk through the product found (issue 9, item 7).

Each test names what the walk saw. Others of the list live beside their code: the one-character
contact search (tests/core/test_pickers.py), the SLA-target picker (tests/surveys/), standard
targets on business days (tests/sla/test_targets.py), shares adding up to 100 %
(tests/core/test_charts.py), translated messages (tests/core/test_messages_translated.py), the
complaint list at 1366 px (tests/e2e/test_home.py).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse

from itsm.core.models import User
from itsm.core.roles import Role
from surveys.services.callbacks import CallbackAnswer, callback_record_phone, ticket_ingest
from surveys.services.weekly import weekly_report_create
from tests.complaints.factories import role_user
from tests.factories import ContactFactory, DepartmentFactory

pytestmark = pytest.mark.django_db

THURSDAY = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the browser shell -----------------------------------------------------------------------


def test_favicon_is_served_and_named_by_every_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.ico")
    client.force_login(role_user(Role.SERVICE_DESK))
    assert 'rel="icon"' in html(client.get(reverse("home")))


def test_no_api_page_loads_anything_from_outside():
    """/api/redoc/ loaded Google Fonts and a logo from a CDN; it is gone (/api/docs/ stays,
    served from the sidecar)."""
    from django.urls import Resolver404, resolve

    with pytest.raises(Resolver404):
        resolve("/api/redoc/")


def test_the_swagger_page_uses_only_local_assets(client):
    client.force_login(role_user(Role.AUDITOR))
    page = html(client.get(reverse("swagger-ui")))
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not url.startswith(("http://", "https://", "//")), url


def test_the_admin_speaks_the_products_language(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    page = html(client.get(reverse("admin:index")))
    assert "Django 管理" not in page and "itsm 管理后台" in page
    for english in ("AUDIT LOG", "Audit log", "Axes", "AXES", "Knox", "KNOX", "Access attempts", "Auth tokens"):
        assert f">{english}<" not in page, english
    for chinese in ("审计追踪", "登录尝试", "API 令牌"):
        assert chinese in page, chinese


# --- call-backs ----------------------------------------------------------------------------------


def _ticket(external_id="T-1", phone="", email="li@example.com"):
    ticket, _created = ticket_ingest(
        data={
            "external_id": external_id,
            "ticket_ref": external_id,
            "requester_name": "李女士",
            "requester_email": email,
            "requester_phone": phone,
            "technician_name": "王工",
            "technician_email": "",
            "resolved_at": THURSDAY - timedelta(hours=2),
            "summary": "打印机卡纸，已更换搓纸轮",
        },
        actor=None,
    )
    return ticket


@time_machine.travel(THURSDAY, tick=False)
def test_the_call_back_page_shows_the_number_to_call_as_a_tel_link(client):
    contact = ContactFactory(email="li@example.com", phone="13912345678")
    ticket = _ticket(phone="")  # the ticket has no number: the matched contact's is used
    client.force_login(role_user(Role.SERVICE_DESK))
    page = html(client.get(reverse("callback_detail", args=[ticket.callback.pk])))
    assert 'href="tel:13912345678"' in page and contact.phone in page
    listing = html(client.get(reverse("callback_list")))
    assert "期限</span>" not in listing  # "due" is not a state: the badge says what is awaited


@time_machine.travel(THURSDAY, tick=False)
def test_a_complaint_from_a_dissatisfied_call_back_carries_the_customers_words(client):
    ticket = _ticket(phone="13900000000")
    desk = role_user(Role.SERVICE_DESK)
    callback_record_phone(
        callback_id=ticket.callback.pk,
        answer=CallbackAnswer(
            fixed=False,
            rating_attitude=2,
            rating_speed=1,
            rating_effect=1,
            satisfied=False,
            complaint_raised=True,
            comment="打印机还是卡纸",
        ),
        actor=desk,
    )
    client.force_login(desk)
    page = html(client.get(reverse("callback_detail", args=[ticket.callback.pk])))
    link = re.search(r'href="([^"]+)" data-testid="register-complaint"', page).group(1)
    query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert "打印机还是卡纸" in query["description"][0]
    form_page = html(client.get(link.replace("&amp;", "&")))
    assert "打印机还是卡纸" in form_page


# --- weekly visit reports ------------------------------------------------------------------------


@time_machine.travel(THURSDAY, tick=False)
def test_a_new_weekly_report_has_a_week_a_recorder_and_a_time(client):
    desk = role_user(Role.SERVICE_DESK)
    client.force_login(desk)
    page = html(client.get(reverse("weekly_report_create")))
    assert re.search(r'name="week_start" value="2026-11-23"', page)
    assert re.search(rf'<option value="{desk.pk}" selected>', page)
    assert 'name="recorded_at" value="2026-11-26T10:00"' in page


def test_before_the_monday_meeting_the_default_week_is_last_week(client):
    with time_machine.travel(datetime(2026, 11, 30, 0, 30, tzinfo=UTC), tick=False):  # Mon 08:30
        client.force_login(role_user(Role.SERVICE_DESK))
        page = html(client.get(reverse("weekly_report_create")))
    assert 'name="week_start" value="2026-11-23"' in page


@time_machine.travel(THURSDAY, tick=False)
def test_a_report_has_one_state_never_not_submitted_and_late_at_once(client):
    desk = role_user(Role.SERVICE_DESK)
    overdue = weekly_report_create(
        department=DepartmentFactory(), week_start=date(2026, 11, 16), recorder=desk, actor=desk
    )
    client.force_login(desk)
    page = html(client.get(reverse("weekly_report_list")))
    row = re.search(rf'href="{overdue.get_absolute_url()}".*?</tr>', page, re.S).group(0)
    assert re.findall(r'data-state="(\w+)"', row) == ["overdue"]
    assert "逾期未提交" in row and "未提交" not in row.replace("逾期未提交", "")


@time_machine.travel(THURSDAY, tick=False)
def test_the_monday_meeting_lists_the_departments_that_have_not_filed(client):
    desk = role_user(Role.SERVICE_DESK)
    filed = DepartmentFactory(name="调度中心", weekly_visits=True)
    missing = DepartmentFactory(name="信息科", weekly_visits=True)
    DepartmentFactory(name="不走访的部门", weekly_visits=False)
    weekly_report_create(department=filed, week_start=date(2026, 11, 16), recorder=desk, actor=desk)
    client.force_login(desk)
    page = html(client.get(reverse("weekly_meeting"), {"week": "2026-11-16"}))
    section = re.search(r'data-testid="missing".*?</section>', page, re.S).group(0)
    assert "信息科" in section and "调度中心" not in section and "不走访的部门" not in section
    assert f"department={missing.pk}&amp;week=2026-11-16" in section


# --- links the crawl found leading nowhere -----------------------------------------------------


def test_cancelling_a_new_department_goes_back_to_its_organisation(client):
    from tests.factories import OrganisationFactory

    organisation = OrganisationFactory()
    client.force_login(role_user(Role.BR_MANAGER))
    page = html(client.get(reverse("department_create"), {"organisation": organisation.pk}))
    cancel = re.search(r'href="([^"]*)" data-testid="cancel"', page).group(1)
    assert cancel == organisation.get_absolute_url()
    page = html(client.get(reverse("department_create")))
    assert f'href="{reverse("organisation_list")}" data-testid="cancel"' in page
    department = DepartmentFactory(organisation=organisation)
    page = html(client.get(reverse("department_edit", args=[department.pk])))
    assert f'href="{organisation.get_absolute_url()}" data-testid="cancel"' in page


def test_the_underpinning_page_links_attainment_only_for_roles_that_may_read_it(client):
    from tests.sla.factories import AgreementFactory, TargetFactory

    target = TargetFactory(agreement=AgreementFactory(kind="sla"))
    url = reverse("agreement_underpinning", args=[target.agreement_id])
    client.force_login(role_user(Role.SERVICE_DESK))
    assert 'data-testid="attainment-link"' not in html(client.get(url))
    assert client.get(reverse("target_attainment", args=[target.pk])).status_code == 403
    client.force_login(role_user(Role.SERVICE_LEVEL_MANAGER))
    assert 'data-testid="attainment-link"' in html(client.get(url))
