"""Agreement reviews: recording one moves the review dates; reminders 30 / 7 days before and
when overdue, once each; the pages per role and their query counts."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from improvement.models import ImprovementItem
from itsm.core.models import Notification
from itsm.core.roles import Role
from itsm.core.testing import Resource, assert_constant_queries, assert_nothing_written, check_page_access, page_matrix
from sla.choices import AgreementKind, AgreementStatus
from sla.models import Agreement, AgreementReview
from sla.services import reviews as services
from tests.factories import UserFactory
from tests.sla.factories import AgreementFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 10)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI), tick=False):
        yield


@pytest.fixture
def slm(make_user):
    return make_user(Role.SERVICE_LEVEL_MANAGER)


def active(kind=AgreementKind.SLA, **fields):
    return AgreementFactory(kind=kind, status=AgreementStatus.ACTIVE, **fields)


def record(agreement, actor, **fields):
    values = {
        "held_on": date(2026, 11, 3),
        "attendees": "Provider: Li Wei (SLM). Customer: Ann Lee (IT manager).",
        "minutes": "Walked through the year's reports.",
        "findings": "P2 response breached in March and October.",
        "decisions": "Add a night on-call rota.",
        "improvement_items": "On-call rota — Li Wei — by 2026-12-31\nMonthly P2 trend in the report",
        "changes_agreement": False,
        **fields,
    }
    return services.agreement_review_record(agreement=agreement, actor=actor, **values)


# --- recording ---------------------------------------------------------------------------------


def test_recording_a_review_sets_the_last_and_next_review(slm):
    agreement = active(last_review_on=date(2025, 11, 20), next_review_on=date(2026, 11, 20))
    review = record(agreement, slm)
    assert review.recorded_by == slm
    # Each line became an item of the register, the review its source.
    assert [(item.title, item.source_kind, item.source) for item in ImprovementItem.objects.order_by("pk")] == [
        ("On-call rota — Li Wei — by 2026-12-31", "agreement_review", review),
        ("Monthly P2 trend in the report", "agreement_review", review),
    ]
    agreement.refresh_from_db()
    assert agreement.last_review_on == date(2026, 11, 3)
    assert agreement.next_review_on == date(2027, 11, 3)


def test_a_review_recorded_after_a_later_one_leaves_the_dates(slm):
    agreement = active()
    record(agreement, slm, held_on=date(2026, 10, 1))
    record(agreement, slm, held_on=date(2026, 6, 1))  # entered after the fact
    agreement.refresh_from_db()
    assert (agreement.last_review_on, agreement.next_review_on) == (date(2026, 10, 1), date(2027, 10, 1))
    assert agreement.reviews.count() == 2


def test_a_year_after_29_february_is_28_february():
    assert services.one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)
    assert services.one_year_after(date(2026, 3, 1)) == date(2027, 3, 1)


@pytest.mark.parametrize("kind", [AgreementKind.SLA, AgreementKind.UC, AgreementKind.OLA])
def test_every_kind_of_active_agreement_can_be_reviewed(slm, kind):
    assert record(active(kind), slm).agreement.kind == kind


@pytest.mark.parametrize("status", [AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING, AgreementStatus.EXPIRED])
def test_only_an_active_agreement_is_reviewed(slm, status):
    agreement = AgreementFactory(status=status)
    with pytest.raises(ValidationError), assert_nothing_written(AgreementReview, Agreement):
        record(agreement, slm)


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"held_on": TODAY + timedelta(days=1)}, "held_on"), ({"attendees": "  "}, "attendees")],
    ids=["future", "no-attendees"],
)
def test_bad_review_input_is_refused(slm, fields, field):
    agreement = active()
    with pytest.raises(ValidationError) as error, assert_nothing_written(AgreementReview, Agreement):
        record(agreement, slm, **fields)
    assert field in error.value.message_dict


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.BR_MANAGER, Role.PROCESS_OWNER])
def test_only_the_service_level_manager_records_reviews(make_user, role):
    agreement = active()
    with pytest.raises(PermissionDenied), assert_nothing_written(AgreementReview, Agreement):
        record(agreement, make_user(role))


# --- reminders ---------------------------------------------------------------------------------


def _keys() -> list[str]:
    return sorted(Notification.objects.filter(key__startswith="agreement:").values_list("key", flat=True))


def test_reminders_30_and_7_days_before_and_when_overdue_once_each(make_user):
    owner = make_user(Role.SERVICE_LEVEL_MANAGER, preferred_language="en")
    agreement = active(owner=owner, next_review_on=date(2026, 12, 31))
    AgreementFactory(status=AgreementStatus.EXPIRED, owner=owner, next_review_on=date(2026, 12, 1))  # ended
    base = f"agreement:{agreement.pk}:review:2026-12-31"
    schedule = [
        (date(2026, 11, 30), 0, []),  # 31 days before
        (date(2026, 12, 1), 1, [f"{base}:30"]),
        (date(2026, 12, 1), 0, [f"{base}:30"]),  # the same day again
        (date(2026, 12, 23), 0, [f"{base}:30"]),  # 8 days before: still the first stage
        (date(2026, 12, 24), 1, [f"{base}:30", f"{base}:7"]),
        (date(2026, 12, 31), 0, [f"{base}:30", f"{base}:7"]),  # the due day itself
        (date(2027, 1, 1), 1, [f"{base}:30", f"{base}:7", f"{base}:overdue"]),
        (date(2027, 1, 1), 0, [f"{base}:30", f"{base}:7", f"{base}:overdue"]),
        (date(2027, 3, 1), 0, [f"{base}:30", f"{base}:7", f"{base}:overdue"]),  # overdue is said once
    ]
    for today, queued, keys in schedule:
        assert services.reviews_remind(today=today) == queued, today
        assert _keys() == keys, today
    mails = {n.key.rsplit(":", 1)[1]: n for n in Notification.objects.all()}
    assert {n.recipient_email for n in mails.values()} == {owner.email}
    assert mails["30"].subject == f"The review of {agreement.number} is due on 2026-12-31"
    assert "in 30 days" in mails["30"].body_text
    assert "in 7 days" in mails["7"].body_text
    assert mails["overdue"].subject == f"The review of {agreement.number} is overdue"
    assert "1 day ago" in mails["overdue"].body_text
    assert reverse("agreement_review_create", args=[agreement.pk]) in mails["overdue"].body_text


def test_a_missed_stage_is_not_sent_late(make_user):
    owner = make_user(Role.SERVICE_LEVEL_MANAGER)
    agreement = active(owner=owner, next_review_on=date(2026, 12, 31))
    assert services.reviews_remind(today=date(2026, 12, 27)) == 1
    assert _keys() == [f"agreement:{agreement.pk}:review:2026-12-31:7"]


def test_without_an_owner_every_service_level_manager_is_reminded(make_user):
    first = make_user(Role.SERVICE_LEVEL_MANAGER)
    second = make_user(Role.SERVICE_LEVEL_MANAGER)
    make_user(Role.SERVICE_LEVEL_MANAGER, is_active=False)
    make_user(Role.SERVICE_LEVEL_MANAGER, email="")
    make_user(Role.AUDITOR)
    gone = make_user(Role.BR_MANAGER, is_active=False)
    unowned = active(next_review_on=date(2026, 11, 1))
    left = active(owner=gone, next_review_on=date(2026, 11, 2))  # the owner has left
    assert services.reviews_remind(today=TODAY) == 4
    assert services.reviews_remind(today=TODAY) == 0
    emails = sorted(Notification.objects.values_list("recipient_email", flat=True))
    assert emails == sorted([first.email, second.email] * 2)
    assert f"agreement:{unowned.pk}:review:2026-11-01:overdue:user:{first.pk}" in _keys()
    chinese = Notification.objects.get(key=f"agreement:{unowned.pk}:review:2026-11-01:overdue:user:{first.pk}")
    assert chinese.language == "zh-hans"
    assert chinese.subject == f"协议 {unowned.number} 的年度评审已逾期"
    assert "已逾期 9 天" in chinese.body_text
    assert f"agreement:{left.pk}:review:2026-11-02:overdue:user:{second.pk}" in _keys()


def test_a_new_due_date_after_a_review_starts_new_reminders(slm):
    agreement = active(owner=slm, next_review_on=date(2026, 11, 1))
    assert services.reviews_remind(today=TODAY) == 1  # overdue
    record(agreement, slm, held_on=TODAY)
    assert services.reviews_remind(today=TODAY) == 0
    assert services.reviews_remind(today=date(2027, 10, 11)) == 1
    assert _keys()[-1] == f"agreement:{agreement.pk}:review:2027-11-10:30"


# --- pages -------------------------------------------------------------------------------------


def _review_row():
    agreement = active(next_review_on=TODAY + timedelta(days=20))
    return AgreementReview.objects.create(
        agreement=agreement,
        held_on=date(2025, 12, 1),
        attendees="Li Wei, Ann Lee",
        recorded_by=UserFactory(),
    )


REVIEWS = Resource(
    model=AgreementReview,
    factory=_review_row,
    pages={"list": "review_due_list", "detail": "agreement_review_detail"},
)


@pytest.mark.parametrize("case", page_matrix(REVIEWS), ids=str)
def test_review_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.SERVICE_LEVEL_MANAGER, 200),
        (Role.AUDITOR, 403),
        (Role.BR_MANAGER, 403),
        (Role.SERVICE_DESK, 403),
        (None, 403),
    ],
)
def test_record_page_access(client_as, role, status):
    agreement = active()
    client = client_as(role)
    url = reverse("agreement_review_create", args=[agreement.pk])
    assert client.get(url).status_code == status
    missing = reverse("agreement_review_create", args=[agreement.pk + 1000])
    assert client.get(missing).status_code == (404 if status == 200 else 403)
    if status == 403:
        with assert_nothing_written(AgreementReview, Agreement):
            assert client.post(url, {"held_on": "2026-11-01", "attendees": "x"}).status_code == 403


def test_an_agreements_reviews_page(client_as):
    review = _review_row()
    for role in (Role.AUDITOR, Role.BR_MANAGER, Role.SERVICE_LEVEL_MANAGER):
        response = client_as(role).get(reverse("agreement_review_list", args=[review.agreement_id]))
        assert response.status_code == 200
        assert reverse("agreement_review_detail", args=[review.pk]) in response.content.decode()
    assert client_as(None).get(reverse("agreement_review_list", args=[review.agreement_id])).status_code == 403
    slm_client = client_as(Role.SERVICE_LEVEL_MANAGER)
    assert slm_client.get(reverse("agreement_review_list", args=[review.agreement_id + 1000])).status_code == 404


def test_recording_from_the_page(client_as):
    agreement = active()
    client = client_as(Role.SERVICE_LEVEL_MANAGER)
    url = reverse("agreement_review_create", args=[agreement.pk])
    response = client.post(
        url,
        {
            "held_on": "2026-11-05",
            "attendees": "Li Wei, Ann Lee",
            "minutes": "Minutes",
            "findings": "",
            "decisions": "Renew with a tighter P1.",
            "improvement_items": "",
            "changes_agreement": "on",
        },
    )
    review = AgreementReview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("agreement_review_detail", args=[review.pk])
    assert review.changes_agreement
    assert review.recorded_by == client.user
    agreement.refresh_from_db()
    assert agreement.next_review_on == date(2027, 11, 5)

    detail = client.get(response["Location"]).content.decode()
    assert 'data-testid="changes-agreement"' in detail
    try:
        change_url = reverse("agreement_change", args=[agreement.pk])
    except NoReverseMatch:
        change_url = None
    if change_url:  # the agreement pages offer a new version: the review links to it
        assert change_url in detail
    detail_url = response["Location"]

    # a bad date is shown on the form, nothing written
    with translation.override("en"), assert_nothing_written(AgreementReview):
        response = client.post(url, {"held_on": "2026-12-24", "attendees": "x"})
    assert response.status_code == 400
    assert "held_on" in response.context["form"].errors

    auditor = client_as(Role.AUDITOR).get(detail_url).content.decode()
    assert 'data-testid="changes-agreement"' in auditor
    assert 'data-testid="change-agreement"' not in auditor  # reading roles get no button


def test_recording_a_review_of_an_expired_agreement_is_refused_on_the_page(client_as):
    agreement = AgreementFactory(status=AgreementStatus.EXPIRED)
    client = client_as(Role.SERVICE_LEVEL_MANAGER)
    url = reverse("agreement_review_create", args=[agreement.pk])
    assert 'data-testid="not-reviewable"' in client.get(url).content.decode()
    with assert_nothing_written(AgreementReview):
        response = client.post(url, {"held_on": "2026-11-01", "attendees": "x"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()


def test_the_due_list_shows_overdue_first_then_the_next_60_days(client_as):
    overdue = active(next_review_on=TODAY - timedelta(days=3))
    soon = active(kind=AgreementKind.UC, next_review_on=TODAY + timedelta(days=5))
    later = active(next_review_on=TODAY + timedelta(days=60))
    active(next_review_on=TODAY + timedelta(days=61))  # beyond the horizon
    AgreementFactory(status=AgreementStatus.EXPIRED, next_review_on=TODAY - timedelta(days=10))
    undated = active(kind=AgreementKind.UC)
    active(kind=AgreementKind.OLA)  # OLAs without a date are not chased
    client = client_as(Role.BR_MANAGER)
    response = client.get(reverse("review_due_list"))
    assert [row["agreement"] for row in response.context["rows"]] == [overdue, soon, later]
    assert [row["state"] for row in response.context["rows"]] == ["overdue", "soon", "upcoming"]
    assert [row["agreement"] for row in response.context["undated_rows"]] == [undated]
    assert "record_url" in response.context["rows"][0] and not response.context["rows"][0]["record_url"]
    response = client.get(reverse("review_due_list"), {"kind": AgreementKind.UC})
    assert [row["agreement"] for row in response.context["rows"]] == [soon]
    slm_rows = client_as(Role.SERVICE_LEVEL_MANAGER).get(reverse("review_due_list")).context["rows"]
    assert slm_rows[0]["record_url"] == reverse("agreement_review_create", args=[overdue.pk])


_days = itertools.count()


def test_the_due_list_runs_constant_queries(client_as, make_user):
    recorder = make_user(Role.SERVICE_LEVEL_MANAGER)

    def make_rows(n):
        for _ in range(n):
            owner = make_user(Role.SERVICE_LEVEL_MANAGER)
            agreement = active(owner=owner, next_review_on=TODAY + timedelta(days=next(_days) % 90 - 20))
            active(kind=AgreementKind.UC)  # no review date
            AgreementReview.objects.create(
                agreement=agreement, held_on=date(2025, 11, 1), attendees="x", recorded_by=recorder
            )

    client = client_as(Role.SERVICE_LEVEL_MANAGER)
    assert_constant_queries(client, reverse("review_due_list"), make_rows, few=3, many=40)


def test_an_agreements_reviews_page_runs_constant_queries(client_as, make_user):
    agreement = active()
    recorder = make_user(Role.SERVICE_LEVEL_MANAGER)

    def make_rows(n):
        for index in range(n):
            AgreementReview.objects.create(
                agreement=agreement,
                held_on=date(2020, 1, 1) + timedelta(days=index),
                attendees="x",
                recorded_by=make_user(Role.SERVICE_LEVEL_MANAGER) if index % 2 else recorder,
            )

    client = client_as(Role.AUDITOR)
    assert_constant_queries(client, reverse("agreement_review_list", args=[agreement.pk]), make_rows, few=3, many=40)
