"""The improvement API's workflow (issue 13 items 1, 2 and 8): every move of an item and of a
plan allowed and refused through ``transitions/``, the approver rule, re-approval when an
approved plan's target changes (PATCH) or an action is added (POST ``actions/``), the actions
(added in working days, done with evidence by their owner whatever the role, cancelled), and
the effectiveness review through ``review/`` — "not effective" sending the plan round the
loop again until a later round closes it.

Everything goes through the real services; time is frozen (Monday 2 March 2026, 10:00 in
Shanghai). Access by role to the lists and records: ``test_api.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from improvement.choices import Effectiveness, ItemStatus, PlanStatus
from improvement.models import (
    EffectivenessReview,
    ImprovementItem,
    ImprovementItemEvent,
    ImprovementPlan,
    ImprovementPlanEvent,
    PlanAction,
)
from improvement.services.plans import SERVICE_MOVES, action_add, action_complete, plan_transition
from improvement.workflow import ITEM_TRANSITIONS, PLAN_TRANSITIONS
from itsm.core import calendar as business_calendar
from itsm.core.choices import OrganisationKind
from itsm.core.roles import Role
from itsm.core.testing import NO_ROLE, assert_nothing_written, user_with_role
from kpi.models import Direction, ElementKind, KpiDefinition, KpiValue, Status
from tests.complaints.factories import role_user
from tests.factories import OrganisationFactory
from tests.improvement.factories import make_item, make_plan

pytestmark = pytest.mark.django_db

IS, P = ItemStatus, PlanStatus
ITEMS = "/api/v1/improvement-items/"
PLANS = "/api/v1/improvement-plans/"
BRM = Role.BR_MANAGER.value
HEAD = Role.DEPARTMENT_HEAD.value
DESK = Role.SERVICE_DESK.value
OWNER = Role.PROCESS_OWNER.value
AUDITOR = Role.AUDITOR.value
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Shanghai
TODAY = date(2026, 3, 2)
WRITES = (ImprovementPlan, ImprovementPlanEvent, PlanAction, EffectivenessReview, ImprovementItem, ImprovementItemEvent)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def as_user(api_client, user):
    api_client.force_authenticate(user)
    api_client.user = user
    return api_client


def as_role(api_client, role: str):
    return as_user(api_client, role_user(role) if role in (BRM, HEAD) else user_with_role(role))


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    for field in fields:
        assert isinstance(body["errors"].get(field), list) and body["errors"][field], body
    return body


def move(api, url: str, action: str, **inputs):
    return api.post(f"{url}transitions/", {"action": action, **inputs}, format="json")


def item_url(item) -> str:
    return f"{ITEMS}{item.pk}/"


def plan_url(plan) -> str:
    return f"{PLANS}{plan.pk}/"


def running_plan(action_owner, *, plan_owner=None) -> ImprovementPlan:
    """A plan in progress whose one action belongs to ``action_owner`` (the plan to the BR manager)."""
    brm = role_user(Role.BR_MANAGER)
    plan = make_plan(P.DRAFT, actions=0, owner=plan_owner or brm)
    action_add(plan=plan, actor=brm, title="New night rota", owner=action_owner, due_on=TODAY + timedelta(days=7))
    for step in ("submit", "approve", "start"):
        plan = plan_transition(plan=plan, action=step, actor=brm)
    return plan


def review_found(plan: ImprovementPlan, result: str) -> None:
    """The round's review with its result recorded, the plan not moved yet (``review/`` records
    the result and moves the plan in one step; ``close`` and ``repeat`` are the moves alone)."""
    EffectivenessReview.objects.filter(plan=plan, round=plan.round).update(
        result=result, evidence_note="read from the call logs", reviewed_at=timezone.now()
    )


# --- items: every move allowed and refused --------------------------------------------------------

ITEM_MOVES = {
    # action: (from, inputs, to, a status it is refused from, the required input left out)
    "accept": (IS.SUGGESTED, {}, IS.OPEN, IS.OPEN, None),
    "dismiss": (IS.OPEN, {"note": "The customer's own network."}, IS.DISMISSED, IS.DONE, "note"),
    "plan": (IS.OPEN, {"plan": "plan"}, IS.PLANNED, IS.PLANNED, "plan"),
    "unplan": (IS.PLANNED, {"note": "Another plan covers it."}, IS.OPEN, IS.OPEN, "note"),
    "complete": (IS.OPEN, {"resolution": "The rota was changed."}, IS.DONE, IS.DONE, "resolution"),
    "reopen": (IS.DONE, {"note": "It happened again."}, IS.OPEN, IS.OPEN, "note"),
}


def test_every_item_move_is_tested():
    assert set(ITEM_MOVES) == set(ITEM_TRANSITIONS)


def _item_inputs(inputs: dict) -> dict:
    return {key: make_plan().pk if value == "plan" else value for key, value in inputs.items()}


@pytest.mark.parametrize("action", list(ITEM_MOVES))
def test_an_item_move_is_allowed_from_its_status(api_client, action):
    source, inputs, target, _wrong, _required = ITEM_MOVES[action]
    item = make_item(source)
    api = as_role(api_client, DESK)
    offered = api.get(f"{item_url(item)}transitions/").json()
    assert action in [row["action"] for row in offered]
    response = move(api, item_url(item), action, **_item_inputs(inputs))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == target
    event = ImprovementItemEvent.objects.filter(item=item).latest("pk")
    assert (event.action, event.from_status, event.to_status, event.actor_id) == (action, source, target, api.user.pk)


@pytest.mark.parametrize("action", list(ITEM_MOVES))
def test_an_item_move_is_refused_from_another_status(api_client, action):
    _source, inputs, _target, wrong, _required = ITEM_MOVES[action]
    item = make_item(wrong)
    api = as_role(api_client, DESK)
    payload = _item_inputs(inputs)
    with assert_nothing_written(*WRITES):
        assert_invalid(move(api, item_url(item), action, **payload), "action")
    item.refresh_from_db()
    assert item.status == wrong


@pytest.mark.parametrize("action", [a for a, row in ITEM_MOVES.items() if row[4]])
def test_an_item_move_without_its_required_input_is_a_400_naming_it(api_client, action):
    source, _inputs, _target, _wrong, required = ITEM_MOVES[action]
    item = make_item(source)
    api = as_role(api_client, DESK)
    with assert_nothing_written(*WRITES):
        assert_invalid(move(api, item_url(item), action), required)


@pytest.mark.parametrize("role", [AUDITOR, NO_ROLE])
@pytest.mark.parametrize("action", list(ITEM_MOVES))
def test_an_item_move_is_refused_to_a_role_without_it(api_client, action, role):
    source, inputs, _target, _wrong, _required = ITEM_MOVES[action]
    item = make_item(source)
    payload = _item_inputs(inputs)
    api = as_role(api_client, role)
    with assert_nothing_written(*WRITES):
        response = move(api, item_url(item), action, **payload)
    assert response.status_code == 403, response.content
    assert response.json()["message"]


def test_an_input_the_move_does_not_take_is_a_400_naming_it(api_client):
    item = make_item(IS.SUGGESTED)
    api = as_role(api_client, DESK)
    with assert_nothing_written(*WRITES):
        assert_invalid(move(api, item_url(item), "accept", resolution="done already"), "resolution")
        assert_invalid(move(api, item_url(item), "fly"), "action")


def test_an_item_dismissed_as_a_duplicate_names_the_original(api_client):
    original, duplicate = make_item(), make_item()
    api = as_role(api_client, BRM)
    response = move(api, item_url(duplicate), "dismiss", note="The same problem.", duplicate_of=original.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["duplicate_of"], body["duplicate_of_reference"]) == (
        "dismissed",
        original.pk,
        original.reference,
    )
    # Not a duplicate of a duplicate.
    third = make_item()
    with assert_nothing_written(*WRITES):
        assert_invalid(move(api, item_url(third), "dismiss", note="Same.", duplicate_of=duplicate.pk), "duplicate_of")


def test_an_item_joins_only_an_open_plan(api_client):
    item, closed = make_item(), make_plan(P.CLOSED)
    api = as_role(api_client, BRM)
    with assert_nothing_written(*WRITES):
        assert_invalid(move(api, item_url(item), "plan", plan=closed.pk), "plan")


def test_the_item_history_lists_its_moves_oldest_first(api_client):
    item = make_item(IS.SUGGESTED)
    api = as_role(api_client, BRM)
    move(api, item_url(item), "accept")
    move(api, item_url(item), "complete", resolution="Rota changed.")
    rows = as_role(api_client, AUDITOR).get(f"{item_url(item)}events/").json()["results"]
    assert [(row["action"], row["to_status"]) for row in rows] == [
        ("suggested", "suggested"),
        ("accept", "open"),
        ("complete", "done"),
    ]
    assert rows[0]["actor"] is None and rows[0]["actor_label"] == "system"


# --- plans: every move allowed and refused ----------------------------------------------------------

PLAN_MOVES = {
    # action: (from, inputs, to, a status it is refused from)
    "submit": (P.DRAFT, {}, P.SUBMITTED, P.APPROVED),
    "approve": (P.SUBMITTED, {}, P.APPROVED, P.DRAFT),
    "return_for_rework": (P.SUBMITTED, {"note": "Say how you measure it."}, P.DRAFT, P.DRAFT),
    "reject": (P.SUBMITTED, {"note": "No budget this year."}, P.REJECTED, P.APPROVED),
    "start": (P.APPROVED, {}, P.IN_PROGRESS, P.SUBMITTED),
    "request_review": (P.IN_PROGRESS, {"review_due_on": "2026-04-01"}, P.EFFECTIVENESS_REVIEW, P.APPROVED),
    "close": (P.EFFECTIVENESS_REVIEW, {"outcome_note": "Answered in 25 s."}, P.CLOSED, P.IN_PROGRESS),
    "repeat": (P.EFFECTIVENESS_REVIEW, {"note": "Still slow at night."}, P.IN_PROGRESS, P.IN_PROGRESS),
}


def test_every_plan_move_is_tested():
    assert set(PLAN_MOVES) | {"resubmit"} == set(PLAN_TRANSITIONS)


def _ready(plan: ImprovementPlan, action: str) -> ImprovementPlan:
    """What a move needs besides its inputs: the round's actions done, the review's result."""
    if action == "request_review":
        for task in plan.actions.all():
            action_complete(action=task, actor=task.owner, evidence_note="done")
    elif action in ("close", "repeat"):
        review_found(plan, Effectiveness.EFFECTIVE if action == "close" else Effectiveness.NOT_EFFECTIVE)
    return plan


@pytest.mark.parametrize("action", list(PLAN_MOVES))
def test_a_plan_move_is_allowed_from_its_status(api_client, action):
    source, inputs, target, _wrong = PLAN_MOVES[action]
    plan = _ready(make_plan(source), action)
    api = as_role(api_client, BRM)
    offered = [row["action"] for row in api.get(f"{plan_url(plan)}transitions/").json()]
    # The review's result closes the plan or sends it round again (``review/``): not offered as steps.
    assert (action in offered) is (action not in SERVICE_MOVES)
    response = move(api, plan_url(plan), action, **inputs)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == target
    event = ImprovementPlanEvent.objects.filter(plan=plan).latest("pk")
    assert (event.action, event.from_status, event.to_status) == (action, source, target)
    if action == "approve":
        assert body["approved_by"] == api.user.pk and body["approved_terms"]["target_measure"] == plan.target_measure
    if action == "repeat":
        assert body["round"] == 2 and body["stage"] == "do"
    if action == "close":
        assert (body["outcome"], body["outcome_note"], body["stage"]) == ("effective", "Answered in 25 s.", "act")


@pytest.mark.parametrize("action", list(PLAN_MOVES))
def test_a_plan_move_is_refused_from_another_status(api_client, action):
    _source, inputs, _target, wrong = PLAN_MOVES[action]
    plan = make_plan(wrong)
    api = as_role(api_client, BRM)
    with assert_nothing_written(*WRITES):
        assert_invalid(move(api, plan_url(plan), action, **inputs), "action")
    plan.refresh_from_db()
    assert plan.status == wrong


@pytest.mark.parametrize(
    ("action", "setup", "inputs", "field"),
    [
        ("submit", "no action", {}, "non_field_errors"),
        ("submit", "no target", {}, "target_measure"),
        ("return_for_rework", None, {}, "note"),
        ("reject", None, {}, "note"),
        ("request_review", "open action", {"review_due_on": "2026-04-01"}, "non_field_errors"),
        ("request_review", None, {}, "review_due_on"),
        ("request_review", None, {"review_due_on": "2026-02-27"}, "review_due_on"),
        ("close", "no result", {"outcome_note": "fine"}, "non_field_errors"),
        ("close", None, {}, "outcome_note"),
        ("repeat", "no result", {"note": "again"}, "non_field_errors"),
        ("repeat", None, {}, "note"),
    ],
)
def test_a_plan_move_whose_conditions_are_not_met_is_a_400_and_nothing_written(
    api_client, action, setup, inputs, field
):
    source = PLAN_MOVES[action][0]
    if setup == "no action":
        plan = make_plan(source, actions=0)
    elif setup == "no target":
        plan = make_plan(source, target_measure="")
    else:
        plan = make_plan(source)
        if setup != "open action" and setup != "no result":
            _ready(plan, action)
    api = as_role(api_client, BRM)
    with assert_nothing_written(*WRITES):
        assert_invalid(move(api, plan_url(plan), action, **inputs), field)
    plan.refresh_from_db()
    assert plan.status == source


def test_resubmit_is_not_a_move_the_api_takes(api_client):
    plan = make_plan(P.APPROVED)
    api = as_role(api_client, BRM)
    assert "resubmit" not in [row["action"] for row in api.get(f"{plan_url(plan)}transitions/").json()]
    assert "resubmit" not in api.get(plan_url(plan)).json()["allowed_actions"]
    with assert_nothing_written(*WRITES):
        assert_invalid(move(api, plan_url(plan), "resubmit"), "action")


@pytest.mark.parametrize("action", ["approve", "return_for_rework", "reject"])
def test_only_the_plans_approver_approves_returns_or_rejects(api_client, action):
    inputs = PLAN_MOVES[action][1]
    plan = make_plan(P.SUBMITTED)
    # The process owner drafts and runs plans but does not approve them; a department head
    # approves only a department's own plan.
    for role in (OWNER, HEAD):
        api = as_role(api_client, role)
        assert action not in [row["action"] for row in api.get(f"{plan_url(plan)}transitions/").json()]
        with assert_nothing_written(*WRITES):
            response = move(api, plan_url(plan), action, **inputs)
        assert response.status_code == 403, response.content
        assert response.json()["message"]
    team_plan = make_plan(P.SUBMITTED, team=OrganisationFactory(kind=OrganisationKind.INTERNAL_TEAM))
    with assert_nothing_written(*WRITES):
        assert move(as_role(api_client, BRM), plan_url(team_plan), action, **inputs).status_code == 403
    response = move(as_role(api_client, HEAD), plan_url(team_plan), action, **inputs)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == PLAN_MOVES[action][2]


@pytest.mark.parametrize("role", [DESK, Role.MANAGEMENT_REP.value, AUDITOR, NO_ROLE])
@pytest.mark.parametrize("action", ["submit", "start", "request_review"])
def test_a_plan_move_is_refused_to_a_role_that_does_not_run_plans(api_client, action, role):
    source, inputs, _target, _wrong = PLAN_MOVES[action]
    plan = _ready(make_plan(source), action)
    api = as_role(api_client, role)
    with assert_nothing_written(*WRITES):
        assert move(api, plan_url(plan), action, **inputs).status_code == 403


def test_a_rejected_plan_releases_its_items(api_client):
    plan = make_plan(P.SUBMITTED)
    item = make_item(IS.PLANNED, plan=plan)
    response = move(as_role(api_client, BRM), plan_url(plan), "reject", note="No budget.")
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert (item.status, item.plan_id) == (IS.OPEN, None)
    assert response.json()["items"] == []


# --- re-approval ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [P.APPROVED, P.IN_PROGRESS])
def test_changing_an_approved_plans_target_sends_it_back_for_approval(api_client, status):
    plan = make_plan(status)
    approved = dict(plan.approved_terms)
    api = as_role(api_client, BRM)
    response = api.patch(plan_url(plan), {"target_measure": "95 % within 20 seconds"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["stage"], body["target_measure"]) == ("submitted", "plan", "95 % within 20 seconds")
    assert body["approved_terms"] == approved  # what was approved, until approved again
    event = ImprovementPlanEvent.objects.filter(plan=plan).latest("pk")
    assert (event.action, event.from_status, event.to_status) == ("resubmit", status, "submitted")
    assert event.note
    response = move(api, plan_url(plan), "approve")
    assert response.json()["approved_terms"]["target_measure"] == "95 % within 20 seconds"


def test_a_change_that_is_not_the_target_keeps_the_approval(api_client):
    plan = make_plan(P.APPROVED)
    response = as_role(api_client, BRM).patch(
        plan_url(plan), {"title": "Night calls answered fast", "change_request_ref": "RFC-7"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["change_request_ref"]) == ("approved", "RFC-7")


def test_adding_an_action_to_an_approved_plan_sends_it_back_for_approval(api_client):
    plan = make_plan(P.IN_PROGRESS)
    api = as_role(api_client, BRM)
    response = api.post(
        f"{plan_url(plan)}actions/",
        {"title": "Second line at night", "owner": api.user.pk, "working_days": 5},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["plan_status"], response.json()["round"]) == ("submitted", 1)
    actions = [e.action for e in ImprovementPlanEvent.objects.filter(plan=plan).order_by("pk")]
    assert actions[-2:] == ["action_added", "resubmit"]
    assert api.get(plan_url(plan)).json()["status"] == "submitted"


# --- actions --------------------------------------------------------------------------------------


def test_a_plans_actions_are_listed(api_client):
    plan = make_plan(actions=3)
    rows = as_role(api_client, AUDITOR).get(f"{plan_url(plan)}actions/").json()
    assert [row["title"] for row in rows] == ["Action 1", "Action 2", "Action 3"]
    assert all(row["may_work"] is False and row["plan_status"] == "draft" for row in rows)
    assert as_role(api_client, NO_ROLE).get(f"{plan_url(plan)}actions/").status_code == 403
    assert as_role(api_client, AUDITOR).get(f"{PLANS}999999/actions/").status_code == 404


def test_an_action_is_due_in_working_days_or_on_a_date(api_client):
    plan = make_plan()
    api = as_role(api_client, BRM)
    owner = user_with_role(DESK)
    by_days = api.post(
        f"{plan_url(plan)}actions/", {"title": "Rota", "owner": owner.pk, "working_days": 3}, format="json"
    )
    assert by_days.status_code == 201, by_days.content
    assert by_days.json()["due_on"] == business_calendar.add_working_days(TODAY, 3).isoformat()
    assert (by_days.json()["owner"], by_days.json()["status"], by_days.json()["plan_status"]) == (
        owner.pk,
        "open",
        "draft",
    )
    on_date = api.post(
        f"{plan_url(plan)}actions/", {"title": "Training", "owner": owner.pk, "due_on": "2026-03-20"}, format="json"
    )
    assert on_date.status_code == 201, on_date.content
    assert on_date.json()["due_on"] == "2026-03-20"
    assert plan.actions.count() == 3


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"working_days": None}, ["due_on"]),
        ({"due_on": "2026-03-20"}, ["working_days"]),
        ({"working_days": None, "due_on": "2026-02-27"}, ["due_on"]),
        ({"working_days": 0}, ["working_days"]),
        ({"title": ""}, ["title"]),
        ({"owner": None}, ["owner"]),
        ({"status": "done"}, ["status"]),
        ({"colour": "red"}, ["colour"]),
    ],
)
def test_bad_input_adding_an_action_is_a_400_and_nothing_written(api_client, changes, fields):
    plan = make_plan()
    api = as_role(api_client, BRM)
    payload = {"title": "Rota", "owner": api.user.pk, "working_days": 3, **changes}
    with assert_nothing_written(*WRITES):
        assert_invalid(api.post(f"{plan_url(plan)}actions/", payload, format="json"), *fields)


@pytest.mark.parametrize("status", [P.EFFECTIVENESS_REVIEW, P.CLOSED, P.REJECTED])
def test_no_action_is_added_to_a_plan_under_review_or_finished(api_client, status):
    plan = make_plan(status)
    api = as_role(api_client, BRM)
    with assert_nothing_written(*WRITES):
        assert_invalid(
            api.post(
                f"{plan_url(plan)}actions/", {"title": "x", "owner": api.user.pk, "working_days": 2}, format="json"
            )
        )


@pytest.mark.parametrize("role", [DESK, Role.MANAGEMENT_REP.value, AUDITOR])
def test_a_role_that_does_not_run_plans_adds_no_action(api_client, role):
    plan = make_plan()
    api = as_role(api_client, role)
    with assert_nothing_written(*WRITES):
        response = api.post(
            f"{plan_url(plan)}actions/", {"title": "x", "owner": api.user.pk, "working_days": 2}, format="json"
        )
    assert response.status_code == 403, response.content


def test_an_action_owner_completes_it_with_evidence_whatever_the_role(api_client):
    desk = user_with_role(DESK)  # reads plans, changes no action: the owner of this one
    plan = running_plan(desk)
    action = plan.actions.get()
    api = as_user(api_client, desk)
    rows = api.get(f"{plan_url(plan)}actions/").json()
    assert rows[0]["may_work"] is True
    response = api.post(
        f"{plan_url(plan)}actions/{action.pk}/complete/",
        {"evidence_note": "Two people on the night shift since Monday.", "evidence_link": "https://wiki.example/rota"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["on_time"], body["evidence_link"], body["plan_status"]) == (
        "done",
        True,
        "https://wiki.example/rota",
        "in_progress",
    )
    assert api.get(plan_url(plan)).json()["actions_done"] == 1
    assert ImprovementPlanEvent.objects.filter(plan=plan).latest("pk").action == "action_done"


def test_someone_else_with_the_same_role_may_not_complete_it(api_client):
    plan = running_plan(user_with_role(DESK))
    action = plan.actions.get()
    api = as_role(api_client, DESK)
    with assert_nothing_written(*WRITES):
        response = api.post(f"{plan_url(plan)}actions/{action.pk}/complete/", {"evidence_note": "done"}, format="json")
        refused = api.post(f"{plan_url(plan)}actions/{action.pk}/cancel/", {"reason": "no"}, format="json")
    assert response.status_code == 403 and response.json()["message"]
    assert refused.status_code == 403


def test_an_action_is_completed_with_an_evidence_file(api_client):
    plan = running_plan(role_user(Role.BR_MANAGER))
    action = plan.actions.get()
    upload = SimpleUploadedFile("rota.pdf", b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "application/pdf")
    response = as_role(api_client, BRM).post(
        f"{plan_url(plan)}actions/{action.pk}/complete/", {"evidence": upload}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["evidence_file"] == "rota.pdf"
    action.refresh_from_db()
    assert action.evidence.name.endswith("rota.pdf")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "evidence_note"),
        ({"evidence_note": "  "}, "evidence_note"),
        ({"evidence_link": "not a link"}, "evidence_link"),
    ],
)
def test_an_action_is_not_done_without_evidence(api_client, payload, field):
    plan = running_plan(role_user(Role.BR_MANAGER))
    action = plan.actions.get()
    api = as_role(api_client, BRM)
    with assert_nothing_written(*WRITES):
        assert_invalid(api.post(f"{plan_url(plan)}actions/{action.pk}/complete/", payload, format="json"), field)


def test_an_action_is_done_once_the_plan_is_approved_and_only_once(api_client):
    draft = make_plan()
    api = as_role(api_client, BRM)
    action = draft.actions.get()
    with assert_nothing_written(*WRITES):
        assert_invalid(
            api.post(f"{plan_url(draft)}actions/{action.pk}/complete/", {"evidence_note": "x"}, format="json")
        )
    plan = running_plan(api.user)
    action = plan.actions.get()
    url = f"{plan_url(plan)}actions/{action.pk}/complete/"
    assert api.post(url, {"evidence_note": "done"}, format="json").status_code == 200
    with assert_nothing_written(*WRITES):
        assert_invalid(api.post(url, {"evidence_note": "again"}, format="json"))


def test_an_action_of_another_plan_is_not_found(api_client):
    plan, other = make_plan(P.IN_PROGRESS), make_plan(P.IN_PROGRESS)
    api = as_role(api_client, BRM)
    action = other.actions.get()
    for suffix in ("complete/", "cancel/"):
        response = api.post(f"{plan_url(plan)}actions/{action.pk}/{suffix}", {"reason": "x"}, format="json")
        assert response.status_code == 404 and response.json()["message"]
    assert api.patch(f"{plan_url(plan)}actions/{action.pk}/", {"title": "x"}, format="json").status_code == 404


def test_an_action_is_cancelled_with_a_reason(api_client):
    plan = make_plan(P.IN_PROGRESS, actions=2)
    first = plan.actions.order_by("pk").first()
    api = as_role(api_client, BRM)
    url = f"{plan_url(plan)}actions/{first.pk}/cancel/"
    with assert_nothing_written(*WRITES):
        assert_invalid(api.post(url, {"reason": " "}, format="json"), "reason")
        assert_invalid(api.post(url, {}, format="json"), "reason")
    response = api.post(url, {"reason": "The second line covers it."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert api.get(plan_url(plan)).json()["actions_total"] == 1


def test_an_open_action_is_edited_by_its_owner(api_client):
    desk = user_with_role(DESK)
    plan = running_plan(desk)
    action = plan.actions.get()
    api = as_user(api_client, desk)
    url = f"{plan_url(plan)}actions/{action.pk}/"
    response = api.patch(url, {"due_on": "2026-03-13", "description": "With the night team."}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["due_on"], response.json()["description"]) == ("2026-03-13", "With the night team.")
    with assert_nothing_written(*WRITES):
        assert_invalid(api.patch(url, {"status": "done"}, format="json"), "status")
        assert_invalid(api.patch(url, {"title": ""}, format="json"), "title")
    other = as_role(api_client, DESK)
    with assert_nothing_written(*WRITES):
        assert other.patch(url, {"title": "Mine now"}, format="json").status_code == 403


# --- the effectiveness review and the loop ---------------------------------------------------------


def test_not_effective_sends_the_plan_round_the_loop_until_a_round_works(api_client):
    plan = make_plan(P.EFFECTIVENESS_REVIEW)
    item = make_item(IS.PLANNED, plan=plan)
    api = as_role(api_client, BRM)
    url = plan_url(plan)

    # Round 1 did not work: back in progress, round 2.
    response = api.post(
        f"{url}review/", {"result": "not_effective", "evidence_note": "Night calls still wait 50 s."}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["stage"], body["round"], body["review_due_on"]) == ("in_progress", "do", 2, None)
    assert [(r["round"], r["result"]) for r in body["reviews"]] == [(1, "not_effective")]
    assert [row["status"] for row in body["items"]] == ["planned"]

    # New actions for round 2 need approving again.
    added = api.post(
        f"{url}actions/", {"title": "Callback queue", "owner": api.user.pk, "working_days": 5}, format="json"
    )
    assert (added.status_code, added.json()["round"], added.json()["plan_status"]) == (201, 2, "submitted")
    for action in ("approve", "start"):
        assert move(api, url, action).status_code == 200
    done = api.post(f"{url}actions/{added.json()['id']}/complete/", {"evidence_note": "Queue live."}, format="json")
    assert done.status_code == 200, done.content
    assert move(api, url, "request_review", review_due_on="2026-04-30").json()["status"] == "effectiveness_review"

    # Round 2 worked: closed, its items done.
    response = api.post(
        f"{url}review/", {"result": "effective", "evidence_note": "Night calls in 22 s."}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["outcome"], body["round"], body["stage"]) == ("closed", "effective", 2, "act")
    assert [(r["round"], r["result"], r["due_on"]) for r in body["reviews"]] == [
        (1, "not_effective", body["reviews"][0]["due_on"]),
        (2, "effective", "2026-04-30"),
    ]
    item.refresh_from_db()
    assert item.status == IS.DONE
    history = [row["action"] for row in api.get(f"{url}events/", {"page_size": 100}).json()["results"]]
    assert history.count("reviewed") == 2 and "repeat" in history and history[-1] == "close"


def test_partly_effective_closes_the_plan(api_client):
    plan = make_plan(P.EFFECTIVENESS_REVIEW)
    response = as_role(api_client, Role.QUALITY_MANAGER.value).post(
        f"{plan_url(plan)}review/", {"result": "partly", "evidence_note": "Better, not there yet."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["outcome"]) == ("closed", "partly")


def test_a_kpi_plan_records_the_measured_values(api_client):
    definition = KpiDefinition.objects.filter(direction=Direction.AT_LEAST).order_by("pk").first()
    plan = make_plan(
        P.EFFECTIVENESS_REVIEW,
        kpi=definition,
        baseline_value=Decimal("80"),
        target_value=Decimal("95"),
        target_date=date(2026, 6, 30),
    )
    KpiValue.objects.create(
        definition=definition,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        period_label="2026-03",
        element_kind=ElementKind.OVERALL,
        value=Decimal("96.5"),
        target=Decimal("95"),
        status=Status.GREEN,
        closed=True,
        computed_at=timezone.now(),
    )
    response = as_role(api_client, BRM).post(
        f"{plan_url(plan)}review/", {"result": "effective", "evidence_note": "March was green."}, format="json"
    )
    assert response.status_code == 200, response.content
    (review,) = response.json()["reviews"]
    assert review["measured"] == [
        {"period": "2026-03", "value": "96.5000", "target": "95.0000", "baseline": "80.0000", "met": True}
    ]
    assert response.json()["kpi_name"] == definition.name


@pytest.mark.parametrize(
    ("status", "payload", "field"),
    [
        (P.EFFECTIVENESS_REVIEW, {"result": "great", "evidence_note": "x"}, "result"),
        (P.EFFECTIVENESS_REVIEW, {"result": "effective", "evidence_note": ""}, "evidence_note"),
        (P.EFFECTIVENESS_REVIEW, {"result": "effective"}, "evidence_note"),
        (P.EFFECTIVENESS_REVIEW, {"result": "effective", "evidence_note": "x", "round": 3}, "round"),
        (P.IN_PROGRESS, {"result": "effective", "evidence_note": "too early"}, "non_field_errors"),
    ],
)
def test_bad_input_recording_the_review_is_a_400_and_nothing_written(api_client, status, payload, field):
    plan = make_plan(status)
    api = as_role(api_client, BRM)
    with assert_nothing_written(*WRITES):
        assert_invalid(api.post(f"{plan_url(plan)}review/", payload, format="json"), field)


@pytest.mark.parametrize("role", [DESK, Role.MANAGEMENT_REP.value, AUDITOR, NO_ROLE])
def test_a_role_that_does_not_run_plans_records_no_review(api_client, role):
    plan = make_plan(P.EFFECTIVENESS_REVIEW)
    api = as_role(api_client, role)
    with assert_nothing_written(*WRITES):
        response = api.post(f"{plan_url(plan)}review/", {"result": "effective", "evidence_note": "x"}, format="json")
    assert response.status_code == 403, response.content
    assert as_role(api_client, BRM).post(f"{PLANS}999999/review/", {}, format="json").status_code == 404


def test_the_plan_history_is_readable_and_paginated(api_client):
    plan = make_plan(P.CLOSED)
    body = as_role(api_client, AUDITOR).get(f"{plan_url(plan)}events/").json()
    actions = [row["action"] for row in body["results"]]
    assert actions[:2] == ["created", "action_added"] and actions[-2:] == ["reviewed", "close"]
    assert {row["action_display"] for row in body["results"]} >= {str(PLAN_TRANSITIONS["approve"].label)}
    assert body["count"] == len(actions)
