"""The customer's confirmation of a result through the emailed link (``complaint_record_feedback``).

The link is read from the mail the contact received on ``resolve``, as a customer would.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError

from complaints.choices import ComplaintStatus, EventKind
from complaints.models import Complaint, ComplaintEvent
from complaints.services import complaint_record_feedback, complaint_transition
from itsm.core.choices import Language
from itsm.core.models import Notification
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from itsm.core.tokens import TokenExpired, TokenNotFound, TokenRevoked, TokenUsed
from tests.complaints.factories import make_complaint, role_user
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

S = ComplaintStatus
TUESDAY_10 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, working hours
LINK = re.compile(r"https?://\S+/complaint-feedback/([A-Za-z0-9_-]+)/")


def link_sent_to(contact) -> str:
    """The token of the newest result mail to ``contact``."""
    [*_, message] = [m for m in mail.outbox if m.to == [contact.email] and LINK.search(m.body)]
    return LINK.search(message.body).group(1)


def resolve(complaint: Complaint, capture, *, note: str = "") -> Complaint:
    with capture(execute=True):
        return complaint_transition(
            complaint=complaint,
            action="resolve",
            actor=role_user(Role.BR_MANAGER),
            result="夜间值班已补充人手，并已向客户致歉",
            note=note,
        )


@pytest.fixture
def frozen():
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def resolved(frozen, django_capture_on_commit_callbacks):
    """A resolved complaint and the raw token from the result mail its contact received."""
    complaint = resolve(make_complaint(S.ANALYSIS), django_capture_on_commit_callbacks)
    return complaint, link_sent_to(complaint.contact)


@pytest.mark.parametrize("language", [Language.ZH_HANS, Language.EN])
def test_the_result_mail_carries_a_personal_link_in_the_contacts_language(
    frozen, django_capture_on_commit_callbacks, language
):
    contact = ContactFactory(preferred_language=language)
    complaint = resolve(make_complaint(S.ANALYSIS, contact=contact), django_capture_on_commit_callbacks)
    raw = link_sent_to(contact)
    [message] = [m for m in mail.outbox if m.to == [contact.email] and LINK.search(m.body)]
    assert complaint.reference in message.subject and complaint.result in message.body
    notification = Notification.objects.get(template="complaints/email/result")
    assert notification.language == language
    # only a digest is stored: the database alone opens no link
    assert raw not in notification.key and not Complaint.objects.filter(result__contains=raw).exists()


def test_a_happy_answer_records_it_and_lets_staff_close(resolved, django_capture_on_commit_callbacks):
    complaint, raw = resolved
    with django_capture_on_commit_callbacks(execute=True):
        answered = complaint_record_feedback(raw_token=raw, satisfaction=4, settled=True, comment="  谢谢  ")
    assert answered.status == S.RESOLVED and answered.reopen_count == 0
    stored = Complaint.objects.get(pk=complaint.pk)
    assert (stored.result_satisfaction, stored.result_settled, stored.feedback_comment) == (4, True, "谢谢")
    assert stored.feedback_at == TUESDAY_10
    event = stored.events.last()
    assert (event.action, event.actor, event.actor_label) == (EventKind.FEEDBACK, None, "customer")
    assert event.data == {"satisfaction": 4, "settled": True} and event.note == "谢谢"
    assert not Notification.objects.filter(template="complaints/email/reopened").exists()

    closed = complaint_transition(complaint=stored, action="close", actor=role_user(Role.SERVICE_DESK))
    assert closed.status == S.CLOSED


@pytest.mark.parametrize(("satisfaction", "settled"), [(4, False), (2, True), (1, False)])
def test_an_unhappy_answer_reopens_it_as_the_customer_and_tells_the_owner(
    resolved, django_capture_on_commit_callbacks, satisfaction, settled
):
    complaint, raw = resolved
    owner = complaint.owner
    with django_capture_on_commit_callbacks(execute=True):
        reopened = complaint_record_feedback(
            raw_token=raw, satisfaction=satisfaction, settled=settled, comment="问题又出现了"
        )

    assert (reopened.status, reopened.reopen_count) == (S.INVESTIGATING, 1)
    stored = Complaint.objects.get(pk=complaint.pk)
    assert stored.status == S.INVESTIGATING and stored.resolved_at is None
    assert (stored.result_satisfaction, stored.result_settled) == (satisfaction, settled)  # kept for the KPI
    feedback, reopen = stored.events.order_by("-pk")[:2][::-1]
    assert feedback.action == EventKind.FEEDBACK
    assert (reopen.action, reopen.from_status, reopen.to_status) == ("reopen", S.RESOLVED, S.INVESTIGATING)
    assert (reopen.actor, reopen.actor_label) == (None, "customer")
    # the owner is told once, with the customer's words
    [notice] = Notification.objects.filter(template="complaints/email/reopened")
    assert notice.recipient_email == owner.email
    [message] = [m for m in mail.outbox if m.to == [owner.email] and complaint.reference in m.subject]
    assert "问题又出现了" in message.body


def test_a_used_link_cannot_answer_again(resolved):
    complaint, raw = resolved
    complaint_record_feedback(raw_token=raw, satisfaction=5, settled=True)
    with assert_nothing_written(ComplaintEvent), pytest.raises(TokenUsed):
        complaint_record_feedback(raw_token=raw, satisfaction=1, settled=False)
    stored = Complaint.objects.get(pk=complaint.pk)
    assert (stored.status, stored.result_satisfaction) == (S.RESOLVED, 5)


def test_an_expired_link_is_refused_and_close_is_then_allowed(resolved, frozen):
    complaint, raw = resolved
    frozen.move_to(TUESDAY_10 + timedelta(days=settings.COMPLAINT_FEEDBACK_DAYS))
    with assert_nothing_written(ComplaintEvent), pytest.raises(TokenExpired):
        complaint_record_feedback(raw_token=raw, satisfaction=5, settled=True)
    assert Complaint.objects.get(pk=complaint.pk).feedback_at is None
    closed = complaint_transition(complaint=complaint, action="close", actor=role_user(Role.SERVICE_DESK))
    assert closed.status == S.CLOSED and closed.result_satisfaction is None


def test_a_forged_link_is_not_found(resolved):
    complaint, raw = resolved
    forgeries = [secrets.token_urlsafe(32), "", "x" * 5000, "../../admin", "完全不是令牌", raw[:-1], raw.upper()]
    for forged in forgeries:
        with assert_nothing_written(ComplaintEvent), pytest.raises(TokenNotFound):
            complaint_record_feedback(raw_token=forged, satisfaction=5, settled=True)
    assert Complaint.objects.get(pk=complaint.pk).feedback_at is None


def test_a_rating_outside_1_to_5_is_refused_and_the_link_stays_usable(resolved):
    complaint, raw = resolved
    for satisfaction in (0, 6, -1, None, "5"):
        with assert_nothing_written(ComplaintEvent), pytest.raises(ValidationError) as caught:
            complaint_record_feedback(raw_token=raw, satisfaction=satisfaction, settled=True)
        assert "satisfaction" in caught.value.message_dict
    answered = complaint_record_feedback(raw_token=raw, satisfaction=5, settled=True)
    assert answered.result_satisfaction == 5


def test_a_second_resolve_withdraws_the_earlier_link_and_mails_a_new_one(resolved, django_capture_on_commit_callbacks):
    complaint, first = resolved
    brm = role_user(Role.BR_MANAGER)
    complaint = complaint_transition(complaint=complaint, action="reopen", actor=brm, note="the outage came back")
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=brm)
    complaint = complaint_transition(complaint=complaint, action="customer_satisfied", actor=brm)
    complaint = resolve(complaint, django_capture_on_commit_callbacks)
    second = link_sent_to(complaint.contact)

    assert second != first
    assert Notification.objects.filter(template="complaints/email/result").count() == 2
    with pytest.raises(TokenRevoked):
        complaint_record_feedback(raw_token=first, satisfaction=5, settled=True)
    answered = complaint_record_feedback(raw_token=second, satisfaction=5, settled=True)
    assert answered.result_satisfaction == 5 and answered.reopen_count == 1


def test_after_the_customer_reopened_it_the_next_result_gets_a_fresh_link(resolved, django_capture_on_commit_callbacks):
    complaint, first = resolved
    complaint = complaint_record_feedback(raw_token=first, satisfaction=1, settled=False)
    brm = role_user(Role.BR_MANAGER)
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=brm)
    complaint = complaint_transition(complaint=complaint, action="customer_satisfied", actor=brm)
    complaint = resolve(complaint, django_capture_on_commit_callbacks)
    stored = Complaint.objects.get(pk=complaint.pk)
    # The new result waits for a new answer; the latest rating (1) still counts until then.
    assert (stored.result_satisfaction, stored.result_settled, stored.feedback_at) == (1, None, None)
    with pytest.raises(TokenUsed):
        complaint_record_feedback(raw_token=first, satisfaction=5, settled=True)
    answered = complaint_record_feedback(raw_token=link_sent_to(complaint.contact), satisfaction=5, settled=True)
    assert (answered.status, answered.result_satisfaction) == (S.RESOLVED, 5)


def test_a_link_for_a_complaint_staff_reopened_is_withdrawn(resolved):
    complaint, raw = resolved
    complaint_transition(complaint=complaint, action="reopen", actor=role_user(Role.SERVICE_DESK), note="called back")
    with assert_nothing_written(ComplaintEvent), pytest.raises(TokenRevoked):
        complaint_record_feedback(raw_token=raw, satisfaction=5, settled=True)
    assert Complaint.objects.get(pk=complaint.pk).status == S.INVESTIGATING


def test_no_link_for_a_contact_without_email(frozen, django_capture_on_commit_callbacks):
    complaint = resolve(
        make_complaint(S.ANALYSIS, contact=ContactFactory(email="")), django_capture_on_commit_callbacks
    )
    assert complaint.status == S.RESOLVED
    assert not Notification.objects.filter(template="complaints/email/result").exists()
