"""Review meetings: planning for a period, the moves of ``MEETING_MACHINE`` on the workflow kit
(hold freezes the inputs, cancel needs the reason) — every move allowed and refused —, who may,
the history rows (moves and the rows that move nothing), the inputs compiled in a constant
number of queries, and decisions becoming an item or an action in one step."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.choices import Severity
from improvement.choices import ItemStatus, MeetingKind, MeetingStatus, PlanStatus, Priority
from improvement.models import ImprovementItem, MeetingDecision, PlanAction, ReviewMeeting, ReviewMeetingEvent
from improvement.selectors.meetings import meeting_inputs, meeting_shown_inputs, present_inputs
from improvement.services.meetings import (
    DEFAULT_AGENDA,
    EVENT_LABELS,
    MEETING_MACHINE,
    decision_add,
    decision_add_action,
    decision_raise_item,
    meeting_cancel,
    meeting_create,
    meeting_hold,
    meeting_period,
    meeting_transition,
    meeting_update,
)
from improvement.services.plans import action_complete
from improvement.workflow import MEETING_TRANSITIONS
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written, user_with_role
from itsm.core.workflow import TransitionRefused, allowed, perform
from kpi.models import ElementKind, Status
from tests.complaints.factories import make_complaint, role_user
from tests.factories import UserFactory
from tests.improvement.factories import make_item, make_plan
from tests.improvement.meeting_factories import (
    make_decision,
    make_kpi_definition,
    make_kpi_value,
    make_meeting,
    this_month,
)

pytestmark = pytest.mark.django_db

M = MeetingStatus


def brm():
    return role_user(Role.BR_MANAGER)


def history(meeting) -> list[ReviewMeetingEvent]:
    return list(MEETING_MACHINE.events(meeting))


def actions_of(meeting) -> list[str]:
    return [event.action for event in history(meeting)]


def meeting_allowed(meeting, user) -> list[str]:
    return [t.action for t in allowed(MEETING_MACHINE, meeting, user)]


# --- the period ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "canonical", "start", "end"),
    [
        ("2026-11", "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-2", "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026H2", "2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        (" 2026-h1 ", "2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-Q4", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", "2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-W01", "2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
    ],
)
def test_the_period_is_read_from_its_label(label, canonical, start, end):
    period = meeting_period(label)
    assert (period.label, period.start, period.end) == (canonical, start, end)


@pytest.mark.parametrize("label", ["", "2026-13", "2026-H3", "2026-Q5", "26-11", "November", "2026-W60", "1999-01"])
def test_a_label_that_is_no_period_is_refused_on_the_field(label):
    with pytest.raises(ValidationError) as caught:
        meeting_period(label)
    assert "period_label" in caught.value.message_dict


# --- planning --------------------------------------------------------------------------------


def test_create_numbers_the_meeting_and_fills_the_period_the_chair_and_the_agenda():
    actor = brm()
    attendee = UserFactory()
    first = meeting_create(
        actor=actor, period_label="2026H2", scheduled_at=timezone.now(), attendees=[attendee], location="Room 3"
    )
    second = meeting_create(
        actor=actor, period_label="2026-11", scheduled_at=timezone.now(), kind=MeetingKind.QUALITY_ANALYSIS
    )
    year = timezone.localtime().year
    assert first.reference == f"RM-{year}-001"
    assert second.reference == f"RM-{year}-002"
    assert (first.period_label, first.period_start, first.period_end) == (
        "2026-H2",
        date(2026, 7, 1),
        date(2026, 12, 31),
    )
    assert first.status == M.PLANNED and first.inputs == {} and first.held_at is None
    assert first.chair == actor and first.created_by == actor
    assert list(first.attendees.all()) == [attendee]
    assert first.agenda == str(DEFAULT_AGENDA[MeetingKind.REVIEW])
    assert second.agenda == str(DEFAULT_AGENDA[MeetingKind.QUALITY_ANALYSIS])
    assert "2026-11" in second.title
    (planned,) = history(first)
    assert (planned.action, planned.actor, planned.from_status, planned.to_status) == ("created", actor, "", "")
    assert planned.data["period"] == "2026-H2" and planned.data["scheduled_at"]
    assert MEETING_MACHINE.action_label("created") == str(EVENT_LABELS["created"])


def test_create_with_a_bad_period_or_an_inactive_chair_writes_nothing():
    actor = brm()
    inactive = UserFactory(is_active=False)
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        with pytest.raises(ValidationError) as caught:
            meeting_create(actor=actor, period_label="2026-13", scheduled_at=timezone.now())
        assert "period_label" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            meeting_create(actor=actor, period_label="2026-11", scheduled_at=timezone.now(), chair=inactive)
        assert "chair" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            meeting_create(actor=actor, period_label="2026-11", scheduled_at=timezone.now(), kind="party")
        assert "kind" in caught.value.message_dict


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.DEPARTMENT_HEAD, Role.SATISFACTION_OWNER, Role.AUDITOR])
def test_roles_outside_the_meeting_roles_may_not_plan(role):
    user = user_with_role(role)
    with assert_nothing_written(ReviewMeeting), pytest.raises(PermissionDenied):
        meeting_create(actor=user, period_label="2026-11", scheduled_at=timezone.now())


@pytest.mark.parametrize("role", [Role.BR_MANAGER, Role.QUALITY_MANAGER, Role.PROCESS_OWNER])
def test_the_meeting_roles_plan(role):
    assert meeting_create(actor=user_with_role(role), period_label="2026-11", scheduled_at=timezone.now()).pk


def test_the_permission_alone_is_not_enough_without_a_meeting_role():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="add_reviewmeeting"))
    with pytest.raises(PermissionDenied):
        meeting_create(actor=user, period_label="2026-11", scheduled_at=timezone.now())


# --- editing -----------------------------------------------------------------------------------


def test_a_planned_meeting_changes_its_period_and_attendees():
    meeting = make_meeting(period_label="2026-10")
    one, two = UserFactory(), UserFactory()
    meeting = meeting_update(meeting=meeting, actor=brm(), period_label="2026-Q4", attendees=[one, two], title="Q4")
    assert (meeting.period_label, meeting.period_start, meeting.period_end) == (
        "2026-Q4",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    assert set(meeting.attendees.all()) == {one, two}
    assert meeting.title == "Q4"
    assert actions_of(meeting) == ["created", "edited"]
    edited = history(meeting)[-1]
    assert set(edited.data["fields"]) == {"title", "period_label", "attendees"}
    assert (edited.from_status, edited.to_status, edited.actor.has_perm("improvement.change_reviewmeeting")) == (
        "",
        "",
        True,
    )


def test_saving_a_meeting_unchanged_adds_no_history_row():
    meeting = make_meeting(location="Room 1")
    meeting_update(meeting=meeting, actor=brm(), location="Room 1", attendees=[])
    assert actions_of(meeting) == ["created"]


def test_a_held_meeting_changes_only_its_minutes_never_its_inputs():
    meeting = make_meeting(M.HELD)
    frozen = meeting.inputs
    someone = UserFactory()
    with assert_nothing_written(ReviewMeeting):
        with pytest.raises(ValidationError) as caught:
            meeting_update(meeting=meeting, actor=brm(), title="Renamed", minutes="x")
        assert set(caught.value.message_dict) == {"title"}
        with pytest.raises(ValidationError) as caught:
            meeting_update(meeting=meeting, actor=brm(), attendees=[someone])
        assert "attendees" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            meeting_update(meeting=meeting, actor=brm(), inputs={})
        assert "inputs" in caught.value.message_dict
    assert actions_of(meeting) == ["created", "hold"]
    meeting = meeting_update(meeting=meeting, actor=brm(), minutes="Corrected minutes")
    meeting.refresh_from_db()
    assert meeting.minutes == "Corrected minutes"
    assert meeting.inputs == frozen
    changed = history(meeting)[-1]
    assert changed.action == "minutes_changed"
    assert changed.data == {"previous": "We went through the figures."}  # the minutes as they were
    meeting_update(meeting=meeting, actor=brm(), minutes="Corrected minutes")
    assert actions_of(meeting) == ["created", "hold", "minutes_changed"]  # nothing changed: no row


def test_a_cancelled_meeting_is_not_changed():
    meeting = make_meeting(M.CANCELLED)
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent), pytest.raises(ValidationError):
        meeting_update(meeting=meeting, actor=brm(), minutes="late")


@pytest.mark.parametrize("field", ["status", "held_at", "reference", "created_by"])
def test_the_machine_fields_are_not_edited(field):
    meeting = make_meeting()
    with assert_nothing_written(ReviewMeeting), pytest.raises(ValidationError) as caught:
        meeting_update(meeting=meeting, actor=brm(), **{field: None})
    assert field in caught.value.message_dict


# --- the moves -------------------------------------------------------------------------------


# Every (action, status) the table has an arrow for, and where it leads.
MOVES = {("hold", M.PLANNED): M.HELD, ("cancel", M.PLANNED): M.CANCELLED}


@pytest.mark.parametrize("action", list(MEETING_TRANSITIONS))
@pytest.mark.parametrize("status", list(M))
def test_every_move_is_allowed_from_its_sources_and_refused_elsewhere(action, status):
    """The table is the one truth: hold and cancel only from planned, through the kit."""
    meeting = make_meeting(status)
    expected = MOVES.get((action, status))
    before = actions_of(meeting)
    user = brm()
    assert (action in meeting_allowed(meeting, user)) == (expected is not None)
    if expected is None:
        with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent), pytest.raises(TransitionRefused) as caught:
            meeting_transition(meeting=meeting, action=action, actor=user, note="a reason")
        assert "action" in caught.value.message_dict
        assert str(M(status).label) in caught.value.message_dict["action"][0]
    else:
        moved = meeting_transition(meeting=meeting, action=action, actor=user, note="a reason")
        assert moved.status == expected
        moved.refresh_from_db()
        assert moved.status == expected
        event = history(moved)[-1]
        assert actions_of(moved) == [*before, action]
        assert (event.from_status, event.to_status, event.actor, event.note) == (status, expected, user, "a reason")
        assert MEETING_MACHINE.action_label(action) == str(MEETING_TRANSITIONS[action].label)


def test_the_machine_runs_the_meeting_table():
    assert MEETING_MACHINE.table is MEETING_TRANSITIONS
    assert MEETING_MACHINE.event_model is ReviewMeetingEvent
    assert MEETING_MACHINE.model is ReviewMeeting
    # Every row the services write that moves nothing has a label.
    assert set(EVENT_LABELS) == {
        "created",
        "edited",
        "minutes_changed",
        "decision_recorded",
        "item_raised",
        "action_added",
    }


def test_an_unknown_action_or_input_is_refused():
    meeting = make_meeting()
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        with pytest.raises(TransitionRefused):
            meeting_transition(meeting=meeting, action="reopen", actor=brm())
        with pytest.raises(ValidationError) as caught:
            meeting_transition(meeting=meeting, action="cancel", actor=brm(), note="no", minutes="x")
        assert "minutes" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            meeting_transition(meeting=meeting, action="hold", actor=brm(), inputs={})
        assert "inputs" in caught.value.message_dict


def test_the_status_moves_only_through_the_kit():
    """The status is not editable: not through the edit service, and perform is the one mover."""
    meeting = make_meeting()
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent), pytest.raises(ValidationError):
        meeting_update(meeting=meeting, actor=brm(), status=M.HELD)
    assert ReviewMeeting._meta.get_field("status").editable is False
    assert perform(MEETING_MACHINE, meeting, "hold", actor=brm()).status == M.HELD


def test_cancel_needs_the_reason_and_keeps_it_in_the_history():
    meeting = make_meeting()
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent), pytest.raises(ValidationError) as caught:
        meeting_cancel(meeting=meeting, actor=brm(), note="  ")
    assert "note" in caught.value.message_dict
    meeting = meeting_cancel(meeting=meeting, actor=brm(), note="The customer could not come.")
    assert meeting.status == M.CANCELLED and meeting.inputs == {} and meeting.held_at is None
    last = history(meeting)[-1]
    assert (last.action, last.note, last.from_status, last.to_status) == (
        "cancel",
        "The customer could not come.",
        M.PLANNED,
        M.CANCELLED,
    )
    assert last.data == {}
    assert meeting_shown_inputs(meeting) == ({}, False)


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.DEPARTMENT_HEAD, Role.SERVICE_LEVEL_MANAGER, Role.AUDITOR])
def test_roles_the_table_does_not_name_may_not_hold_or_cancel(role):
    meeting = make_meeting()
    user = user_with_role(role)
    assert meeting_allowed(meeting, user) == []
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        with pytest.raises(PermissionDenied):
            meeting_hold(meeting=meeting, actor=user)
        with pytest.raises(PermissionDenied):
            meeting_cancel(meeting=meeting, actor=user, note="no")


def test_the_permission_alone_or_chairing_does_not_move_a_meeting():
    """The kit's permission (change) and a role the table names, both: a chair without a
    meeting role may not, even holding the change permission."""
    chair = UserFactory()
    chair.user_permissions.add(Permission.objects.get(codename="change_reviewmeeting"))
    meeting = make_meeting(chair=chair)
    assert meeting_allowed(meeting, chair) == []
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent), pytest.raises(PermissionDenied):
        meeting_hold(meeting=meeting, actor=chair)


def test_a_move_needs_a_person():
    meeting = make_meeting()
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent), pytest.raises(PermissionDenied):
        meeting_transition(meeting=meeting, action="cancel", actor=None, note="no one")


@pytest.mark.parametrize("role", [Role.BR_MANAGER, Role.QUALITY_MANAGER, Role.PROCESS_OWNER])
def test_the_meeting_roles_hold(role):
    meeting = make_meeting()
    user = user_with_role(role)
    assert meeting_allowed(meeting, user) == ["hold", "cancel"]
    assert meeting_hold(meeting=meeting, actor=user).status == M.HELD
    assert history(meeting)[-1].actor == user


def test_hold_freezes_the_inputs_and_the_time_with_the_minutes():
    definition = make_kpi_definition()
    value = make_kpi_value(definition, value="93.5", status=Status.RED)
    meeting = make_meeting()
    before = timezone.now()
    held = meeting_hold(meeting=meeting, actor=brm(), minutes="Night cover was discussed.")
    held.refresh_from_db()
    assert held.status == M.HELD and held.minutes == "Night cover was discussed."
    assert before <= held.held_at <= timezone.now()
    rows = [row for row in held.inputs["kpis"] if row["code"] == definition.code]
    assert rows == [
        {
            "kpi_id": definition.pk,
            "code": definition.code,
            "name_zh": definition.name_zh,
            "name_en": definition.name_en,
            "period": value.period_label,
            "period_start": value.period_start.isoformat(),
            "period_end": value.period_end.isoformat(),
            "value": "93.5000",
            "target": "95.0000",
            "status": "red",
            "unit": "percent",
            "direction": "at_least",
            "closed": False,
        }
    ]
    assert json.loads(json.dumps(held.inputs)) == held.inputs  # plain JSON
    event = history(held)[-1]
    assert (event.action, event.from_status, event.to_status) == ("hold", M.PLANNED, M.HELD)
    # The event records what was frozen, counted from the frozen inputs.
    assert event.data["inputs"]["kpis"] == len(held.inputs["kpis"]) >= 1
    assert event.data["inputs"]["complaints"] == held.inputs["complaints"]["total"]
    assert set(event.data["inputs"]) == {
        "kpis",
        "plans_open",
        "items_open",
        "items_overdue",
        "actions_overdue",
        "complaints",
    }


def test_data_changed_after_the_hold_does_not_change_the_held_meetings_inputs():
    definition = make_kpi_definition()
    value = make_kpi_value(definition, value="93.5", status=Status.RED)
    held = make_meeting(M.HELD)
    frozen = json.loads(json.dumps(held.inputs))
    # The KPI value is recomputed, an item is raised, a complaint comes in.
    type(value).objects.filter(pk=value.pk).update(value=Decimal("99"), status=Status.GREEN)
    make_item(title="Raised after the meeting")
    make_complaint()
    held.refresh_from_db()
    assert held.inputs == frozen
    assert meeting_shown_inputs(held) == (frozen, False)
    live = meeting_inputs(held)
    assert [row["value"] for row in live["kpis"] if row["code"] == definition.code] == ["99.0000"]
    assert live["items"]["open_count"] == frozen["items"]["open_count"] + 1
    assert live["complaints"]["total"] == frozen["complaints"]["total"] + 1


def test_a_planned_meeting_shows_its_inputs_live():
    meeting = make_meeting()
    shown, live = meeting_shown_inputs(meeting)
    assert live is True and shown["period"]["label"] == this_month()
    make_item()
    assert meeting_shown_inputs(meeting)[0]["items"]["open_count"] == shown["items"]["open_count"] + 1


# --- the inputs ------------------------------------------------------------------------------


def test_the_kpi_values_are_the_current_overall_ones_overlapping_the_period():
    definition = make_kpi_definition()
    month = timezone.localdate().replace(day=1)
    shown = make_kpi_value(definition, start=month)
    previous = (month - timedelta(days=1)).replace(day=1)
    make_kpi_value(definition, start=previous)  # another month
    half = make_kpi_definition(cycle="half_yearly")
    half_start = month.replace(month=1 if month.month <= 6 else 7)
    half_end = date(month.year, 6, 30) if month.month <= 6 else date(month.year, 12, 31)
    covering = make_kpi_value(half, start=half_start, end=half_end, label="H", status=Status.GREEN)
    old = make_kpi_value(make_kpi_definition(), start=month)
    type(old).objects.filter(pk=old.pk).update(is_current=False)
    breakdown = make_kpi_value(make_kpi_definition(), start=month)
    type(breakdown).objects.filter(pk=breakdown.pk).update(element_kind=ElementKind.ORGANISATION, element_id=1)
    meeting = make_meeting()
    found = {(row["code"], row["period"]) for row in meeting_inputs(meeting)["kpis"]}
    mine = {code for code, _period in found if code.startswith("test_kpi_")}
    assert mine == {definition.code, half.code}
    assert (definition.code, shown.period_label) in found and (half.code, covering.period_label) in found


def test_the_inputs_count_plans_items_actions_and_complaints():
    today = timezone.localdate()
    plan = make_plan(PlanStatus.IN_PROGRESS, actions=4)
    late, on_time, done_late, _open = plan.actions.order_by("pk")
    PlanAction.objects.filter(pk=late.pk).update(due_on=today - timedelta(days=3))
    for action in (on_time, done_late):
        action_complete(action=action, actor=action.owner, evidence_note="done")
    PlanAction.objects.filter(pk=done_late.pk).update(due_on=today - timedelta(days=1))
    make_plan(PlanStatus.REJECTED)
    overdue_item = make_item(priority=Priority.HIGH, target_date=today - timedelta(days=1))
    make_item(priority=Priority.LOW)
    make_complaint(severity=Severity.MAJOR)
    make_complaint()
    inputs = meeting_inputs(make_meeting())

    plans = inputs["plans"]
    by_status = {row["status"]: row["count"] for row in plans["by_status"]}
    assert by_status[PlanStatus.IN_PROGRESS] == 1 and by_status[PlanStatus.REJECTED] == 1
    assert plans["open_count"] == 1 and plans["approved_in_period"] == 1 and plans["closed_in_period"] == 0
    assert [row["id"] for row in plans["open"]] == [plan.pk]
    row = plans["open"][0]
    assert (row["stage"], row["actions_done"], row["actions_total"], row["actions_overdue"]) == ("do", 2, 4, 1)

    items = inputs["items"]
    assert items["open_count"] == 2 and items["overdue_count"] == 1
    assert {row["priority"]: row["overdue"] for row in items["by_priority"]} == {"high": 1, "low": 0}
    assert [row["kind"] for row in items["by_source_kind"]] == ["sla_measurement"]
    assert [row["reference"] for row in items["overdue"]] == [overdue_item.reference]

    actions = inputs["actions"]
    assert actions["overdue_count"] == 1 and actions["open_count"] == 2
    assert [(row["id"], row["days_overdue"]) for row in actions["overdue"]] == [(late.pk, 3)]
    assert actions["done_in_period"] == 2 and actions["done_on_time_in_period"] == 1

    complaints = inputs["complaints"]
    assert complaints["total"] == 2 and complaints["open"] == 2
    assert {row["severity"]: row["count"] for row in complaints["by_severity"]} == {"major": 1, "normal": 1}
    assert {row["status"] for row in complaints["by_status"]} == {"registered"}

    shown = present_inputs(inputs)
    assert shown["items"]["overdue"][0]["url"].endswith(f"/{overdue_item.pk}/")
    assert shown["plans"]["open"][0]["stage_label"]


def test_a_complaint_outside_the_period_is_not_counted():
    make_complaint(received_at=timezone.now() - timedelta(days=400))
    assert meeting_inputs(make_meeting())["complaints"]["total"] == 0


def test_the_inputs_take_as_many_queries_for_one_row_as_for_many():
    meeting = make_meeting()

    def rows(n: int) -> None:
        today = timezone.localdate()
        for index in range(n):
            make_kpi_value(make_kpi_definition())
            plan = make_plan(PlanStatus.IN_PROGRESS, title=f"Plan {index}")
            PlanAction.objects.filter(plan=plan).update(due_on=today - timedelta(days=2))
            make_item(title=f"Item {index}", target_date=today - timedelta(days=1))
            make_complaint()

    rows(1)
    meeting_inputs(meeting)
    with CaptureQueriesContext(connection) as few:
        small = meeting_inputs(meeting)
    rows(4)
    with CaptureQueriesContext(connection) as many:
        large = meeting_inputs(meeting)
    assert (
        len(large["plans"]["open"]) == 5 and len(large["items"]["overdue"]) == 5 and large["complaints"]["total"] == 5
    )
    assert len(small["actions"]["overdue"]) == 1
    assert len(few) == len(many), "\n".join(q["sql"] for q in many.captured_queries)


# --- decisions -------------------------------------------------------------------------------


def test_decisions_are_recorded_on_a_held_meeting_only():
    planned = make_meeting()
    with assert_nothing_written(MeetingDecision, ReviewMeetingEvent), pytest.raises(ValidationError):
        decision_add(meeting=planned, actor=brm(), text="Too early")
    held = make_meeting(M.HELD)
    with assert_nothing_written(MeetingDecision, ReviewMeetingEvent), pytest.raises(ValidationError) as caught:
        decision_add(meeting=held, actor=brm(), text="  ")
    assert "text" in caught.value.message_dict
    owner = UserFactory()
    actor = brm()
    decision = decision_add(
        meeting=held, actor=actor, text="Hire a night supervisor\nfrom March", owner=owner, due_on=date(2030, 1, 31)
    )
    assert (decision.meeting, decision.owner, decision.due_on) == (held, owner, date(2030, 1, 31))
    recorded = history(held)[-1]
    assert (recorded.action, recorded.actor, recorded.from_status, recorded.to_status) == (
        "decision_recorded",
        actor,
        "",
        "",
    )
    assert recorded.data == {
        "decision": decision.pk,
        "text": "Hire a night supervisor",
        "owner": str(owner),
        "due_on": "2030-01-31",
    }


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.DEPARTMENT_HEAD, Role.AUDITOR])
def test_roles_without_the_decision_permission_record_none(role):
    held = make_meeting(M.HELD)
    user = user_with_role(role)
    with assert_nothing_written(MeetingDecision, ReviewMeetingEvent), pytest.raises(PermissionDenied):
        decision_add(meeting=held, actor=user, text="No")


def test_a_decision_raises_an_item_whose_source_is_the_meeting_in_one_step():
    held = make_meeting(M.HELD)
    owner = UserFactory()
    decision = make_decision(
        held, text="Add a night-shift supervisor\nStarting next month", owner=owner, due_on=date(2030, 3, 1)
    )
    item = decision_raise_item(decision=decision, actor=brm(), priority=Priority.HIGH)
    decision.refresh_from_db()
    assert decision.item == item
    assert item.source == held and item.source_kind == "review_meeting"
    assert (item.title, item.owner, item.target_date, item.priority, item.status) == (
        "Add a night-shift supervisor",
        owner,
        date(2030, 3, 1),
        "high",
        ItemStatus.OPEN,
    )
    assert item.description == decision.text
    assert actions_of(held) == ["created", "hold", "decision_recorded", "item_raised"]
    raised = history(held)[-1]
    assert raised.data == {
        "decision": decision.pk,
        "item": item.reference,
        "item_id": item.pk,
        "title": "Add a night-shift supervisor",
    }
    plan = make_plan(PlanStatus.DRAFT)
    with assert_nothing_written(ImprovementItem, PlanAction, ReviewMeetingEvent):
        with pytest.raises(ValidationError):
            decision_raise_item(decision=decision, actor=brm())
        with pytest.raises(ValidationError):
            decision_add_action(decision=decision, actor=brm(), plan=plan)


def test_a_decision_becomes_an_action_of_an_open_plan_in_one_step():
    held = make_meeting(M.HELD)
    owner = UserFactory()
    due = timezone.localdate() + timedelta(days=20)
    decision = make_decision(held, text="Rota the night shift", owner=owner, due_on=due)
    plan = make_plan(PlanStatus.DRAFT)
    action = decision_add_action(decision=decision, actor=brm(), plan=plan)
    decision.refresh_from_db()
    assert decision.action == action and decision.item is None
    assert (action.plan, action.title, action.owner, action.due_on) == (plan, "Rota the night shift", owner, due)
    added = history(held)[-1]
    assert added.action == "action_added"
    assert added.data == {
        "decision": decision.pk,
        "plan": plan.reference,
        "plan_id": plan.pk,
        "task": "Rota the night shift",
        "due_on": due.isoformat(),
    }


def test_an_action_added_to_an_approved_plan_sends_it_back_for_approval():
    held = make_meeting(M.HELD)
    decision = make_decision(held, owner=UserFactory())
    plan = make_plan(PlanStatus.APPROVED)
    decision_add_action(decision=decision, actor=brm(), plan=plan, working_days=5)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED


def test_an_action_needs_an_owner_a_date_and_an_open_plan_nothing_written_otherwise():
    held = make_meeting(M.HELD)
    decision = make_decision(held)
    draft = make_plan(PlanStatus.DRAFT)
    with assert_nothing_written(PlanAction, MeetingDecision, ReviewMeetingEvent):
        with pytest.raises(ValidationError) as caught:
            decision_add_action(decision=decision, actor=brm(), plan=draft)
        assert {"owner", "due_on"} <= set(caught.value.message_dict)
    closed = make_plan(PlanStatus.REJECTED)
    owner = UserFactory()
    with (
        assert_nothing_written(PlanAction, MeetingDecision, ReviewMeetingEvent),
        pytest.raises(ValidationError) as caught,
    ):
        decision_add_action(decision=decision, actor=brm(), plan=closed, owner=owner, working_days=3)
    assert "plan" in caught.value.message_dict
    decision.refresh_from_db()
    assert decision.action is None


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.SATISFACTION_OWNER, Role.AUDITOR])
def test_roles_without_the_decision_permission_follow_none_up(role):
    decision = make_decision(make_meeting(M.HELD), owner=UserFactory())
    user = user_with_role(role)
    draft = make_plan(PlanStatus.DRAFT)
    with assert_nothing_written(ImprovementItem, PlanAction, ReviewMeetingEvent):
        with pytest.raises(PermissionDenied):
            decision_raise_item(decision=decision, actor=user)
        with pytest.raises(PermissionDenied):
            decision_add_action(decision=decision, actor=user, plan=draft, working_days=2)
