"""The monthly SLA report: figures, redrafting, approval freezing the month, sending to the
customer's contacts once, drafting after month end; its pages per role and their query counts."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from itsm.core.models import Notification
from itsm.core.roles import Role
from itsm.core.testing import (
    Resource,
    assert_constant_queries,
    assert_nothing_written,
    check_page_access,
    page_matrix,
)
from sla.choices import AgreementKind, AgreementStatus, Metric, Priority, ReportStatus, TargetUnit
from sla.models import Measurement, SlaReport
from sla.services import reports as services
from tests.factories import ContactFactory
from tests.sla.factories import AgreementFactory, MeasurementFactory, TargetFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = date(2026, 10, 1)
# Tuesday 2026-11-10, 10:00 in Shanghai: October has ended, and it is working time (mail leaves).
NOVEMBER_10 = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(NOVEMBER_10, tick=False):
        yield


@pytest.fixture
def slm(make_user):
    return make_user(Role.SERVICE_LEVEL_MANAGER)


def active_sla(**fields):
    return AgreementFactory(kind=AgreementKind.SLA, status=AgreementStatus.ACTIVE, **fields)


def build_month(agreement=None):
    """An SLA with four targets; October: one met, one breached, availability met, one missing."""
    agreement = agreement or active_sla()
    p1 = TargetFactory(agreement=agreement, metric=Metric.RESOLUTION, priority=Priority.P1, value=Decimal("2"))
    p2 = TargetFactory(
        agreement=agreement, metric=Metric.RESPONSE, priority=Priority.P2, value=Decimal("4.00"), unit=TargetUnit.HOURS
    )
    availability = TargetFactory(
        agreement=agreement, metric=Metric.AVAILABILITY, priority="", value=Decimal("99.50"), unit=TargetUnit.PERCENT
    )
    p3 = TargetFactory(
        agreement=agreement,
        metric=Metric.RESOLUTION,
        priority=Priority.P3,
        value=Decimal("5"),
        unit=TargetUnit.WORKING_DAYS,
    )
    MeasurementFactory(target=p1, period=OCTOBER, actual=Decimal("1.50"), met=True, sample_size=12)
    MeasurementFactory(target=p2, period=OCTOBER, actual=Decimal("5"), met=False, note="two late night calls")
    MeasurementFactory(target=availability, period=OCTOBER, actual=Decimal("99.90"), met=True)
    MeasurementFactory(target=p3, period=date(2026, 9, 1), actual=Decimal("9"), met=False)  # another month
    MeasurementFactory(period=OCTOBER, met=False)  # another agreement's target
    return agreement, {"p1": p1, "p2": p2, "availability": availability, "p3": p3}


# --- figures and drafting ----------------------------------------------------------------------


def test_figures_by_hand(slm):
    agreement, targets = build_month()
    report = services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    assert report.status == ReportStatus.DRAFT
    assert report.period == OCTOBER
    figures = report.figures
    assert figures["period"] == "2026-10"
    assert figures["agreement"]["number"] == agreement.number
    assert figures["counts"] == {"targets": 4, "met": 2, "breached": 1, "missing": 1}
    assert figures["attainment"] == "66.7"  # 2 of the 3 measured
    by_target = {row["target_id"]: row for row in figures["targets"]}
    assert by_target[targets["p1"].pk] == {
        "target_id": targets["p1"].pk,
        "metric": "resolution",
        "name": "",
        "priority": "P1",
        "value": "2",
        "unit": "hours",
        "actual": "1.5",
        "met": True,
        "sample_size": 12,
        "note": "",
    }
    assert by_target[targets["p2"].pk]["value"] == "4"
    assert by_target[targets["p2"].pk]["met"] is False
    assert by_target[targets["p2"].pk]["note"] == "two late night calls"
    assert by_target[targets["availability"].pk]["actual"] == "99.9"
    assert by_target[targets["p3"].pk]["actual"] is None  # September's measurement does not count
    assert by_target[targets["p3"].pk]["met"] is None
    # availability (no priority) first, then P1 … P3
    assert [row["priority"] for row in figures["targets"]] == ["", "P1", "P2", "P3"]
    with translation.override("en"):
        states = [(str(row["metric_label"]), row["state"]) for row in services.figure_rows(figures)]
    assert states == [
        ("Availability", "met"),
        ("Resolution time", "met"),
        ("Response time", "breached"),
        ("Resolution time", "missing"),
    ]


def test_drafting_again_recomputes_the_same_report(slm):
    agreement, targets = build_month()
    first = services.sla_report_draft(agreement=agreement, period=date(2026, 10, 17), actor=slm)  # any day: the month
    Measurement.objects.filter(target=targets["p2"], period=OCTOBER).update(actual=Decimal("3"), met=True)
    MeasurementFactory(target=targets["p3"], period=OCTOBER, actual=Decimal("4"), met=True)
    second = services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    assert second.pk == first.pk
    assert SlaReport.objects.count() == 1
    assert second.figures["counts"] == {"targets": 4, "met": 4, "breached": 0, "missing": 0}
    assert second.figures["attainment"] == "100"


@pytest.mark.parametrize(
    ("fields", "period"),
    [
        ({"kind": AgreementKind.OLA, "status": AgreementStatus.ACTIVE}, OCTOBER),
        ({"kind": AgreementKind.SLA, "status": AgreementStatus.NEGOTIATING}, OCTOBER),
        ({"kind": AgreementKind.SLA, "status": AgreementStatus.ACTIVE}, date(2026, 11, 1)),  # not ended yet
    ],
    ids=["ola", "not-in-force", "current-month"],
)
def test_drafting_refused(slm, fields, period):
    agreement = AgreementFactory(**fields)
    with pytest.raises(ValidationError):
        services.sla_report_draft(agreement=agreement, period=period, actor=slm)
    assert not SlaReport.objects.exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.BR_MANAGER, Role.PROCESS_OWNER])
def test_only_the_service_level_manager_drafts_approves_and_sends(make_user, slm, role):
    agreement, _targets = build_month()
    other = make_user(role)
    with pytest.raises(PermissionDenied):
        services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=other)
    report = services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    with pytest.raises(PermissionDenied):
        services.sla_report_approve(report=report, summary="", actor=other)
    services.sla_report_approve(report=report, summary="", actor=slm)
    with pytest.raises(PermissionDenied):
        services.sla_report_send(report=report, actor=other)
    report.refresh_from_db()
    assert report.status == ReportStatus.APPROVED


# --- approval ----------------------------------------------------------------------------------


def test_approval_freezes_the_figures_and_closes_the_month(slm):
    agreement, targets = build_month()
    report = services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    drafted = report.figures
    approved = services.sla_report_approve(report=report, summary="  A good month but for P2.  ", actor=slm)
    assert approved.status == ReportStatus.APPROVED
    assert approved.approved_by == slm
    assert approved.approved_at == NOVEMBER_10
    assert approved.summary == "A good month but for P2."
    assert services.month_closed(agreement_id=agreement.pk, period=OCTOBER)
    assert not services.month_closed(agreement_id=agreement.pk, period=date(2026, 9, 1))

    # whatever happens to the measurements and targets later, the report reads the same
    Measurement.objects.filter(target__agreement=agreement, period=OCTOBER).update(actual=Decimal("0"), met=False)
    targets["p1"].delete()
    approved.refresh_from_db()
    assert approved.figures == drafted
    assert not services.figures_out_of_date(approved)
    with pytest.raises(ValidationError):
        services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    with pytest.raises(ValidationError):
        services.sla_report_approve(report=approved, summary="again", actor=slm)
    approved.refresh_from_db()
    assert approved.figures == drafted
    assert approved.summary == "A good month but for P2."


def test_a_draft_whose_measurements_changed_is_not_approved(slm):
    agreement, targets = build_month()
    report = services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    MeasurementFactory(target=targets["p3"], period=OCTOBER, actual=Decimal("7"), met=False)  # arrived late
    assert services.figures_out_of_date(report)
    with pytest.raises(ValidationError), assert_nothing_written(SlaReport):
        services.sla_report_approve(report=report, summary="", actor=slm)
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    report = services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    assert report.figures["counts"]["breached"] == 2
    assert services.sla_report_approve(report=report, summary="", actor=slm).status == ReportStatus.APPROVED


# --- sending -----------------------------------------------------------------------------------


def _approved_report(slm, agreement=None):
    agreement, _targets = build_month(agreement)
    report = services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    return services.sla_report_approve(report=report, summary="P2 response was late twice.", actor=slm)


def test_sending_mails_each_contact_once_in_their_language(slm, django_capture_on_commit_callbacks):
    report = _approved_report(slm)
    customer = report.agreement.counterparty
    english = ContactFactory(organisation=customer, preferred_language="en", name="Ann Lee")
    chinese = ContactFactory(organisation=customer, preferred_language="zh-hans")
    ContactFactory(organisation=customer, is_active=False)
    ContactFactory(organisation=customer, email="")
    ContactFactory()  # another organisation's contact
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_report_send(report=report, actor=slm) == 2
    report.refresh_from_db()
    assert report.status == ReportStatus.SENT
    assert report.sent_at == NOVEMBER_10
    mails = {n.recipient_email: n for n in Notification.objects.filter(key__startswith=f"sla_report:{report.pk}:")}
    assert set(mails) == {english.email, chinese.email}
    assert mails[english.email].key == f"sla_report:{report.pk}:contact:{english.pk}"
    assert mails[english.email].language == "en"
    assert mails[chinese.email].language == "zh-hans"
    body = mails[english.email].body_text
    assert "Dear Ann Lee" in body
    assert "P2 response was late twice." in body
    assert "P2 | Response time | 4 hours | 5 hours | BREACHED" in body
    assert "P1 | Resolution time | 2 hours | 1.5 hours | met" in body
    assert "P3 | Resolution time | 5 working days | — | not measured" in body
    assert "Attainment: 66.7 %" in body
    assert "2026-10" in mails[english.email].subject
    chinese_body = mails[chinese.email].body_text
    assert "P2 | 响应时间 | 4 小时 | 5 小时 | 未达成" in chinese_body
    assert "P3 | 解决时间 | 5 个工作日 | — | 未测量" in chinese_body
    assert mails[chinese.email].subject == f"服务级别报告 2026-10 — {report.agreement.number}"
    assert sorted(m.to[0] for m in mail.outbox) == sorted([english.email, chinese.email])

    # again: nobody is mailed twice; a contact added since gets it
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_report_send(report=report, actor=slm) == 0
    newcomer = ContactFactory(organisation=customer)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_report_send(report=report, actor=slm) == 1
    assert len(mail.outbox) == 3
    assert mail.outbox[-1].to == [newcomer.email]
    report.refresh_from_db()
    assert report.sent_at == NOVEMBER_10


def test_sending_needs_approval_and_a_contact(slm):
    agreement, _targets = build_month()
    ContactFactory(organisation=agreement.counterparty)
    draft = services.sla_report_draft(agreement=agreement, period=OCTOBER, actor=slm)
    with pytest.raises(ValidationError):
        services.sla_report_send(report=draft, actor=slm)
    lonely = _approved_report(slm)  # its customer has no contact
    with pytest.raises(ValidationError):
        services.sla_report_send(report=lonely, actor=slm)
    lonely.refresh_from_db()
    assert lonely.status == ReportStatus.APPROVED
    assert not Notification.objects.exists()


# --- drafting after month end ------------------------------------------------------------------


def test_reports_are_drafted_on_the_first_working_day_after_month_end():
    """September's reports: 2026-10-01 … 10-07 are the National Day holidays (with the weekend
    and two 调休 days off), so the first working day of October is Thursday 2026-10-08."""
    in_force = active_sla()
    TargetFactory(agreement=in_force)
    ended = AgreementFactory(
        status=AgreementStatus.EXPIRED, ended_at=datetime(2026, 9, 20, tzinfo=SHANGHAI)
    )  # in force for part of September
    AgreementFactory(status=AgreementStatus.EXPIRED, ended_at=datetime(2026, 8, 20, tzinfo=SHANGHAI))
    AgreementFactory(kind=AgreementKind.UC, status=AgreementStatus.ACTIVE)
    AgreementFactory(status=AgreementStatus.NEGOTIATING)
    active_sla(valid_from=date(2026, 10, 1))  # starts after September
    assert services.drafting_day(date(2026, 9, 1)) == date(2026, 10, 8)

    for holiday in (date(2026, 10, 1), date(2026, 10, 4), date(2026, 10, 7)):
        assert services.sla_reports_draft_due(today=holiday) == 0
    assert not SlaReport.objects.exists()
    assert services.sla_reports_draft_due(today=date(2026, 10, 8)) == 2
    assert services.sla_reports_draft_due(today=date(2026, 10, 8)) == 0  # once
    assert services.sla_reports_draft_due(today=date(2026, 10, 9)) == 0
    assert services.sla_reports_draft_due(today=date(2026, 10, 20)) == 0  # and not again later in the month
    reports = SlaReport.objects.order_by("agreement_id")
    assert [(r.agreement_id, r.period, r.status) for r in reports] == [
        (in_force.pk, date(2026, 9, 1), ReportStatus.DRAFT),
        (ended.pk, date(2026, 9, 1), ReportStatus.DRAFT),
    ]
    assert reports[0].figures["counts"] == {"targets": 1, "met": 0, "breached": 0, "missing": 1}


def test_a_missed_first_working_day_is_made_up_later_in_the_month():
    agreement = active_sla()
    assert services.sla_reports_draft_due(today=date(2026, 11, 25)) == 1
    assert SlaReport.objects.get().period == OCTOBER
    assert SlaReport.objects.get().agreement == agreement


def test_the_periodic_draft_leaves_an_approved_report_alone(slm):
    report = _approved_report(slm)
    assert services.sla_reports_draft_due(today=date(2026, 11, 10)) == 0
    report.refresh_from_db()
    assert report.status == ReportStatus.APPROVED


# --- pages -------------------------------------------------------------------------------------


def _report_row():
    agreement, _targets = build_month()
    return services.sla_report_draft(agreement=agreement, period=OCTOBER)


REPORTS = Resource(
    model=SlaReport, factory=_report_row, pages={"list": "sla_report_list", "detail": "sla_report_detail"}
)


@pytest.mark.parametrize("case", page_matrix(REPORTS), ids=str)
def test_report_page_access(client, case):
    check_page_access(client, case)


def test_the_detail_highlights_breaches_and_offers_approval_to_the_manager(client_as):
    report = _report_row()
    url = reverse("sla_report_detail", args=[report.pk])
    client = client_as(Role.SERVICE_LEVEL_MANAGER)
    content = client.get(url).content.decode()
    assert content.count('data-testid="breach"') == 1
    assert reverse("sla_report_approve", args=[report.pk]) in content
    assert reverse("sla_report_redraft", args=[report.pk]) in content
    assert "<svg" in content
    auditor = client_as(Role.AUDITOR).get(url).content.decode()
    assert 'data-testid="breach"' in auditor
    assert reverse("sla_report_approve", args=[report.pk]) not in auditor
    printable = client.get(reverse("sla_report_print", args=[report.pk]))
    assert printable.status_code == 200
    assert 'data-testid="breach"' in printable.content.decode()


def test_approve_recompute_and_send_from_the_page(client_as):
    report = _report_row()
    contact = ContactFactory(organisation=report.agreement.counterparty)
    client = client_as(Role.SERVICE_LEVEL_MANAGER)
    response = client.post(reverse("sla_report_send", args=[report.pk]))
    assert response.status_code == 400  # not approved yet
    response = client.post(reverse("sla_report_redraft", args=[report.pk]))
    assert response.status_code == 302
    response = client.post(reverse("sla_report_approve", args=[report.pk]), {"summary": "Fine."})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.summary, report.approved_by) == (ReportStatus.APPROVED, "Fine.", client.user)
    response = client.post(reverse("sla_report_send", args=[report.pk]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SENT
    assert Notification.objects.get().recipient_email == contact.email
    detail = client.get(reverse("sla_report_detail", args=[report.pk])).content.decode()
    assert 'data-testid="mails"' in detail
    assert contact.email in detail


def test_a_stale_draft_is_flagged_and_not_approved_from_the_page(client_as):
    report = _report_row()
    target = report.agreement.targets.get(priority=Priority.P3)
    MeasurementFactory(target=target, period=OCTOBER, met=True)
    client = client_as(Role.SERVICE_LEVEL_MANAGER)
    assert 'data-testid="stale"' in client.get(reverse("sla_report_detail", args=[report.pk])).content.decode()
    with translation.override("en"):
        response = client.post(reverse("sla_report_approve", args=[report.pk]), {"summary": ""})
    assert response.status_code == 400
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.BR_MANAGER, None])
@pytest.mark.parametrize("action", ["sla_report_approve", "sla_report_send", "sla_report_redraft"])
def test_readers_cannot_act_on_a_report(client_as, role, action):
    report = _report_row()
    client = client_as(role)
    with assert_nothing_written(SlaReport, Notification):
        assert client.post(reverse(action, args=[report.pk]), {"summary": "x"}).status_code == 403
        assert client.post(reverse(action, args=[report.pk + 1000])).status_code == 403
        assert client.post(reverse("sla_report_create"), {"new-agreement": report.agreement_id}).status_code == 403


def test_the_manager_drafts_a_report_from_the_list(client_as):
    agreement, _targets = build_month()
    client = client_as(Role.SERVICE_LEVEL_MANAGER)
    assert 'action="/sla/reports/new/"' in client.get(reverse("sla_report_list")).content.decode()
    response = client.post(reverse("sla_report_create"), {"new-agreement": agreement.pk, "new-month": "2026-10"})
    report = SlaReport.objects.get()
    assert response["Location"] == reverse("sla_report_detail", args=[report.pk])
    assert (report.agreement, report.period) == (agreement, OCTOBER)
    # the current month has not ended: refused with a message, nothing drafted
    response = client.post(
        reverse("sla_report_create"), {"new-agreement": agreement.pk, "new-month": "2026-11"}, follow=True
    )
    assert SlaReport.objects.count() == 1
    assert [m.level_tag for m in response.context["messages"]][-1] == "error"


def test_the_list_filters(client_as, slm):
    one = _report_row()
    other = _report_row()
    services.sla_report_approve(report=other, summary="", actor=slm)
    client = client_as(Role.AUDITOR)
    url = reverse("sla_report_list")
    assert client.get(url, {"agreement": one.agreement_id}).context["page_obj"].paginator.count == 1
    assert client.get(url, {"month": "2026-10"}).context["page_obj"].paginator.count == 2
    assert client.get(url, {"month": "2026-09"}).context["page_obj"].paginator.count == 0
    assert client.get(url, {"status": "approved"}).context["page_obj"].paginator.count == 1
    assert client.get(url, {"status": "draft", "agreement": one.agreement_id}).context["page_obj"].paginator.count == 1
    assert client.get(url, {"month": "not a month"}).context["page_obj"].paginator.count == 0


def test_the_report_list_runs_constant_queries(client_as):
    client = client_as(Role.SERVICE_LEVEL_MANAGER)

    def make_rows(n):
        for _ in range(n):
            _report_row()

    assert_constant_queries(client, reverse("sla_report_list"), make_rows, few=3, many=30)


_names = itertools.count()


def test_the_report_detail_runs_constant_queries(client_as):
    agreement = active_sla()
    report = services.sla_report_draft(agreement=agreement, period=OCTOBER)

    def make_rows(n):
        for _ in range(n):
            target = TargetFactory(agreement=agreement, name=f"measure {next(_names)}")
            MeasurementFactory(target=target, period=OCTOBER, met=False)
            ContactFactory(organisation=agreement.counterparty)
        services.sla_report_draft(agreement=agreement, period=OCTOBER)

    client = client_as(Role.SERVICE_LEVEL_MANAGER)
    assert_constant_queries(client, reverse("sla_report_detail", args=[report.pk]), make_rows, few=2, many=20)
