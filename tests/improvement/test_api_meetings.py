"""The review meetings API: access by role, create and PATCH through the services (read-only
fields and bad input are a 400 with nothing written), the workflow kit's ``transitions/`` —
hold (inputs frozen) and cancel (reason required), every move allowed and refused — and
``events/`` (the meeting's history), decisions and their one-step item or action, constant
query counts, and the schema."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from improvement.choices import MeetingStatus, PlanStatus
from improvement.models import ImprovementItem, MeetingDecision, PlanAction, ReviewMeeting, ReviewMeetingEvent
from improvement.services.meetings import meeting_update
from improvement.workflow import MEETING_TRANSITIONS
from itsm.core.roles import Role
from itsm.core.testing import (
    Resource,
    api_matrix,
    assert_constant_queries,
    assert_nothing_written,
    check_api_access,
    user_with_role,
)
from kpi.models import KpiValue, Status
from tests.complaints.factories import make_complaint, role_user
from tests.factories import UserFactory
from tests.improvement.factories import make_item, make_plan
from tests.improvement.meeting_factories import make_decision, make_kpi_value, make_meeting

pytestmark = pytest.mark.django_db

M = MeetingStatus
URL = "/api/v1/review-meetings/"


def payload(**changes) -> dict:
    body = {
        "kind": "quality_analysis",
        "title": "November quality analysis",
        "period_label": "2026-11",
        "scheduled_at": "2026-12-05T09:30:00+08:00",
        "location": "Room 5",
        "attendees": [],
    }
    body.update(changes)
    return body


MEETINGS = Resource(
    model=ReviewMeeting, factory=lambda: make_meeting(), api_basename="review-meeting", api_payload=payload
)
CASES = [case for case in api_matrix(MEETINGS) if case.action in ("list", "retrieve", "create", "partial_update")]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_api_access(api_client, case):
    check_api_access(api_client, case)


def detail(meeting, suffix: str = "") -> str:
    return f"{URL}{meeting.pk}/{suffix}"


@pytest.fixture
def brm():
    return role_user(Role.BR_MANAGER)


@pytest.fixture
def api(api_client, brm):
    api_client.force_authenticate(brm)
    return api_client


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"]
    for field in fields:
        assert body["errors"].get(field), body
    return body


# --- create, retrieve, PATCH -----------------------------------------------------------------


def test_a_meeting_is_planned_and_read_with_its_live_inputs(api, brm):
    attendee = UserFactory()
    response = api.post(URL, payload(period_label="2026H2", attendees=[attendee.pk]), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"].startswith("RM-") and body["status"] == "planned"
    assert (body["period_label"], body["period_start"], body["period_end"]) == ("2026-H2", "2026-07-01", "2026-12-31")
    assert body["chair"] == brm.pk and body["attendees"] == [attendee.pk]
    assert body["allowed_actions"] == ["hold", "cancel"]
    assert body["inputs_live"] is True and body["inputs"]["period"]["label"] == "2026-H2"
    assert {"kpis", "plans", "items", "actions", "complaints"} <= set(body["inputs"])
    assert body["decisions"] == []


@pytest.mark.parametrize("key", ["status", "inputs", "held_at", "reference"])
def test_read_only_fields_are_a_400(api, key):
    with assert_nothing_written(ReviewMeeting):
        assert_invalid(api.post(URL, payload(**{key: "held"}), format="json"), key)
    meeting = make_meeting()
    with assert_nothing_written(ReviewMeeting):
        assert_invalid(api.patch(detail(meeting), {key: "held"}, format="json"), key)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_label": "2026-13"}, "period_label"),
        ({"period_label": ""}, "period_label"),
        ({"scheduled_at": "tomorrow"}, "scheduled_at"),
        ({"kind": "party"}, "kind"),
        ({"chair": 999999}, "chair"),
        ({"attendees": [999999]}, "attendees"),
    ],
)
def test_bad_input_is_a_400_per_field_and_writes_nothing(api, changes, field):
    with assert_nothing_written(ReviewMeeting):
        assert_invalid(api.post(URL, payload(**changes), format="json"), field)


def test_an_inactive_chair_is_refused(api):
    inactive = UserFactory(is_active=False)
    with assert_nothing_written(ReviewMeeting):
        assert_invalid(api.post(URL, payload(chair=inactive.pk), format="json"), "chair")


def test_patch_changes_a_planned_meeting_and_only_the_minutes_of_a_held_one(api):
    meeting = make_meeting()
    response = api.patch(detail(meeting), {"period_label": "2026-Q4", "title": "Q4 review"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["period_start"], response.json()["title"]) == ("2026-10-01", "Q4 review")
    held = make_meeting(M.HELD)
    frozen = held.inputs
    with assert_nothing_written(ReviewMeeting):
        assert_invalid(api.patch(detail(held), {"title": "Renamed"}, format="json"), "title")
    response = api.patch(detail(held), {"minutes": "Final minutes"}, format="json")
    assert response.status_code == 200 and response.json()["minutes"] == "Final minutes"
    assert response.json()["inputs"] == frozen


def test_put_and_delete_are_not_offered(api):
    meeting = make_meeting()
    assert api.put(detail(meeting), payload(), format="json").status_code == 405
    assert api.delete(detail(meeting)).status_code == 405
    assert ReviewMeeting.objects.filter(pk=meeting.pk).exists()


# --- the moves -------------------------------------------------------------------------------


def move(api, meeting, action: str, **body):
    return api.post(detail(meeting, "transitions/"), {"action": action, **body}, format="json")


def test_transitions_lists_the_moves_the_caller_may_make_now(api, api_client):
    meeting = make_meeting()
    rows = api.get(detail(meeting, "transitions/")).json()
    assert [row["action"] for row in rows] == ["hold", "cancel"]
    hold, cancel = rows
    assert (hold["target"], hold["requires"], hold["accepts"]) == ("held", [], ["note", "minutes"])
    assert (cancel["target"], cancel["requires"], cancel["accepts"]) == ("cancelled", ["note"], ["note"])
    assert hold["label"] == str(MEETING_TRANSITIONS["hold"].label) and hold["description"]
    assert api.get(detail(make_meeting(M.HELD), "transitions/")).json() == []
    api_client.force_authenticate(user_with_role(Role.SERVICE_DESK))
    assert api_client.get(detail(meeting, "transitions/")).json() == []  # reads, may not move


@pytest.mark.parametrize("action", list(MEETING_TRANSITIONS))
@pytest.mark.parametrize("status", list(M))
def test_every_move_is_allowed_from_its_sources_and_refused_elsewhere(api, brm, action, status):
    meeting = make_meeting(status)
    if status == M.PLANNED:
        response = move(api, meeting, action, note="Agreed")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == MEETING_TRANSITIONS[action].target and body["allowed_actions"] == []
        event = ReviewMeetingEvent.objects.filter(meeting=meeting).latest("pk")
        assert (event.action, event.from_status, event.to_status, event.actor, event.note) == (
            action,
            M.PLANNED,
            body["status"],
            brm,
            "Agreed",
        )
    else:
        with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
            body = assert_invalid(move(api, meeting, action, note="Agreed"), "action")
        assert str(M(status).label) in body["errors"]["action"][0]


def test_hold_freezes_the_inputs_and_later_data_does_not_change_them(api):
    value = make_kpi_value(value="90", status=Status.RED)
    meeting = make_meeting()
    response = move(api, meeting, "hold", minutes="Looked at the red KPI", note="Held on site")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "held" and body["held_at"] and body["inputs_live"] is False
    assert body["allowed_actions"] == [] and body["minutes"] == "Looked at the red KPI"
    frozen = body["inputs"]
    assert [row["value"] for row in frozen["kpis"] if row["code"] == value.definition.code] == ["90.0000"]
    KpiValue.objects.filter(pk=value.pk).update(value=99, status=Status.GREEN)
    make_item()
    make_complaint()
    assert api.get(detail(meeting)).json()["inputs"] == frozen
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        body = assert_invalid(move(api, meeting, "hold"), "action")
    assert body["errors"]["action"]


def test_cancel_needs_the_reason(api):
    meeting = make_meeting()
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        assert_invalid(move(api, meeting, "cancel"), "note")
        assert_invalid(move(api, meeting, "cancel", note="  "), "note")
        assert_invalid(move(api, meeting, "cancel", note="x", minutes="y"), "minutes")
        assert_invalid(move(api, meeting, "reopen"), "action")
        assert_invalid(move(api, meeting, "hold", status="held"), "status")
        assert_invalid(api.post(detail(meeting, "transitions/"), {}, format="json"), "action")
    response = move(api, meeting, "cancel", note="The customer postponed")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["inputs"] == {}
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        assert_invalid(move(api, meeting, "hold"), "action")


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.DEPARTMENT_HEAD, Role.SATISFACTION_OWNER, Role.AUDITOR])
def test_roles_without_the_meeting_permission_may_not_move_it(api_client, role):
    meeting = make_meeting()
    api_client.force_authenticate(user_with_role(role))
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        assert move(api_client, meeting, "hold").status_code == 403
        assert move(api_client, meeting, "cancel", note="no").status_code == 403
        assert api_client.post(f"{URL}999999/transitions/", {"action": "hold"}, format="json").status_code == 403
    assert api_client.get(detail(meeting)).json()["allowed_actions"] == []


def test_the_permission_without_a_meeting_role_is_a_403_with_the_reason(api_client):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_reviewmeeting", "change_reviewmeeting"]))
    meeting = make_meeting(chair=user)  # chairing it is not enough either
    api_client.force_authenticate(user)
    with assert_nothing_written(ReviewMeeting, ReviewMeetingEvent):
        response = move(api_client, meeting, "hold")
    assert response.status_code == 403 and response.json()["message"]


def test_a_missing_meeting_is_a_json_404(api):
    response = api.post(f"{URL}999999/transitions/", {"action": "hold"}, format="json")
    assert response.status_code == 404 and response.json()["message"]
    for suffix in ("transitions/", "events/"):
        response = api.get(f"{URL}999999/{suffix}")
        assert response.status_code == 404 and response.json()["message"]


# --- the history -------------------------------------------------------------------------------


def test_events_are_the_meetings_history_oldest_first(api, brm):
    meeting = make_meeting()
    meeting_update(meeting=meeting, actor=brm, location="Room 9")
    move(api, meeting, "hold", minutes="First draft")
    meeting_update(meeting=meeting, actor=brm, minutes="Final minutes")
    decision = api.post(detail(meeting, "decisions/"), {"text": "Staff the night shift"}, format="json").json()
    api.post(detail(meeting, f"decisions/{decision['id']}/item/"), {}, format="json")
    response = api.get(detail(meeting, "events/"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["action"] for row in rows] == [
        "created",
        "edited",
        "hold",
        "minutes_changed",
        "decision_recorded",
        "item_raised",
    ]
    hold = rows[2]
    assert (hold["from_status"], hold["to_status"], hold["actor"]) == ("planned", "held", brm.pk)
    assert hold["action_display"] == str(MEETING_TRANSITIONS["hold"].label) and hold["actor_name"]
    assert set(hold["data"]["inputs"]) >= {"kpis", "items_open", "complaints"}
    assert rows[1]["data"] == {"fields": ["location"]}
    assert rows[3]["data"] == {"previous": "First draft"}
    assert (rows[0]["from_status"], rows[0]["to_status"]) == (None, None)  # a row that moves nothing
    assert rows[0]["action_display"] and rows[4]["data"]["text"] == "Staff the night shift"
    assert rows[5]["data"]["item"] == ImprovementItem.objects.get().reference


def test_events_need_the_history_permission(api_client):
    meeting = make_meeting()
    reader = UserFactory()
    reader.user_permissions.add(Permission.objects.get(codename="view_reviewmeeting"))
    api_client.force_authenticate(reader)
    assert api_client.get(detail(meeting)).status_code == 200
    assert api_client.get(detail(meeting, "events/")).status_code == 403
    api_client.force_authenticate(user_with_role("no-role"))
    assert api_client.get(detail(meeting, "events/")).status_code == 403


def test_events_run_as_many_queries_for_one_row_as_for_many(api, brm):
    meeting = make_meeting()
    rooms = iter(range(1, 100))
    assert_constant_queries(
        api,
        detail(meeting, "events/"),
        lambda n: [meeting_update(meeting=meeting, actor=brm, location=f"Room {next(rooms)}") for _ in range(n)],
        few=1,
        many=8,
    )


# --- decisions -------------------------------------------------------------------------------


def test_decisions_of_a_held_meeting_become_an_item_or_an_action_in_one_step(api):
    meeting = make_meeting()
    with assert_nothing_written(MeetingDecision):
        assert_invalid(api.post(detail(meeting, "decisions/"), {"text": "Too early"}, format="json"))
    meeting = make_meeting(M.HELD)
    owner = UserFactory()
    with assert_nothing_written(MeetingDecision):
        assert_invalid(api.post(detail(meeting, "decisions/"), {"text": ""}, format="json"), "text")
    response = api.post(
        detail(meeting, "decisions/"),
        {"text": "Staff the night shift", "owner": owner.pk, "due_on": "2030-01-31"},
        format="json",
    )
    assert response.status_code == 201, response.content
    first = response.json()
    assert (first["owner"], first["due_on"], first["item"], first["action"]) == (owner.pk, "2030-01-31", None, None)
    second = api.post(detail(meeting, "decisions/"), {"text": "Rota the night shift", "owner": owner.pk}, format="json")
    second = second.json()

    response = api.post(detail(meeting, f"decisions/{first['id']}/item/"), {"priority": "high"}, format="json")
    assert response.status_code == 201, response.content
    item = ImprovementItem.objects.get(pk=response.json()["item"]["id"])
    assert item.source == meeting and item.source_kind == "review_meeting" and item.title == "Staff the night shift"
    assert (item.owner, item.target_date, item.priority) == (owner, date(2030, 1, 31), "high")
    with assert_nothing_written(ImprovementItem):
        assert_invalid(api.post(detail(meeting, f"decisions/{first['id']}/item/"), {}, format="json"))

    plan = make_plan(PlanStatus.DRAFT)
    closed = make_plan(PlanStatus.REJECTED)
    with assert_nothing_written(PlanAction):
        assert_invalid(
            api.post(detail(meeting, f"decisions/{second['id']}/action/"), {"plan": plan.pk}, format="json"), "due_on"
        )
        assert_invalid(
            api.post(
                detail(meeting, f"decisions/{second['id']}/action/"),
                {"plan": closed.pk, "working_days": 3},
                format="json",
            ),
            "plan",
        )
        assert_invalid(
            api.post(
                detail(meeting, f"decisions/{second['id']}/action/"),
                {"plan": plan.pk, "working_days": 3, "due_on": "2030-01-01"},
                format="json",
            ),
            "working_days",
        )
    response = api.post(
        detail(meeting, f"decisions/{second['id']}/action/"), {"plan": plan.pk, "working_days": 3}, format="json"
    )
    assert response.status_code == 201, response.content
    action = PlanAction.objects.get(pk=response.json()["action"]["id"])
    assert (action.plan, action.title, action.owner) == (plan, "Rota the night shift", owner)
    assert action.due_on > timezone.localdate()

    listed = api.get(detail(meeting, "decisions/")).json()
    assert [row["id"] for row in listed] == [first["id"], second["id"]]
    assert listed[0]["item"]["reference"] == item.reference and listed[1]["action"]["plan"] == plan.pk
    assert [row["id"] for row in api.get(detail(meeting)).json()["decisions"]] == [first["id"], second["id"]]


def test_a_decision_of_another_meeting_is_404(api):
    decision = make_decision(make_meeting(M.HELD))
    other = make_meeting(M.HELD)
    assert api.post(detail(other, f"decisions/{decision.pk}/item/"), {}, format="json").status_code == 404


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.DEPARTMENT_HEAD, Role.MANAGEMENT_REP])
def test_decisions_need_the_decision_permissions(api_client, role):
    meeting = make_meeting(M.HELD)
    decision = make_decision(meeting, owner=UserFactory())
    plan = make_plan(PlanStatus.DRAFT)
    api_client.force_authenticate(user_with_role(role))
    assert api_client.get(detail(meeting, "decisions/")).status_code == 200  # every staff role reads them
    with assert_nothing_written(MeetingDecision, ImprovementItem, PlanAction):
        assert api_client.post(detail(meeting, "decisions/"), {"text": "x"}, format="json").status_code == 403
        assert api_client.post(detail(meeting, f"decisions/{decision.pk}/item/"), {}, format="json").status_code == 403
        response = api_client.post(
            detail(meeting, f"decisions/{decision.pk}/action/"), {"plan": plan.pk, "working_days": 2}, format="json"
        )
        assert response.status_code == 403


def test_no_role_reads_no_decision(api_client):
    meeting = make_meeting(M.HELD)
    api_client.force_authenticate(user_with_role("no-role"))
    assert api_client.get(detail(meeting, "decisions/")).status_code == 403


# --- lists and query counts ------------------------------------------------------------------


def test_the_list_filters_and_puts_planned_meetings_first_without_inputs(api):
    held = make_meeting(M.HELD, scheduled_at=timezone.now() + timedelta(days=9))
    planned = make_meeting(kind="quality_analysis", scheduled_at=timezone.now() - timedelta(days=9))
    old = make_meeting(M.CANCELLED, period_label="2025-03")
    rows = api.get(URL).json()["results"]
    assert [row["id"] for row in rows][:1] == [planned.pk]
    assert "inputs" not in rows[0]
    assert [row["id"] for row in api.get(URL, {"status": "held"}).json()["results"]] == [held.pk]
    assert [row["id"] for row in api.get(URL, {"kind": "quality_analysis"}).json()["results"]] == [planned.pk]
    assert [row["id"] for row in api.get(URL, {"period": "2025"}).json()["results"]] == [old.pk]
    assert_invalid(api.get(URL, {"status": "postponed"}), "status")


def test_the_list_runs_as_many_queries_for_one_meeting_as_for_many(api):
    assert_constant_queries(
        api, URL, lambda n: [make_meeting(attendees=[UserFactory()]) for _ in range(n)], few=1, many=8
    )


def test_a_meeting_runs_as_many_queries_for_one_input_row_as_for_many(api):
    meeting = make_meeting()

    def rows(n: int) -> None:
        for index in range(n):
            make_kpi_value()
            make_plan(PlanStatus.IN_PROGRESS, title=f"Plan {index}")
            make_item(title=f"Item {index}", target_date=timezone.localdate() - timedelta(days=1))
            make_complaint()

    assert_constant_queries(api, detail(meeting), rows, few=1, many=4)
    held = make_meeting(M.HELD)
    assert_constant_queries(
        api, detail(held), lambda n: [make_decision(held, owner=UserFactory()) for _ in range(n)], few=1, many=6
    )


# --- the schema ------------------------------------------------------------------------------


def test_the_schema_declares_every_operation(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/review-meetings/"])
    assert {"get", "patch"} <= set(paths["/api/v1/review-meetings/{id}/"])
    assert "put" not in paths["/api/v1/review-meetings/{id}/"]
    for suffix in ("transitions/", "decisions/{decision_id}/item/", "decisions/{decision_id}/action/"):
        operation = paths[f"/api/v1/review-meetings/{{id}}/{suffix}"]["post"]
        assert {"400", "403", "404"} <= set(operation["responses"]), suffix
    assert {"get", "post"} <= set(paths["/api/v1/review-meetings/{id}/transitions/"])
    assert {"get"} == set(paths["/api/v1/review-meetings/{id}/events/"]) - {"parameters"}
    assert {"403", "404"} <= set(paths["/api/v1/review-meetings/{id}/events/"]["get"]["responses"])
    for gone in ("hold/", "cancel/"):
        assert f"/api/v1/review-meetings/{{id}}/{gone}" not in paths
    assert {"get", "post"} <= set(paths["/api/v1/review-meetings/{id}/decisions/"])
    components = schema["components"]["schemas"]
    assert "MeetingStatus" in components and components["MeetingAction"]["enum"] == ["hold", "cancel"]
