"""Reminders of improvement work (issue 13 item 4): an action due in 3 working days, overdue
actions each working day to their owner and after N working days once to the plan's owner,
effectiveness reviews due; each once per key (running a check twice sends one mail), never
before it is due, with weekends and days off read from the business calendar.

November 2026 has no public holiday: Monday 16 to Friday 20 is an ordinary working week."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from improvement.choices import Effectiveness, PlanStatus
from improvement.services import reminders
from improvement.services.plans import (
    action_add,
    action_cancel,
    action_complete,
    action_update,
    effectiveness_review_record,
    plan_create,
    plan_transition,
)
from itsm.core.calendar import default_calendar
from itsm.core.models import Notification
from itsm.core.periodic import run_check
from itsm.core.roles import Role
from itsm.core.services import calendar_override_create
from tests.complaints.factories import role_user

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETUP = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday, before everything is due


def on(day: date, hour: int = 10):
    """Time frozen at ``hour`` on ``day`` in Shanghai (working hours on a working day)."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI), tick=False)


def nov(day: int) -> date:
    return date(2026, 11, day)


def keys(prefix: str = "improvement:") -> list[str]:
    return sorted(Notification.objects.filter(key__startswith=prefix).values_list("key", flat=True))


@pytest.fixture
def brm():
    return role_user(Role.BR_MANAGER)


@pytest.fixture
def people(make_user):
    return {
        "plan_owner": make_user(Role.SERVICE_LEVEL_MANAGER, first_name="Plan", last_name="Owner"),
        "doer": make_user(Role.SERVICE_DESK, first_name="Action", last_name="Owner"),
    }


def running_plan(brm, people, due_on: date, *, status: str = PlanStatus.IN_PROGRESS, title: str = "Retrain the desk"):
    """A plan owned by the SLM with one action of the service desk user due on ``due_on``,
    made on SETUP and moved to ``status``."""
    with time_machine.travel(SETUP, tick=False):
        plan = plan_create(
            actor=brm,
            title="Faster night answers",
            goal="Answer night calls as fast as day calls",
            owner=people["plan_owner"],
            target_measure="90 % answered in 30 s",
        )
        action = action_add(plan=plan, actor=brm, title=title, owner=people["doer"], due_on=due_on)
        if status != PlanStatus.DRAFT:
            plan_transition(plan=plan, action="submit", actor=plan.owner)
            plan_transition(plan=plan, action="approve", actor=brm)
        if status == PlanStatus.IN_PROGRESS:
            plan_transition(plan=plan, action="start", actor=plan.owner)
    plan.refresh_from_db()
    action.refresh_from_db()
    return plan, action


def run(day: date) -> dict[str, int]:
    with on(day):
        return reminders.actions_remind()


# --- due in 3 working days ----------------------------------------------------------------------


def test_due_in_three_working_days_reminds_the_owner_once(brm, people):
    _plan, action = running_plan(brm, people, nov(19))  # Thursday
    assert run(nov(13)) == {"due_soon": 0, "overdue": 0, "escalated": 0}  # Friday: 4 working days ahead
    assert run(nov(16)) == {"due_soon": 1, "overdue": 0, "escalated": 0}  # Monday: Tue, Wed, Thu
    assert run(nov(16))["due_soon"] == 0  # twice → one mail
    assert run(nov(18))["due_soon"] == 0  # and not again on the following days
    assert keys() == [f"improvement:action:{action.pk}:due:2026-11-19:soon"]
    notification = Notification.objects.get()
    assert notification.recipient_email == people["doer"].email
    assert notification.template == "improvement/email/action_due"


def test_the_weekend_is_not_counted(brm, people):
    _plan, action = running_plan(brm, people, nov(18))  # Wednesday
    assert run(nov(12))["due_soon"] == 0  # Thursday: Fri, Mon, Tue — not yet
    assert run(nov(13))["due_soon"] == 1  # Friday: Mon, Tue, Wed
    assert keys() == [f"improvement:action:{action.pk}:due:2026-11-18:soon"]


def test_a_day_off_of_the_calendar_is_not_counted(brm, people):
    _plan, action = running_plan(brm, people, nov(19))  # Thursday
    assert run(nov(13))["due_soon"] == 0  # Mon, Tue, Wed
    with on(nov(13)):
        calendar_override_create(
            actor=role_user(Role.PROCESS_OWNER),
            calendar=default_calendar(),
            date=nov(17),
            is_working_day=False,
            reason="公司运动会",
        )
    assert run(nov(13))["due_soon"] == 1  # Mon, (Tue off), Wed, Thu


def test_an_action_due_today_is_reminded_once_and_a_new_due_date_reminds_again(brm, people):
    _plan, action = running_plan(brm, people, nov(16))
    assert run(nov(16))["due_soon"] == 1
    with on(nov(16)):
        action_update(action=action, actor=brm, due_on=nov(27))
    assert run(nov(16))["due_soon"] == 0  # 27th: 9 working days ahead
    assert run(nov(24))["due_soon"] == 1
    assert keys() == [
        f"improvement:action:{action.pk}:due:2026-11-16:soon",
        f"improvement:action:{action.pk}:due:2026-11-27:soon",
    ]


# --- overdue and the escalation ----------------------------------------------------------------


def test_an_overdue_action_reminds_its_owner_each_working_day_at_most_once(brm, people):
    _plan, action = running_plan(brm, people, nov(16))
    run(nov(16))  # the due-day reminder
    assert run(nov(17))["overdue"] == 1
    assert run(nov(17))["overdue"] == 0  # twice the same day → one mail
    assert run(nov(18))["overdue"] == 1  # the next day, one more
    assert run(nov(21))["overdue"] == 0  # Saturday: nothing
    assert run(nov(22))["overdue"] == 0  # Sunday: nothing
    assert run(nov(23))["overdue"] == 1  # Monday
    overdue = keys(f"improvement:action:{action.pk}:overdue:")
    assert overdue == [f"improvement:action:{action.pk}:overdue:2026-11-{day}" for day in (17, 18, 23)]
    assert set(Notification.objects.filter(key__in=overdue).values_list("recipient_email", flat=True)) == {
        people["doer"].email
    }


def test_after_three_working_days_overdue_the_plans_owner_is_told_once(brm, people):
    _plan, action = running_plan(brm, people, nov(16))  # Monday
    assert run(nov(18))["escalated"] == 0  # Tue, Wed: 2 working days overdue
    assert run(nov(19))["escalated"] == 1  # Thu: 3
    assert run(nov(19))["escalated"] == 0
    assert run(nov(20))["escalated"] == 0  # once per action (and due date), not daily
    escalation = Notification.objects.get(key=f"improvement:action:{action.pk}:due:2026-11-16:escalated")
    assert escalation.recipient_email == people["plan_owner"].email
    assert escalation.template == "improvement/email/action_escalated"
    assert "Action Owner" in escalation.body_text


def test_the_escalation_counts_working_days_over_a_weekend(brm, people):
    running_plan(brm, people, nov(19))  # Thursday
    assert run(nov(23))["escalated"] == 0  # Fri, Mon: 2
    assert run(nov(24))["escalated"] == 1  # Tue: 3


def test_the_number_of_working_days_is_a_setting(brm, people, settings):
    settings.IMPROVEMENT_ESCALATE_AFTER_WORKING_DAYS = 1
    running_plan(brm, people, nov(16))
    assert run(nov(17))["escalated"] == 1


def test_no_escalation_when_the_plans_owner_owns_the_action(brm, people):
    people = {**people, "doer": people["plan_owner"]}
    running_plan(brm, people, nov(16))
    assert run(nov(20)) == {"due_soon": 0, "overdue": 1, "escalated": 0}


# --- what is not reminded ----------------------------------------------------------------------


def test_done_cancelled_and_draft_actions_remind_no_one(brm, people):
    _plan, done = running_plan(brm, people, nov(16), title="Done")
    _plan, cancelled = running_plan(brm, people, nov(16), title="Cancelled")
    running_plan(brm, people, nov(16), status=PlanStatus.DRAFT, title="Only proposed")
    with on(nov(13)):
        action_complete(action=done, actor=done.owner, evidence_note="rota changed")
        action_cancel(action=cancelled, actor=cancelled.owner, reason="merged into another")
    for day in (13, 16, 20):
        assert run(nov(day)) == {"due_soon": 0, "overdue": 0, "escalated": 0}
    assert keys() == []


def test_a_plan_back_for_reapproval_keeps_reminding(brm, people):
    plan, action = running_plan(brm, people, nov(16))
    with on(nov(13)):
        action_add(plan=plan, actor=brm, title="One more step", owner=people["doer"], due_on=nov(30))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    assert run(nov(17))["overdue"] == 1


def test_someone_without_an_address_is_skipped(brm, people):
    people["doer"].email = ""
    people["doer"].save()
    running_plan(brm, people, nov(16))
    assert run(nov(19)) == {"due_soon": 0, "overdue": 0, "escalated": 1}  # the plan's owner still is


# --- effectiveness reviews due -------------------------------------------------------------------


def under_review(brm, people, review_due: date):
    plan, action = running_plan(brm, people, nov(10))
    with time_machine.travel(SETUP, tick=False):
        action_complete(action=action, actor=action.owner, evidence_note="rota changed")
        plan_transition(plan=plan, action="request_review", actor=plan.owner, review_due_on=review_due)
    plan.refresh_from_db()
    return plan


def review_run(day: date) -> int:
    with on(day):
        return reminders.reviews_remind()


def test_a_review_due_reminds_the_plans_owner_each_working_day_once(brm, people):
    plan = under_review(brm, people, nov(18))
    assert review_run(nov(17)) == 0  # not before it is due
    assert review_run(nov(18)) == 1
    assert review_run(nov(18)) == 0  # twice → one mail
    assert review_run(nov(19)) == 1
    assert review_run(nov(21)) == 0  # Saturday
    assert keys(f"improvement:plan:{plan.pk}:") == [
        f"improvement:plan:{plan.pk}:review:1:2026-11-18",
        f"improvement:plan:{plan.pk}:review:1:2026-11-19",
    ]
    notification = Notification.objects.filter(key__startswith=f"improvement:plan:{plan.pk}:").first()
    assert notification.recipient_email == people["plan_owner"].email
    assert notification.template == "improvement/email/review_due"


def test_a_recorded_review_reminds_no_more(brm, people):
    plan = under_review(brm, people, nov(18))
    with on(nov(18)):
        effectiveness_review_record(
            plan=plan, actor=brm, result=Effectiveness.NOT_EFFECTIVE, evidence_note="still slow at night"
        )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS and plan.round == 2
    assert review_run(nov(18)) == 0 and review_run(nov(19)) == 0


# --- the mail and the checks ------------------------------------------------------------------------


def test_the_mail_is_in_the_recipients_language(brm, people, django_capture_on_commit_callbacks):
    people["doer"].preferred_language = "en"
    people["doer"].save()
    running_plan(brm, people, nov(16))
    with on(nov(19)), django_capture_on_commit_callbacks(execute=True):
        reminders.actions_remind()
    by_template = {n.template: n for n in Notification.objects.all()}
    overdue = by_template["improvement/email/action_overdue"]
    assert overdue.language == "en" and overdue.subject == "Improvement action overdue: Retrain the desk"
    assert "was due on 2026-11-16, 3 days ago" in overdue.body_text
    escalated = by_template["improvement/email/action_escalated"]
    assert escalated.language == "zh-hans"
    assert escalated.subject.endswith("改进行动逾期 — Retrain the desk")
    assert "已逾期超过 3 个工作日" in escalated.body_text
    assert "/improvement/plans/" in escalated.body_text
    assert {message.to[0] for message in mail.outbox} == {people["doer"].email, people["plan_owner"].email}


def test_every_template_renders_in_both_languages(brm, people):
    from itsm.core.notifications import _render

    plan, action = running_plan(brm, people, nov(16))
    plan.round = 2
    action_context = reminders._action_context(action, nov(19))
    review_context = {"plan": plan, "due": nov(18), "days_overdue": 1, "round": 2, "url": "http://x/"}
    for template, context in (
        ("improvement/email/action_due", {**action_context, "days_left": 2}),
        ("improvement/email/action_overdue", action_context),
        ("improvement/email/action_escalated", action_context),
        ("improvement/email/review_due", review_context),
    ):
        for language in ("zh-hans", "en"):
            subject, text, _html = _render(template, language, {"recipient_name": "Li", **context})
            assert subject and "{" not in subject and "{%" not in text, (template, language)
            assert ("Retrain the desk" in subject) or (plan.reference in subject), (template, language)
            assert ("您好" in text) is (language == "zh-hans"), (template, language)


def test_the_checks_run_twice_send_once(brm, people):
    running_plan(brm, people, nov(16))
    under_review(brm, people, nov(18))
    with on(nov(19)):
        first = run_check("improvement.action_reminders")
        again = run_check("improvement.action_reminders")
        reviews = run_check("improvement.review_reminders")
        reviews_again = run_check("improvement.review_reminders")
    assert first == "0 due soon, 1 overdue, 1 escalated"  # the review plan's action is done
    assert again == "0 due soon, 0 overdue, 0 escalated"
    assert reviews == "1 effectiveness review reminders" and reviews_again == "0 effectiveness review reminders"


def test_the_checks_are_on_the_beat_schedule(settings):
    scheduled = {entry["args"][0] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry.get("args")}
    assert {"improvement.action_reminders", "improvement.review_reminders"} <= scheduled
