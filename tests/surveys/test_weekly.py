"""Weekly visit report pages and API: the role matrix, the desk's edits, the meeting page's queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from itsm.core.roles import Role
from itsm.core.testing import Resource, api_matrix, check_api_access, check_page_access, page_matrix
from surveys.choices import WeeklyItemKind
from surveys.models import WeeklyReport, WeeklyReportItem
from tests.factories import DepartmentFactory, UserFactory

MONDAY = date(2026, 11, 2)

pytestmark = pytest.mark.django_db


def _make_report(week_start: date = MONDAY, department=None, **fields) -> WeeklyReport:
    from django.utils import timezone

    return WeeklyReport.objects.create(
        department=department or DepartmentFactory(),
        week_start=week_start,
        recorder=fields.pop("recorder", None) or UserFactory(),
        recorded_at=timezone.now(),
        **fields,
    )


REPORTS = Resource(
    model=WeeklyReport,
    factory=_make_report,
    pages={"list": "weekly_report_list", "detail": "weekly_report_detail", "create": "weekly_report_create"},
    api_basename="weeklyreport",
    api_payload=lambda: {
        "department": DepartmentFactory().pk,
        "week_start": MONDAY.isoformat(),
        "recorder": UserFactory().pk,
    },
)


@pytest.mark.parametrize("case", page_matrix(REPORTS), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize(
    "case", [c for c in api_matrix(REPORTS) if c.action in ("list", "retrieve", "create")], ids=str
)
def test_api_access(api_client, case):
    check_api_access(api_client, case)


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.AUDITOR])
def test_meeting_page_access(client_as, role):
    assert client_as(role).get(reverse("weekly_meeting")).status_code == 200


def test_meeting_page_refused_without_the_role(client_as):
    assert client_as(Role.DEPARTMENT_HEAD).get(reverse("weekly_meeting")).status_code == 403


def test_desk_creates_a_report_and_edits_items(client_as):
    client = client_as(Role.SERVICE_DESK)
    department = DepartmentFactory()
    owner = UserFactory()
    response = client.post(
        reverse("weekly_report_create"),
        {"department": department.pk, "week_start": "2026-11-03", "recorder": client.user.pk},
    )
    assert response.status_code == 400  # a Tuesday
    assert not WeeklyReport.objects.exists()
    response = client.post(
        reverse("weekly_report_create"),
        {"department": department.pk, "week_start": MONDAY.isoformat(), "recorder": client.user.pk},
    )
    report = WeeklyReport.objects.get()
    assert response.status_code == 302 and response["Location"] == report.get_absolute_url()

    url = reverse("weekly_item_add", args=[report.pk])
    response = client.post(
        url, {"new-kind": WeeklyItemKind.NEW_PROBLEM, "new-text": "VPN drops", "new-owner": owner.pk}
    )
    assert response.status_code == 302
    item = report.items.get()
    assert (item.text, item.owner) == ("VPN drops", owner)
    assert client.post(url, {"new-kind": "bogus", "new-text": ""}).status_code == 400

    prefix = f"item{item.pk}"
    response = client.post(
        reverse("weekly_item_edit", args=[report.pk, item.pk]),
        {f"{prefix}-kind": item.kind, f"{prefix}-text": "VPN drops at night", f"{prefix}-resolved": "on"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.text, item.resolved, item.owner) == ("VPN drops at night", True, None)

    assert client.post(reverse("weekly_report_confirm", args=[report.pk])).status_code == 302
    assert client.post(reverse("weekly_report_submit", args=[report.pk])).status_code == 302
    report.refresh_from_db()
    assert report.user_confirmed and report.submitted_at is not None
    page = client.get(report.get_absolute_url())
    assert page.status_code == 200 and "VPN drops at night" in page.content.decode()


def test_auditor_reads_but_cannot_write(client_as):
    report = _make_report()
    client = client_as(Role.AUDITOR)
    assert client.get(report.get_absolute_url()).status_code == 200
    assert client.post(reverse("weekly_item_add", args=[report.pk]), {"new-kind": "suggestion"}).status_code == 403
    assert client.post(reverse("weekly_report_submit", args=[report.pk])).status_code == 403
    report.refresh_from_db()
    assert report.submitted_at is None and not report.items.exists()


@time_machine.travel(datetime(2026, 11, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_list_filters(client_as):
    client = client_as(Role.SERVICE_DESK)
    on_time = _make_report(submitted_at=None)
    WeeklyReport.objects.filter(pk=on_time.pk).update(submitted_at="2026-11-08T10:00:00+08:00")
    late = _make_report()
    WeeklyReport.objects.filter(pk=late.pk).update(submitted_at="2026-11-09T10:00:00+08:00")
    other_week = _make_report(week_start=MONDAY + timedelta(weeks=1))

    def listed(**query) -> set[int]:
        response = client.get(reverse("weekly_report_list"), query)
        assert response.status_code == 200
        return {row["report"].pk for row in response.context["rows"]}

    assert listed() == {on_time.pk, late.pk, other_week.pk}
    assert listed(state="late") == {late.pk}
    assert listed(state="submitted") == {on_time.pk, late.pk}
    assert listed(state="open") == {other_week.pk}
    assert listed(week="2026-11-12") == {other_week.pk}
    assert listed(department=late.department_id) == {late.pk}


def test_api_create_carries_over_and_posts_items(api_as):
    api = api_as(Role.SERVICE_DESK)
    department = DepartmentFactory()
    body = {"department": department.pk, "week_start": MONDAY.isoformat(), "recorder": api.user.pk}
    first = api.post(reverse("weeklyreport-list"), body, format="json")
    assert first.status_code == 201, first.content
    items_url = reverse("weeklyreport-items", args=[first.json()["id"]])
    response = api.post(items_url, {"kind": "new_problem", "text": "disk full", "owner": api.user.pk}, format="json")
    assert response.status_code == 201 and response.json()["items"][0]["text"] == "disk full"
    assert api.post(items_url, {"kind": "nope", "text": ""}, format="json").status_code == 400

    assert api.post(reverse("weeklyreport-list"), body, format="json").status_code == 400  # duplicate week
    tuesday = {**body, "week_start": "2026-11-10"}
    assert api.post(reverse("weeklyreport-list"), tuesday, format="json").status_code == 400

    second = api.post(reverse("weeklyreport-list"), {**body, "week_start": "2026-11-09"}, format="json")
    assert second.status_code == 201
    [carried] = second.json()["items"]
    assert carried["kind"] == "follow_up" and carried["owner"] == api.user.pk and carried["carried_from"]
    assert second.json()["due_at"].startswith("2026-11-16T09:00")


def test_api_auditor_cannot_post_items(api_as):
    report = _make_report()
    api = api_as(Role.AUDITOR)
    assert api.get(reverse("weeklyreport-detail", args=[report.pk])).status_code == 200
    response = api.post(reverse("weeklyreport-items", args=[report.pk]), {"kind": "suggestion", "text": "x"})
    assert response.status_code == 403
    assert not WeeklyReportItem.objects.exists()


def _meeting_rows(count: int) -> None:
    staff = UserFactory()
    for _ in range(count):
        department = DepartmentFactory()
        previous = _make_report(week_start=MONDAY - timedelta(weeks=1), department=department, recorder=staff)
        origin = WeeklyReportItem.objects.create(report=previous, kind=WeeklyItemKind.NEW_PROBLEM, text="old")
        report = _make_report(department=department, recorder=staff)
        WeeklyReportItem.objects.create(
            report=report, kind=WeeklyItemKind.FOLLOW_UP, text="old", owner=staff, carried_from=origin
        )
        WeeklyReportItem.objects.create(report=report, kind=WeeklyItemKind.COMPLAINT, text="new", owner=UserFactory())


def test_meeting_page_queries_do_not_grow(client_as, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as(Role.SERVICE_DESK)
    url = f"{reverse('weekly_meeting')}?week={MONDAY.isoformat()}"
    _meeting_rows(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["columns"]) == 2
    _meeting_rows(8)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["columns"]) == 10
    assert len(few) == len(many)
    body = response.content.decode()
    assert body.count('data-testid="weeks-open"') == 10


def test_list_page_queries_do_not_grow(client_as):
    from itsm.core.testing import assert_constant_queries

    client = client_as(Role.SERVICE_DESK)
    assert_constant_queries(
        client,
        reverse("weekly_report_list"),
        lambda n: [_make_report() for _ in range(n)],
        few=2,
        many=10,
    )
