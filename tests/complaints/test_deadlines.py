"""Complaint deadlines in working time: the 2026 National Day holiday and the 2026-10-10 make-up
Saturday, the paused resolution clock, the periodic check (warnings, automatic escalation,
held and urgent mail, idempotence) and recomputation when the calendar or a target changes.

Calendar: Asia/Shanghai, 09:00–18:00, so a working day is 9 working hours. In 2026 the
National Day holiday runs Thu 1 – Wed 7 October; Sat 10 October is a make-up working day.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from complaints import services
from complaints.choices import ComplaintStatus, EscalationLevel, EventKind, Severity
from complaints.models import Complaint, ComplaintEvent, ComplaintTarget
from complaints.services import (
    complaint_target_update,
    complaint_transition,
    complaint_update,
    complaints_recompute_open,
)
from itsm.core.calendar import default_calendar
from itsm.core.models import Notification, User
from itsm.core.periodic import run_check
from itsm.core.roles import Role
from itsm.core.services import calendar_override_create
from tests.complaints.factories import AT_BRM, AT_HEAD, make_complaint, role_user

pytestmark = pytest.mark.django_db

S = ComplaintStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
CHECK = "complaints.check_deadlines"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2026 in Shanghai."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def registered(moment: datetime, status: str = S.REGISTERED, **kwargs) -> Complaint:
    """A complaint received at ``moment`` and moved to ``status`` then."""
    with time_machine.travel(moment, tick=False):
        return make_complaint(status, **kwargs)


def run_deadline_check(moment: datetime, capture) -> str:
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return run_check(CHECK)


def events(complaint: Complaint, action: str) -> list[ComplaintEvent]:
    return list(complaint.events.filter(action=action))


def mails_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


# --- due dates across the holiday and the make-up Saturday --------------------------------------


def test_a_normal_complaint_received_before_national_day():
    complaint = registered(at(9, 30, 10))  # Wednesday 10:00
    # Response, 1 working day = 9 h: 8 h on Wed 30 Sep (10:00–18:00); 1 to 7 Oct are holidays;
    # the last hour is Thu 8 Oct 09:00–10:00.
    assert complaint.response_due_at == at(10, 8, 10)
    # Resolution, 10 working days = 90 h: 8 h on 30 Sep, then nine full days (81 h) on 8, 9,
    # 10 (make-up Saturday), 12, 13, 14, 15, 16 and 19 Oct, and the last hour on Tue 20 Oct.
    assert complaint.resolution_due_at == at(10, 20, 10)
    # Warnings at 75 %: 6 h 45 of the response (Wed 16:45); 67 h 30 of the resolution:
    # 8 h + six days (8, 9, 10, 12, 13, 14 Oct: 54 h) = 62 h, then 5 h 30 on Thu 15 Oct.
    assert complaint.response_warn_at == at(9, 30, 16, 45)
    assert complaint.resolution_warn_at == at(10, 15, 14, 30)


def test_a_major_complaint_on_friday_afternoon_is_due_on_the_make_up_saturday():
    complaint = registered(at(10, 9, 16), severity=Severity.MAJOR)  # Friday 16:00
    # 4 working hours: 2 h on Friday (16:00–18:00), 2 h on Saturday 10 Oct, a working day.
    assert complaint.response_due_at == at(10, 10, 11)
    # 5 working days: 10 (Sat), 12, 13, 14, 15 Oct → Thursday at the same time.
    assert complaint.resolution_due_at == at(10, 15, 16)


def test_a_complaint_received_during_the_holiday_starts_on_the_first_working_morning():
    complaint = registered(at(10, 3, 12))  # Saturday 3 Oct, a holiday
    assert complaint.response_due_at == at(10, 8, 18)  # all of Thu 8 Oct
    assert complaint.resolution_due_at == at(10, 20, 18)  # ten full days: 8, 9, 10, 12–16, 19 and 20 Oct


# --- the resolution clock pauses while the complaint waits on the customer ------------------------


def _awaiting_feedback(received: datetime, remedied: datetime) -> Complaint:
    complaint = registered(received, S.INVESTIGATING)
    with time_machine.travel(remedied, tick=False):
        return complaint_transition(
            complaint=complaint,
            action="remedy",
            actor=role_user(Role.SERVICE_DESK),
            diagnosis="a failed VPN gateway",
            remedial_actions="fixed the VPN",
        )


def test_time_waiting_on_the_customer_moves_the_resolution_due_by_that_working_time():
    # Received Mon 2 Nov 09:00: 10 working days end Fri 13 Nov 18:00.
    complaint = _awaiting_feedback(at(11, 2, 9), remedied=at(11, 3, 10))
    assert complaint.resolution_due_at == at(11, 13, 18)
    assert complaint.paused_at == at(11, 3, 10)
    response_due = complaint.response_due_at

    with time_machine.travel(at(11, 5, 15), tick=False):
        complaint = complaint_transition(
            complaint=complaint,
            action="customer_satisfied",
            actor=role_user(Role.SERVICE_DESK),
            category="response_speed",
            root_cause="no spare VPN gateway",
        )
    # Paused Tue 10:00 → Thu 15:00 = 8 h + 9 h + 6 h = 23 working hours; Fri 13 Nov 18:00 plus
    # 23 h is Mon 16 (9 h), Tue 17 (9 h) and 5 h on Wed 18 Nov → 14:00.
    assert complaint.paused_at is None
    assert complaint.paused_seconds == 23 * 3600
    assert complaint.resolution_due_at == at(11, 18, 14)
    assert complaint.response_due_at == response_due  # the response clock never pauses


def test_an_unhappy_customer_resumes_the_clock_and_pauses_add_up():
    complaint = _awaiting_feedback(at(11, 2, 9), remedied=at(11, 6, 17))  # Friday 17:00
    brm = role_user(Role.BR_MANAGER)
    with time_machine.travel(at(11, 9, 10), tick=False):  # Monday 10:00: 1 h + 1 h paused
        complaint = complaint_transition(complaint=complaint, action="customer_unsatisfied", actor=brm, note="no")
    assert complaint.paused_seconds == 2 * 3600
    assert complaint.resolution_due_at == at(11, 16, 11)  # Fri 13 Nov 18:00 + 2 h
    head = role_user(Role.DEPARTMENT_HEAD)
    with time_machine.travel(at(11, 10, 9), tick=False):
        complaint = complaint_transition(complaint=complaint, action="remedy", actor=head, remedial_actions="on site")
    with time_machine.travel(at(11, 10, 12), tick=False):  # 3 more working hours
        complaint = complaint_transition(
            complaint=complaint, action="customer_satisfied", actor=head, category="other", root_cause="x"
        )
    assert complaint.paused_seconds == 5 * 3600
    assert complaint.resolution_due_at == at(11, 16, 14)


def test_a_complaint_waiting_on_the_customer_is_not_escalated(django_capture_on_commit_callbacks):
    complaint = _awaiting_feedback(at(11, 2, 9), remedied=at(11, 3, 10))
    run_deadline_check(at(11, 20, 10), django_capture_on_commit_callbacks)  # a week past the original due
    complaint.refresh_from_db()
    assert complaint.escalation_level == EscalationLevel.DESK
    assert events(complaint, EventKind.AUTO_ESCALATED) == [] and events(complaint, EventKind.WARNED) == []
    assert complaint.resolution_escalated_at is None


# --- the periodic check: warnings --------------------------------------------------------------


def test_the_owner_is_warned_once_at_75_percent_of_the_response_time(django_capture_on_commit_callbacks):
    complaint = registered(at(11, 2, 9))  # response due Mon 18:00; 75 % of 9 h is 15:45
    desk = complaint.owner
    assert complaint.response_warn_at == at(11, 2, 15, 45)

    run_deadline_check(at(11, 2, 15, 44), django_capture_on_commit_callbacks)
    assert events(complaint, EventKind.WARNED) == [] and mails_to(desk) == []

    for _run in range(2):
        run_deadline_check(at(11, 2, 15, 45), django_capture_on_commit_callbacks)
    run_deadline_check(at(11, 2, 16), django_capture_on_commit_callbacks)

    [warning] = events(complaint, EventKind.WARNED)
    assert (warning.actor, warning.actor_label, warning.data) == (None, "system", {"deadline": "response"})
    [message] = mails_to(desk)
    assert complaint.reference in message.subject
    assert Notification.objects.filter(template="complaints/email/warning").count() == 1
    complaint.refresh_from_db()
    assert complaint.escalation_level == EscalationLevel.DESK and complaint.owner == desk


def test_an_accepted_complaint_gets_no_response_warning(django_capture_on_commit_callbacks):
    complaint = registered(at(11, 2, 9), S.ACCEPTED)
    run_deadline_check(at(11, 2, 16), django_capture_on_commit_callbacks)
    run_deadline_check(at(11, 3, 10), django_capture_on_commit_callbacks)  # and no breach either
    assert events(complaint, EventKind.WARNED) == [] and events(complaint, EventKind.AUTO_ESCALATED) == []


def test_the_owner_is_warned_at_75_percent_of_the_resolution_time(django_capture_on_commit_callbacks):
    complaint = registered(at(11, 2, 9), S.INVESTIGATING)
    # 75 % of 90 h = 67 h 30: seven days (63 h) end Tue 10 Nov, then 4 h 30 on Wed 11 Nov.
    assert complaint.resolution_warn_at == at(11, 11, 13, 30)
    for _run in range(2):
        run_deadline_check(at(11, 11, 13, 30), django_capture_on_commit_callbacks)
    [warning] = events(complaint, EventKind.WARNED)
    assert warning.data == {"deadline": "resolution"}
    assert len(mails_to(complaint.owner)) == 1


# --- the periodic check: breaches ---------------------------------------------------------------


def test_no_response_by_the_deadline_escalates_to_the_br_manager(django_capture_on_commit_callbacks):
    brm = role_user(Role.BR_MANAGER)
    complaint = registered(at(11, 2, 9))  # response due Mon 18:00
    for _run in range(2):
        result = run_deadline_check(at(11, 3, 10), django_capture_on_commit_callbacks)  # Tuesday 10:00
    assert "0 response escalations" in result  # the second run found nothing to do

    complaint.refresh_from_db()
    assert complaint.status == S.REGISTERED  # escalation does not accept it
    assert (complaint.escalation_level, complaint.owner) == (EscalationLevel.BR_MANAGER, brm)
    [event] = events(complaint, EventKind.AUTO_ESCALATED)
    assert (event.actor, event.actor_label) == (None, "system")
    assert (event.from_status, event.to_status) == (S.REGISTERED, S.REGISTERED)
    assert event.data == {"deadline": "response", "escalation_level": [0, 1]}
    [message] = mails_to(brm)
    assert complaint.reference in message.subject
    assert Notification.objects.filter(template="complaints/email/breach").count() == 1
    assert events(complaint, EventKind.WARNED) == []  # the warning moment had passed unseen


def test_a_normal_breach_at_night_is_mailed_at_nine(django_capture_on_commit_callbacks):
    brm = role_user(Role.BR_MANAGER)
    complaint = registered(at(11, 2, 9))
    run_deadline_check(at(11, 2, 20), django_capture_on_commit_callbacks)  # Monday 20:00

    complaint.refresh_from_db()
    assert complaint.escalation_level == EscalationLevel.BR_MANAGER  # escalated at once …
    breach = Notification.objects.get(template="complaints/email/breach")
    assert breach.recipient_email == brm.email
    assert not breach.urgent and breach.send_after == at(11, 3, 9)  # … mailed in the morning
    assert mails_to(brm) == []

    with time_machine.travel(at(11, 3, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("run_due_checks", stdout=io.StringIO())
    assert len(mails_to(brm)) == 1
    assert len(events(complaint, EventKind.AUTO_ESCALATED)) == 1


def test_a_major_breach_is_mailed_at_once_even_at_night(django_capture_on_commit_callbacks):
    brm = role_user(Role.BR_MANAGER)
    complaint = registered(at(11, 2, 14), severity=Severity.MAJOR)  # 4 working hours: due 18:00
    assert complaint.response_due_at == at(11, 2, 18)
    run_deadline_check(at(11, 2, 22), django_capture_on_commit_callbacks)
    breach = Notification.objects.get(template="complaints/email/breach")
    assert breach.urgent and breach.send_after == at(11, 2, 22)
    assert len(mails_to(brm)) == 1


def test_past_the_resolution_deadline_the_complaint_goes_one_level_up(django_capture_on_commit_callbacks):
    brm, head = role_user(Role.BR_MANAGER), role_user(Role.DEPARTMENT_HEAD)
    at_desk = registered(at(11, 2, 9), S.INVESTIGATING)
    at_brm = registered(at(11, 2, 9), AT_BRM)
    assert at_desk.resolution_due_at == at_brm.resolution_due_at == at(11, 13, 18)

    run_deadline_check(at(11, 13, 17, 59), django_capture_on_commit_callbacks)
    assert events(at_desk, EventKind.AUTO_ESCALATED) == []
    for _run in range(2):
        run_deadline_check(at(11, 16, 9), django_capture_on_commit_callbacks)

    at_desk.refresh_from_db()
    at_brm.refresh_from_db()
    assert (at_desk.escalation_level, at_desk.owner, at_desk.status) == (1, brm, S.INVESTIGATING)
    assert (at_brm.escalation_level, at_brm.owner, at_brm.status) == (2, head, S.ESCALATED)
    assert [e.data for e in events(at_brm, EventKind.AUTO_ESCALATED)] == [
        {"deadline": "resolution", "escalation_level": [1, 2]}
    ]
    assert len([m for m in mails_to(head) if at_brm.reference in m.subject]) == 1


def test_the_level_never_exceeds_the_management_representative(django_capture_on_commit_callbacks):
    mrep = role_user(Role.MANAGEMENT_REP)
    complaint = registered(at(11, 2, 9), AT_HEAD)
    with time_machine.travel(at(11, 2, 10), tick=False):
        for action, inputs in [("remedy", {"remedial_actions": "x"}), ("customer_unsatisfied", {"note": "no"})]:
            complaint = complaint_transition(
                complaint=complaint, action=action, actor=role_user(Role.BR_MANAGER), **inputs
            )
    assert complaint.escalation_level == EscalationLevel.MANAGEMENT_REP
    run_deadline_check(at(12, 31, 10), django_capture_on_commit_callbacks)
    complaint.refresh_from_db()
    assert (complaint.escalation_level, complaint.owner) == (EscalationLevel.MANAGEMENT_REP, mrep)
    [event] = events(complaint, EventKind.AUTO_ESCALATED)
    assert event.data["escalation_level"] == [3, 3]


def test_finished_complaints_are_left_alone(django_capture_on_commit_callbacks):
    complaints = [registered(at(11, 2, 9), status) for status in (S.RESOLVED, S.CLOSED, S.WITHDRAWN)]
    sent = len(mail.outbox)
    run_deadline_check(at(12, 31, 10), django_capture_on_commit_callbacks)
    for complaint in complaints:
        assert events(complaint, EventKind.AUTO_ESCALATED) == [] and events(complaint, EventKind.WARNED) == []
    assert len(mail.outbox) == sent


def test_every_check_run_twice_mails_nobody_twice(django_capture_on_commit_callbacks):
    for status in (S.REGISTERED, S.ACCEPTED, S.INVESTIGATING, AT_BRM, S.ANALYSIS):
        registered(at(11, 2, 9), status)
    registered(at(11, 2, 9), S.REGISTERED, severity=Severity.MAJOR)
    moments = [at(11, 2, 15, 45), at(11, 3, 10), at(11, 11, 14), at(11, 16, 10), at(11, 20, 10)]
    for moment in moments:
        run_deadline_check(moment, django_capture_on_commit_callbacks)
        counts = (len(mail.outbox), Notification.objects.count(), ComplaintEvent.objects.count())
        run_deadline_check(moment, django_capture_on_commit_callbacks)
        assert (len(mail.outbox), Notification.objects.count(), ComplaintEvent.objects.count()) == counts, moment
    assert ComplaintEvent.objects.filter(action=EventKind.AUTO_ESCALATED).count() >= 6


def test_manage_py_run_due_checks_runs_the_complaint_check(django_capture_on_commit_callbacks, capsys):
    complaint = registered(at(11, 2, 9))
    with time_machine.travel(at(11, 3, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("run_due_checks", CHECK)
        call_command("run_due_checks", CHECK)
    assert "complaints.check_deadlines: 0 response warnings, 1 response escalations" in capsys.readouterr().out
    assert len(events(complaint, EventKind.AUTO_ESCALATED)) == 1


# --- recomputation when the calendar or a target changes -----------------------------------------


def test_a_new_day_off_moves_the_due_dates_of_open_complaints_only(django_capture_on_commit_callbacks):
    open_one = registered(at(11, 2, 9), S.INVESTIGATING)
    waiting = _awaiting_feedback(at(11, 2, 9), remedied=at(11, 2, 10))
    closed = registered(at(11, 2, 9), S.CLOSED)
    assert open_one.resolution_due_at == closed.resolution_due_at == at(11, 13, 18)

    with time_machine.travel(at(11, 3, 12), tick=False), django_capture_on_commit_callbacks(execute=True):
        calendar_override_create(
            actor=role_user(Role.PROCESS_OWNER),
            calendar=default_calendar(),
            date=date(2026, 11, 11),
            is_working_day=False,
            reason="公司运动会",
        )

    open_one.refresh_from_db()
    waiting.refresh_from_db()
    closed.refresh_from_db()
    assert open_one.resolution_due_at == at(11, 16, 18)  # one working day later
    assert open_one.resolution_warn_at == at(11, 12, 13, 30)
    assert waiting.resolution_due_at == at(11, 16, 18)  # the pause still counts once resumed
    assert closed.resolution_due_at == at(11, 13, 18)


def test_a_make_up_working_day_moves_a_response_due_earlier(django_capture_on_commit_callbacks):
    complaint = registered(at(11, 6, 17))  # Friday 17:00: 1 h on Friday, 8 h on Monday
    assert complaint.response_due_at == at(11, 9, 17)
    with time_machine.travel(at(11, 6, 17, 30), tick=False), django_capture_on_commit_callbacks(execute=True):
        calendar_override_create(
            actor=role_user(Role.PROCESS_OWNER),
            calendar=default_calendar(),
            date=date(2026, 11, 7),
            is_working_day=True,
            reason="调休上班",
        )
    complaint.refresh_from_db()
    assert complaint.response_due_at == at(11, 7, 17)  # Saturday now works


def test_changing_a_target_moves_the_due_dates_of_open_complaints_only(django_capture_on_commit_callbacks):
    open_one = registered(at(11, 2, 9), S.ACCEPTED)
    closed = registered(at(11, 2, 9), S.CLOSED)
    major = registered(at(11, 2, 9), S.ACCEPTED, severity=Severity.MAJOR)
    major_due = major.resolution_due_at
    target = ComplaintTarget.objects.get(severity=Severity.NORMAL)
    with time_machine.travel(at(11, 3, 12), tick=False), django_capture_on_commit_callbacks(execute=True):
        complaint_target_update(target=target, actor=role_user(Role.PROCESS_OWNER), resolution_value=12)
    open_one.refresh_from_db()
    closed.refresh_from_db()
    major.refresh_from_db()
    assert open_one.resolution_due_at == at(11, 17, 18)  # 12 working days
    assert open_one.response_due_at == at(11, 2, 18)
    assert closed.resolution_due_at == at(11, 13, 18)
    assert major.resolution_due_at == major_due


def test_only_a_process_owner_changes_targets(make_user):
    target = ComplaintTarget.objects.get(severity=Severity.NORMAL)
    for role in (Role.SERVICE_DESK, Role.BR_MANAGER, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            complaint_target_update(target=target, actor=make_user(role), resolution_value=12)
    assert ComplaintTarget.objects.get(severity=Severity.NORMAL).resolution_value == 10


def test_a_breach_cleared_by_a_later_deadline_can_escalate_again_only_when_due_again(
    django_capture_on_commit_callbacks,
):
    complaint = registered(at(11, 2, 9))
    run_deadline_check(at(11, 3, 10), django_capture_on_commit_callbacks)  # response breached
    target = ComplaintTarget.objects.get(severity=Severity.NORMAL)
    with time_machine.travel(at(11, 3, 11), tick=False), django_capture_on_commit_callbacks(execute=True):
        complaint_target_update(target=target, actor=role_user(Role.PROCESS_OWNER), response_value=3)
    complaint.refresh_from_db()
    assert complaint.response_due_at == at(11, 4, 18)  # three working days: still ahead
    run_deadline_check(at(11, 3, 12), django_capture_on_commit_callbacks)
    assert len(events(complaint, EventKind.AUTO_ESCALATED)) == 1
    run_deadline_check(at(11, 5, 10), django_capture_on_commit_callbacks)  # due again, breached again
    assert len(events(complaint, EventKind.AUTO_ESCALATED)) == 2
    complaint.refresh_from_db()
    assert complaint.escalation_level == EscalationLevel.BR_MANAGER  # a response breach is level 1


def test_an_escalation_that_fails_midway_is_done_by_the_next_run(monkeypatch, django_capture_on_commit_callbacks):
    healthy, failing = registered(at(11, 2, 9)), registered(at(11, 2, 9))
    real_event = services._event

    def event_failing_for_one(complaint, **kwargs):
        if complaint.pk == failing.pk:
            raise RuntimeError("the worker died")
        return real_event(complaint, **kwargs)

    monkeypatch.setattr(services, "_event", event_failing_for_one)
    run_deadline_check(at(11, 3, 10), django_capture_on_commit_callbacks)
    monkeypatch.setattr(services, "_event", real_event)
    healthy.refresh_from_db()
    failing.refresh_from_db()
    assert healthy.escalation_level == EscalationLevel.BR_MANAGER  # one failure stops nobody else
    # the failed step is not marked done: no claim, no escalation, no mail
    assert failing.escalation_level == EscalationLevel.DESK and failing.response_escalated_at is None
    assert Notification.objects.filter(template="complaints/email/breach").count() == 1

    run_deadline_check(at(11, 3, 10, 5), django_capture_on_commit_callbacks)
    failing.refresh_from_db()
    assert failing.escalation_level == EscalationLevel.BR_MANAGER  # the next run did it
    assert len(events(failing, EventKind.AUTO_ESCALATED)) == 1
    assert len(events(healthy, EventKind.AUTO_ESCALATED)) == 1
    assert Notification.objects.filter(template="complaints/email/breach").count() == 2


def test_escalating_to_a_level_nobody_holds_keeps_the_owner(django_capture_on_commit_callbacks):
    complaint = registered(at(11, 2, 9))
    desk = complaint.owner
    User.objects.filter(groups__name=Role.BR_MANAGER).update(is_active=False)
    run_deadline_check(at(11, 3, 10), django_capture_on_commit_callbacks)
    complaint.refresh_from_db()
    assert complaint.escalation_level == EscalationLevel.BR_MANAGER
    assert complaint.owner == desk  # still someone's; nobody is left without an owner
    assert len(mails_to(desk)) == 1  # and that someone hears of the breach


def test_a_severity_change_does_not_repeat_a_breach_already_escalated(django_capture_on_commit_callbacks):
    complaint = registered(at(11, 2, 9))
    run_deadline_check(at(11, 3, 10), django_capture_on_commit_callbacks)  # response breached, level 1
    with time_machine.travel(at(11, 3, 11), tick=False):
        complaint_update(complaint=complaint, actor=role_user(Role.BR_MANAGER), severity=Severity.MAJOR)
    complaint.refresh_from_db()
    assert complaint.response_due_at == at(11, 2, 13)  # 4 working hours: long past, and escalated
    run_deadline_check(at(11, 3, 12), django_capture_on_commit_callbacks)
    assert len(events(complaint, EventKind.AUTO_ESCALATED)) == 1
    assert Notification.objects.filter(template="complaints/email/breach").count() == 1


def test_recomputing_open_complaints_costs_the_same_queries_for_3_or_30():
    def recompute_all_after_a_target_change() -> int:
        ComplaintTarget.objects.filter(severity=Severity.NORMAL).update(resolution_value=F("resolution_value") + 1)
        with CaptureQueriesContext(connection) as queries:
            assert complaints_recompute_open() == Complaint.objects.open().count()
        return len(queries)

    for _ in range(3):
        registered(at(11, 2, 9), S.ACCEPTED)
    few = recompute_all_after_a_target_change()
    for _ in range(27):
        registered(at(11, 2, 9), S.ACCEPTED)
    assert recompute_all_after_a_target_change() == few
