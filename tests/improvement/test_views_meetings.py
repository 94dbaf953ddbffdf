"""Review meeting pages: who may see and do what, constant query counts whatever the number of
KPI values, plans, items, complaints, decisions, history rows or meetings, the moves through the
workflow kit's forms and view (every move allowed and refused), the history drawn from the
meeting's events, the one-step decision forms (bad input: 400 with the message, nothing
written), and the printable agenda."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from improvement.choices import MeetingKind, MeetingStatus, PlanStatus
from improvement.models import ImprovementItem, MeetingDecision, PlanAction, ReviewMeeting, ReviewMeetingEvent
from improvement.services.meetings import decision_add_action, decision_raise_item, meeting_update
from improvement.workflow import MEETING_TRANSITIONS
from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    Resource,
    assert_constant_queries,
    assert_nothing_written,
    check_page_access,
    page_matrix,
    role_may,
    user_with_role,
)
from tests.complaints.factories import make_complaint, role_user
from tests.factories import UserFactory
from tests.improvement.factories import make_item, make_plan
from tests.improvement.meeting_factories import make_decision, make_kpi_value, make_meeting, this_month

pytestmark = pytest.mark.django_db

M = MeetingStatus

MEETINGS = Resource(
    model=ReviewMeeting,
    factory=lambda: make_meeting(),
    pages={
        "list": "review_meeting_list",
        "detail": "review_meeting_detail",
        "create": "review_meeting_create",
        "edit": "review_meeting_edit",
        "history": "review_meeting_history",
    },
)


@pytest.mark.parametrize("case", page_matrix(MEETINGS), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize("role", ALL_ROLES[:-2])
def test_the_agenda_is_for_whoever_sees_meetings(client, role):
    meeting = make_meeting()
    client.force_login(user_with_role(role))
    response = client.get(reverse("review_meeting_agenda", args=[meeting.pk]))
    assert response.status_code == (200 if role_may(role, ["view"], ReviewMeeting) else 403)


def test_pages_of_a_meeting_that_does_not_exist_are_404(client_as):
    client = client_as(Role.BR_MANAGER)
    for name in ("review_meeting_detail", "review_meeting_agenda", "review_meeting_edit"):
        assert client.get(reverse(name, args=[999999])).status_code == 404


# --- query counts ----------------------------------------------------------------------------


def _inputs_rows(n: int) -> None:
    """``n`` more of everything a planned meeting's inputs list."""
    today = timezone.localdate()
    for index in range(n):
        make_kpi_value()
        plan = make_plan(PlanStatus.IN_PROGRESS, title=f"Plan {index}")
        PlanAction.objects.filter(plan=plan).update(due_on=today - timedelta(days=2))
        make_item(title=f"Item {index}", target_date=today - timedelta(days=1))
        make_complaint()


def test_a_planned_meetings_page_runs_as_many_queries_for_one_row_as_for_many(client_as):
    meeting = make_meeting()
    client = client_as(Role.BR_MANAGER)
    url = reverse("review_meeting_detail", args=[meeting.pk])
    count = assert_constant_queries(client, url, _inputs_rows, few=1, many=4)
    page = client.get(url).content.decode()
    assert page.count('data-plan="') == 4 and page.count('data-item="') == 4
    assert 'data-live="1"' in page
    assert count < 45


def test_the_agenda_runs_as_many_queries_for_one_row_as_for_many(client_as):
    meeting = make_meeting()
    url = reverse("review_meeting_agenda", args=[meeting.pk])
    assert_constant_queries(client_as(Role.QUALITY_MANAGER), url, _inputs_rows, few=1, many=3)


def test_a_held_meetings_page_runs_as_many_queries_for_one_decision_as_for_many(client_as):
    meeting = make_meeting(M.HELD)
    owner = UserFactory()
    actor = role_user(Role.BR_MANAGER)
    plan = make_plan(PlanStatus.DRAFT)

    def decisions(n: int) -> None:
        for index in range(n):
            raised = make_decision(meeting, text=f"Raise {index}", owner=owner)
            decision_raise_item(decision=raised, actor=actor)
            planned = make_decision(meeting, text=f"Plan {index}", owner=owner, due_on=date(2030, 1, 1))
            decision_add_action(decision=planned, actor=actor, plan=plan)
            make_decision(meeting, text=f"Open {index}")

    client = client_as(Role.BR_MANAGER)
    url = reverse("review_meeting_detail", args=[meeting.pk])
    assert_constant_queries(client, url, decisions, few=1, many=5)
    page = client.get(url).content.decode()
    assert page.count('data-decision="') == 15
    assert page.count('data-form="decision-item"') == 5 and page.count('data-form="decision-action"') == 5
    assert 'data-live="0"' in page
    # The history grows with the decisions (planned, held, 15 recorded, 5 items, 5 actions).
    assert page.count('data-action="decision_recorded"') == 15
    assert page.count('data-action="item_raised"') == 5 and page.count('data-action="action_added"') == 5
    assert_constant_queries(client, reverse("review_meeting_agenda", args=[meeting.pk]), decisions, few=1, many=3)


def test_a_meetings_page_runs_as_many_queries_for_one_history_row_as_for_many(client_as):
    meeting = make_meeting()
    actor = role_user(Role.QUALITY_MANAGER)
    rooms = iter(range(1, 100))

    def edits(n: int) -> None:
        for _ in range(n):
            meeting_update(meeting=meeting, actor=actor, location=f"Room {next(rooms)}")

    client = client_as(Role.BR_MANAGER)
    url = reverse("review_meeting_detail", args=[meeting.pk])
    assert_constant_queries(client, url, edits, few=1, many=6)
    assert client.get(url).content.decode().count('data-action="edited"') == 6


def test_the_list_runs_as_many_queries_for_one_meeting_as_for_many(client_as):
    assert_constant_queries(
        client_as(Role.AUDITOR),
        reverse("review_meeting_list"),
        lambda n: [make_meeting(M.HELD if i % 2 else M.PLANNED, attendees=[UserFactory()]) for i in range(n)],
        few=1,
        many=8,
    )


# --- list ------------------------------------------------------------------------------------


def test_the_list_shows_planned_meetings_first_and_filters(client_as):
    held = make_meeting(M.HELD, scheduled_at=timezone.now() + timedelta(days=9))
    planned = make_meeting(kind=MeetingKind.QUALITY_ANALYSIS, scheduled_at=timezone.now() - timedelta(days=9))
    cancelled = make_meeting(M.CANCELLED, period_label="2025-03")
    client = client_as(Role.SERVICE_DESK)
    page = client.get(reverse("review_meeting_list")).content.decode()
    assert page.index(f'data-testid="meeting-{planned.pk}"') < page.index(f'data-testid="meeting-{held.pk}"')
    assert 'data-testid="create-link"' not in page  # the desk does not plan meetings
    only_quality = client.get(reverse("review_meeting_list"), {"kind": "quality_analysis"}).content.decode()
    assert f"meeting-{planned.pk}" in only_quality and f"meeting-{held.pk}" not in only_quality
    held_only = client.get(reverse("review_meeting_list"), {"status": "held"}).content.decode()
    assert f"meeting-{held.pk}" in held_only and f"meeting-{planned.pk}" not in held_only
    by_period = client.get(reverse("review_meeting_list"), {"period": "2025"}).content.decode()
    assert f"meeting-{cancelled.pk}" in by_period and f"meeting-{held.pk}" not in by_period
    assert client.get(reverse("review_meeting_list"), {"status": "postponed"}).status_code == 400


# --- plan and edit ---------------------------------------------------------------------------


def _form(**fields):
    data = {
        "kind": "review",
        "title": "",
        "period_label": "2026H2",
        "scheduled_at": "2026-12-18T14:30",
        "location": "Meeting room 2",
        "chair": "",
        "other_attendees": "Customer: Ms Li",
        "agenda": "",
    }
    data.update(fields)
    return data


def test_plan_a_meeting_from_the_form(client_as):
    client = client_as(Role.BR_MANAGER)
    attendee = UserFactory()
    form = client.get(reverse("review_meeting_create") + "?kind=quality_analysis")
    assert form.status_code == 200 and this_month() in form.content.decode()
    response = client.post(reverse("review_meeting_create"), {**_form(), "attendees": [attendee.pk]})
    meeting = ReviewMeeting.objects.get()
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    assert (meeting.period_label, meeting.period_start, meeting.chair) == ("2026-H2", date(2026, 7, 1), client.user)
    assert list(meeting.attendees.all()) == [attendee]
    assert meeting.agenda  # the kind's standard agenda


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"period_label": "2026-13"}, "period_label"),
        ({"scheduled_at": "soon"}, "scheduled_at"),
        ({"kind": "x"}, "kind"),
    ],
)
def test_bad_input_is_a_400_with_the_message_and_writes_nothing(client_as, fields, field):
    client = client_as(Role.QUALITY_MANAGER)
    with assert_nothing_written(ReviewMeeting):
        response = client.post(reverse("review_meeting_create"), _form(**fields))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert f'id="id_{field}_error"' in response.content.decode()


def test_edit_a_planned_meeting_and_the_minutes_of_a_held_one(client_as):
    client = client_as(Role.BR_MANAGER)
    meeting = make_meeting()
    edit = reverse("review_meeting_edit", args=[meeting.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, _form(period_label="2026-Q4", title="Fourth quarter"))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.period_label, meeting.title) == ("2026-Q4", "Fourth quarter")
    held = make_meeting(M.HELD)
    frozen = held.inputs
    page = client.get(reverse("review_meeting_edit", args=[held.pk])).content.decode()
    assert 'data-testid="held-note"' in page and 'name="period_label"' not in page
    response = client.post(reverse("review_meeting_edit", args=[held.pk]), {"minutes": "The final minutes"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.minutes == "The final minutes" and held.inputs == frozen


def test_a_cancelled_meeting_is_not_edited(client_as):
    meeting = make_meeting(M.CANCELLED)
    response = client_as(Role.BR_MANAGER).get(reverse("review_meeting_edit", args=[meeting.pk]))
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()


# --- moves -----------------------------------------------------------------------------------


def _act(client, meeting, action, **data):
    return client.post(
        reverse("review_meeting_action", args=[meeting.pk, action]), {f"{action}-{k}": v for k, v in data.items()}
    )


@pytest.mark.parametrize("action", list(MEETING_TRANSITIONS))
@pytest.mark.parametrize("status", list(M))
def test_every_move_from_the_page_is_allowed_from_its_sources_and_refused_elsewhere(client_as, action, status):
    client = client_as(Role.BR_MANAGER)
    meeting = make_meeting(status)
    url = reverse("review_meeting_action", args=[meeting.pk, action])
    page = client.get(meeting.get_absolute_url()).content.decode()
    offered = status == M.PLANNED
    assert (url in page) == offered
    if offered:
        response = _act(client, meeting, action, note="Agreed with the customer")
        assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
        meeting.refresh_from_db()
        assert meeting.status == MEETING_TRANSITIONS[action].target
        event = ReviewMeetingEvent.objects.filter(meeting=meeting).latest("pk")
        assert (event.action, event.from_status, event.to_status) == (action, M.PLANNED, meeting.status)
        assert event.note == "Agreed with the customer"
    else:
        with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
            response = _act(client, meeting, action, note="Agreed with the customer")
        assert response.status_code == 400
        body = response.content.decode()
        assert f'data-action-error="{action}"' in body
        assert str(meeting.get_status_display()) in body  # "… not possible while the meeting is …"


def test_hold_from_the_page_freezes_the_inputs(client_as):
    make_kpi_value()
    client = client_as(Role.BR_MANAGER)
    meeting = make_meeting()
    hold_url = reverse("review_meeting_action", args=[meeting.pk, "hold"])
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert hold_url in page and reverse("review_meeting_action", args=[meeting.pk, "cancel"]) in page
    response = _act(client, meeting, "hold", minutes="Discussed the KPIs", note="")
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == M.HELD and meeting.minutes == "Discussed the KPIs" and meeting.inputs["kpis"]
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert 'data-live="0"' in page and hold_url not in page
    assert 'data-form="decision"' in page
    # The history: planned, then held, with what the hold froze.
    timeline = page[page.index('data-testid="timeline"') :]
    assert timeline.index('data-action="created"') < timeline.index('data-action="hold"')
    assert 'data-testid="event-details"' in timeline
    assert str(MEETING_TRANSITIONS["hold"].label) in timeline


def test_cancel_without_a_reason_is_a_400_and_writes_nothing(client_as):
    client = client_as(Role.QUALITY_MANAGER)
    meeting = make_meeting()
    with assert_nothing_written(ReviewMeeting):
        response = _act(client, meeting, "cancel", note="")
    assert response.status_code == 400
    assert 'data-action-error="cancel"' in response.content.decode()
    response = _act(client, meeting, "cancel", note="The customer asked to postpone")
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == M.CANCELLED
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert "The customer asked to postpone" in page  # the history shows the reason
    assert 'data-action="cancel"' in page[page.index('data-testid="timeline"') :]
    assert ReviewMeetingEvent.objects.filter(meeting=meeting, action="cancel").count() == 1


def test_a_move_the_table_does_not_allow_now_is_a_400_with_the_reason(client_as):
    client = client_as(Role.BR_MANAGER)
    meeting = make_meeting(M.HELD)
    with assert_nothing_written(ReviewMeeting):
        response = _act(client, meeting, "cancel", note="too late")
    assert response.status_code == 400
    assert 'data-action-error="cancel"' in response.content.decode()


def test_moves_need_a_meeting_role_and_a_known_action(client):
    meeting = make_meeting()
    desk, head = user_with_role(Role.SERVICE_DESK), user_with_role(Role.DEPARTMENT_HEAD)
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        client.force_login(desk)
        assert _act(client, meeting, "hold").status_code == 403
        client.force_login(head)
        assert _act(client, meeting, "cancel", note="x").status_code == 403
    client.force_login(role_user(Role.BR_MANAGER))
    assert _act(client, meeting, "reopen").status_code == 404
    assert client.get(reverse("review_meeting_action", args=[meeting.pk, "hold"])).status_code == 405
    assert client.post(reverse("review_meeting_action", args=[999999, "hold"])).status_code == 404


def test_the_history_is_shown_to_whoever_may_read_it(client):
    """The timeline needs ``view_reviewmeetingevent``: the page without it has none."""
    meeting = make_meeting()
    reader = UserFactory()
    reader.user_permissions.add(Permission.objects.get(codename="view_reviewmeeting"))
    client.force_login(reader)
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert 'data-testid="timeline"' not in page and 'data-testid="no-actions"' in page
    reader.user_permissions.add(Permission.objects.get(codename="view_reviewmeetingevent"))
    client.force_login(UserFactory._meta.model.objects.get(pk=reader.pk))
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert 'data-testid="timeline"' in page and 'data-action="created"' in page


# --- decisions -------------------------------------------------------------------------------


def test_record_a_decision_and_raise_an_item_from_it(client_as):
    client = client_as(Role.BR_MANAGER)
    meeting = make_meeting(M.HELD)
    add = reverse("review_meeting_decision_add", args=[meeting.pk])
    with assert_nothing_written(MeetingDecision):
        response = client.post(add, {"decision-text": ""})
    assert response.status_code == 400 and response.context["decision_form"].errors["text"]
    owner = UserFactory()
    response = client.post(
        add, {"decision-text": "Publish the night rota", "decision-owner": owner.pk, "decision-due_on": "2030-02-01"}
    )
    assert response.status_code == 302
    decision = MeetingDecision.objects.get()
    assert (decision.text, decision.owner, decision.due_on) == ("Publish the night rota", owner, date(2030, 2, 1))
    response = client.post(
        reverse("review_meeting_decision_item", args=[meeting.pk, decision.pk]),
        {f"item-{decision.pk}-title": "", f"item-{decision.pk}-priority": "high", f"item-{decision.pk}-owner": ""},
    )
    assert response.status_code == 302
    item = ImprovementItem.objects.get()
    decision.refresh_from_db()
    assert decision.item == item and item.source == meeting and item.source_kind == "review_meeting"
    assert (item.title, item.owner, item.priority) == ("Publish the night rota", owner, "high")
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert 'data-testid="decision-item"' in page and item.reference in page
    assert 'data-form="decision-item"' not in page  # done: no second item


def test_a_decision_is_added_to_a_plan_as_an_action(client_as):
    client = client_as(Role.PROCESS_OWNER)
    meeting = make_meeting(M.HELD)
    decision = make_decision(meeting, owner=UserFactory())
    url = reverse("review_meeting_decision_action", args=[meeting.pk, decision.pk])
    closed = make_plan(PlanStatus.REJECTED)
    prefix = f"action-{decision.pk}"
    with assert_nothing_written(PlanAction, MeetingDecision):
        response = client.post(url, {f"{prefix}-plan": closed.pk, f"{prefix}-working_days": "5"})
    assert response.status_code == 400
    assert response.context["decisions"][0]["action_form"].errors["plan"]
    assert 'data-form="decision-action"' in response.content.decode()
    plan = make_plan(PlanStatus.DRAFT)
    with assert_nothing_written(PlanAction, MeetingDecision):
        response = client.post(url, {f"{prefix}-plan": plan.pk})  # no due date anywhere
    assert response.status_code == 400
    response = client.post(url, {f"{prefix}-plan": plan.pk, f"{prefix}-working_days": "5"})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.action.plan == plan and decision.action.title == decision.text


def test_decisions_need_the_decision_permissions(client_as):
    meeting = make_meeting(M.HELD)
    decision = make_decision(meeting, owner=UserFactory())
    client = client_as(Role.SERVICE_DESK)
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert 'data-form="decision"' not in page and 'data-form="decision-item"' not in page
    with assert_nothing_written(MeetingDecision, ImprovementItem):
        assert (
            client.post(reverse("review_meeting_decision_add", args=[meeting.pk]), {"decision-text": "x"}).status_code
            == 403
        )
        assert (
            client.post(reverse("review_meeting_decision_item", args=[meeting.pk, decision.pk]), {}).status_code == 403
        )
    other = make_meeting(M.HELD)
    response = client_as(Role.BR_MANAGER).post(
        reverse("review_meeting_decision_item", args=[other.pk, decision.pk]), {}
    )
    assert response.status_code == 404  # the decision of another meeting


def test_a_planned_meeting_takes_no_decision(client_as):
    meeting = make_meeting()
    client = client_as(Role.BR_MANAGER)
    with assert_nothing_written(MeetingDecision):
        response = client.post(
            reverse("review_meeting_decision_add", args=[meeting.pk]), {"decision-text": "Too early"}
        )
    assert response.status_code == 400


# --- the agenda ------------------------------------------------------------------------------


def test_the_agenda_prints_without_the_navigation(client_as):
    make_kpi_value()
    meeting = make_meeting(agenda="1. KPI report\n2. Plans")
    page = client_as(Role.AUDITOR).get(reverse("review_meeting_agenda", args=[meeting.pk])).content.decode()
    assert "/static/css/print.css" in page
    assert 'class="d-print-none' in page
    assert "<li>1. KPI report</li>" in page and "<li>2. Plans</li>" in page
    assert 'data-testid="inputs-kpis"' in page and 'data-live="1"' in page
    with open("static/css/print.css", encoding="utf-8") as css:
        rules = css.read()
    assert "@media print" in rules and ".navbar" in rules


def test_a_held_meetings_agenda_has_the_minutes_and_decisions(client_as):
    meeting = make_meeting(M.HELD)
    make_decision(meeting, text="Staff the night shift")
    page = client_as(Role.BR_MANAGER).get(reverse("review_meeting_agenda", args=[meeting.pk])).content.decode()
    assert 'data-testid="minutes"' in page and "Staff the night shift" in page and 'data-live="0"' in page
