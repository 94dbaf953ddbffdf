"""The item and plan machines through their services: every move allowed and refused, who may
make it, the approver rule, re-approval when the target or the actions change after approval,
the loop on "not effective", and the docs page kept in step with the tables."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from improvement import workflow
from improvement.choices import ActionStatus, Effectiveness, ItemStatus, PlanStatus
from improvement.models import EffectivenessReview, ImprovementItem, ImprovementPlanEvent
from improvement.services.items import item_create, item_transition, item_update, target_date_for
from improvement.services.plans import (
    action_add,
    action_cancel,
    action_complete,
    effectiveness_review_record,
    plan_create,
    plan_transition,
    plan_update,
)
from itsm.core import calendar as business_calendar
from itsm.core.choices import OrganisationKind
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from itsm.core.workflow import TransitionRefused, allowed
from tests.complaints.factories import role_user
from tests.factories import OrganisationFactory, UserFactory
from tests.improvement.factories import make_item, make_plan
from tests.sla.factories import MeasurementFactory

pytestmark = pytest.mark.django_db

IS, P = ItemStatus, PlanStatus
IN_A_MONTH = timezone.localdate() + timedelta(days=30)


# --- items -------------------------------------------------------------------------------------

ITEM_INPUTS = {
    "accept": {},
    "dismiss": {"note": "not ours"},
    "plan": {},  # the plan is added per test
    "unplan": {"note": "the plan will not cover it"},
    "complete": {"resolution": "fixed"},
    "reopen": {"note": "it is back"},
}


def _inputs(action: str) -> dict:
    inputs = dict(ITEM_INPUTS[action])
    if action == "plan":
        inputs["plan"] = make_plan(P.DRAFT)
    return inputs


@pytest.mark.parametrize(
    ("action", "source"),
    [(action, source) for action, t in workflow.ITEM_TRANSITIONS.items() for source in sorted(t.sources)],
)
def test_every_item_move_is_allowed_from_its_sources(action, source):
    item = make_item(source)
    moved = item_transition(item=item, action=action, actor=role_user(Role.BR_MANAGER), **_inputs(action))
    assert moved.status == workflow.ITEM_TRANSITIONS[action].target
    event = moved.events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status) == (action, source, moved.status)


@pytest.mark.parametrize(
    ("action", "source"),
    [
        (action, source)
        for action, t in workflow.ITEM_TRANSITIONS.items()
        for source in IS.values
        if source not in t.sources
    ],
)
def test_every_item_move_is_refused_from_the_other_statuses(action, source):
    item = make_item(source)
    with pytest.raises(TransitionRefused):
        item_transition(item=item, action=action, actor=role_user(Role.BR_MANAGER), **_inputs(action))
    item.refresh_from_db()
    assert item.status == source


def test_an_auditor_moves_no_item_and_a_reason_is_needed_to_dismiss():
    item = make_item(IS.OPEN)
    with pytest.raises(PermissionDenied):
        item_transition(item=item, action="dismiss", actor=role_user(Role.AUDITOR), note="x")
    with pytest.raises(ValidationError) as error:
        item_transition(item=item, action="dismiss", actor=role_user(Role.BR_MANAGER))
    assert "note" in error.value.message_dict
    assert allowed(item_machine(), item, role_user(Role.AUDITOR)) == []


def item_machine():
    from improvement.services.items import ITEM_MACHINE

    return ITEM_MACHINE


def test_a_duplicate_names_its_original_and_cannot_name_a_duplicate():
    original = make_item(IS.OPEN, title="original")
    duplicate = make_item(IS.OPEN, title="same again")
    brm = role_user(Role.BR_MANAGER)
    duplicate = item_transition(item=duplicate, action="dismiss", actor=brm, note="same", duplicate_of=original)
    assert (duplicate.status, duplicate.duplicate_of, duplicate.resolution) == (IS.DISMISSED, original, "same")
    third = make_item(IS.OPEN, title="third")
    with pytest.raises(ValidationError) as error:
        item_transition(item=third, action="dismiss", actor=brm, note="same", duplicate_of=duplicate)
    assert "duplicate_of" in error.value.message_dict
    reopened = item_transition(item=duplicate, action="reopen", actor=brm, note="not the same after all")
    assert reopened.duplicate_of is None and reopened.closed_at is None


def test_an_item_joins_only_an_open_plan():
    closed = make_plan(P.CLOSED)
    item = make_item(IS.OPEN)
    with pytest.raises(ValidationError) as error:
        item_transition(item=item, action="plan", actor=role_user(Role.BR_MANAGER), plan=closed)
    assert "plan" in error.value.message_dict


def test_a_suggestion_accepted_gets_an_owner_and_a_close_by_date():
    item = make_item(IS.SUGGESTED, owner=None, priority="high")
    assert item.target_date is None and item.events.get().actor_label == "system"
    brm = role_user(Role.BR_MANAGER)
    accepted = item_transition(item=item, action="accept", actor=brm)
    assert accepted.owner == brm
    assert accepted.target_date == business_calendar.add_working_days(timezone.localdate(), 10)
    assert target_date_for("low") == business_calendar.add_working_days(timezone.localdate(), 40)


def test_raising_an_item_checks_the_source_and_writes_nothing_when_refused():
    brm, auditor = role_user(Role.BR_MANAGER), role_user(Role.AUDITOR)
    measurement = MeasurementFactory()
    with assert_nothing_written(ImprovementItem):
        with pytest.raises(ValidationError) as error:
            item_create(actor=brm, source_kind="no_such_kind", source=measurement, title="x")
        assert "source_kind" in error.value.message_dict
        with pytest.raises(ValidationError) as error:
            item_create(actor=brm, source_kind="complaint", source=measurement, title="x")
        assert "source" in error.value.message_dict
        with pytest.raises(ValidationError) as error:
            item_create(actor=brm, source_kind="sla_measurement", source=measurement, title=" ", priority="urgent")
        assert {"title", "priority"} <= set(error.value.message_dict)
        with pytest.raises(PermissionDenied):
            item_create(actor=auditor, source_kind="sla_measurement", source=measurement, title="x")
    item = item_create(actor=brm, source_kind="sla_measurement", source=measurement, title="Breach")
    assert (item.source, item.status, item.owner, item.reference[:8]) == (
        measurement,
        IS.OPEN,
        brm,
        f"IMP-{timezone.localdate().year}"[:8],
    )
    with pytest.raises(ValidationError):
        item_update(item=item, actor=brm, status=IS.DONE)  # the status is the machine's


# --- plans -------------------------------------------------------------------------------------


def _plan_move(plan, action):
    """Perform ``action`` on ``plan`` as the role that may, with what it needs."""
    approver = role_user(Role.DEPARTMENT_HEAD if plan.team_id else Role.BR_MANAGER)
    if action in ("approve", "return_for_rework", "reject"):
        return plan_transition(plan=plan, action=action, actor=approver, note="reason")
    if action == "request_review":
        for task in plan.actions.filter(status=ActionStatus.OPEN):
            action_complete(action=task, actor=task.owner, evidence_note="done")
        return plan_transition(plan=plan, action=action, actor=plan.owner, review_due_on=IN_A_MONTH)
    if action == "resubmit":
        return plan_update(plan=plan, actor=plan.owner, target_measure="a better target")
    if action in ("close", "repeat"):
        result = Effectiveness.EFFECTIVE if action == "close" else Effectiveness.NOT_EFFECTIVE
        return effectiveness_review_record(plan=plan, actor=approver, result=result, evidence_note="measured")
    return plan_transition(plan=plan, action=action, actor=plan.owner)


@pytest.mark.parametrize(
    ("action", "source"),
    [(action, source) for action, t in workflow.PLAN_TRANSITIONS.items() for source in sorted(t.sources)],
)
def test_every_plan_move_is_allowed_from_its_sources(action, source):
    plan = make_plan(source)
    moved = _plan_move(plan, action)
    assert moved.status == workflow.PLAN_TRANSITIONS[action].target
    assert moved.events.filter(action=action, from_status=source, to_status=moved.status).exists()


@pytest.mark.parametrize(
    ("action", "source"),
    [
        (action, source)
        for action, t in workflow.PLAN_TRANSITIONS.items()
        for source in P.values
        if source not in t.sources and action not in ("resubmit", "close", "repeat", "request_review")
    ],
)
def test_every_plan_move_is_refused_from_the_other_statuses(action, source):
    plan = make_plan(source)
    with pytest.raises(TransitionRefused):
        _plan_move(plan, action)
    plan.refresh_from_db()
    assert plan.status == source


@pytest.mark.parametrize("source", [s for s in P.values if s != P.EFFECTIVENESS_REVIEW])
def test_an_effectiveness_review_is_recorded_only_while_the_plan_is_under_review(source):
    plan = make_plan(source)
    with assert_nothing_written(EffectivenessReview), pytest.raises(ValidationError):
        effectiveness_review_record(
            plan=plan, actor=role_user(Role.BR_MANAGER), result=Effectiveness.EFFECTIVE, evidence_note="x"
        )


def test_the_review_moves_are_the_services_own_and_need_the_recorded_result():
    plan = make_plan(P.EFFECTIVENESS_REVIEW)
    brm = role_user(Role.BR_MANAGER)
    assert {t.action for t in allowed(plan_machine(), plan, brm)} == set()
    with pytest.raises(ValidationError):
        plan_transition(plan=plan, action="close", actor=brm, outcome_note="looks good")
    with pytest.raises(ValidationError):
        plan_transition(plan=plan, action="resubmit", actor=brm)


def plan_machine():
    from improvement.services.plans import PLAN_MACHINE

    return PLAN_MACHINE


def test_the_br_manager_approves_and_the_department_head_approves_a_departments_own_plan():
    plan = make_plan(P.SUBMITTED)
    for role in (Role.DEPARTMENT_HEAD, Role.SERVICE_LEVEL_MANAGER, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            plan_transition(plan=plan, action="approve", actor=role_user(role))
    assert plan_transition(plan=plan, action="approve", actor=role_user(Role.BR_MANAGER)).status == P.APPROVED
    team = OrganisationFactory(kind=OrganisationKind.INTERNAL_TEAM)
    own = make_plan(P.SUBMITTED, team=team)
    with pytest.raises(PermissionDenied):
        plan_transition(plan=own, action="approve", actor=role_user(Role.BR_MANAGER))
    head = role_user(Role.DEPARTMENT_HEAD)
    approved = plan_transition(plan=own, action="approve", actor=head)
    assert (approved.status, approved.approved_by, approved.approved_terms["actions"]) == (
        P.APPROVED,
        head,
        list(approved.actions.values_list("pk", flat=True)),
    )
    with pytest.raises(ValidationError) as error:
        make_plan(P.DRAFT, team=OrganisationFactory())  # a customer is no internal team
    assert "team" in error.value.message_dict


def test_a_plan_is_submitted_only_with_a_goal_a_target_and_an_action():
    brm = role_user(Role.BR_MANAGER)
    plan = plan_create(actor=brm, title="Empty", goal="Better", owner=brm)
    with pytest.raises(ValidationError) as error:
        plan_transition(plan=plan, action="submit", actor=brm)
    assert {"__all__", "target_measure"} <= set(error.value.message_dict)
    plan.refresh_from_db()
    assert plan.status == P.DRAFT


def test_a_changed_target_after_approval_sends_the_plan_back_for_approval():
    plan = make_plan(P.IN_PROGRESS)
    same = plan_update(plan=plan, actor=plan.owner, change_request_ref="RFC-1", title="Renamed")
    assert same.status == P.IN_PROGRESS  # not the target: no re-approval
    back = plan_update(plan=plan, actor=plan.owner, target_measure="95 % within 20 seconds")
    assert back.status == P.SUBMITTED
    event = back.events.get(action="resubmit")
    assert (event.from_status, event.to_status) == (P.IN_PROGRESS, P.SUBMITTED)
    assert event.note.startswith("批准后已变更")  # "Changed after approval: target measure."
    approved = plan_transition(plan=back, action="approve", actor=role_user(Role.BR_MANAGER))
    assert approved.approved_terms["target_measure"] == "95 % within 20 seconds"


def test_an_action_added_after_approval_sends_the_plan_back_for_approval():
    plan = make_plan(P.APPROVED)
    action_add(plan=plan, actor=plan.owner, title="One more", owner=plan.owner, working_days=5)
    plan.refresh_from_db()
    assert plan.status == P.SUBMITTED
    task = plan.actions.get(title="One more")
    assert task.due_on == business_calendar.add_working_days(timezone.localdate(), 5)
    draft = make_plan(P.DRAFT)
    action_add(plan=draft, actor=draft.owner, title="Fine", owner=draft.owner, working_days=1)
    draft.refresh_from_db()
    assert draft.status == P.DRAFT


def test_review_needs_every_action_of_the_round_done_or_cancelled_and_a_future_date():
    plan = make_plan(P.IN_PROGRESS, actions=2)
    first, second = plan.actions.order_by("pk")
    action_complete(action=first, actor=first.owner, evidence_link="https://wiki.example/rota")
    with pytest.raises(ValidationError):
        plan_transition(plan=plan, action="request_review", actor=plan.owner, review_due_on=IN_A_MONTH)
    action_cancel(action=second, actor=plan.owner, reason="covered by the first")
    with pytest.raises(ValidationError) as error:
        plan_transition(
            plan=plan, action="request_review", actor=plan.owner, review_due_on=timezone.localdate() - timedelta(days=1)
        )
    assert "review_due_on" in error.value.message_dict
    reviewing = plan_transition(plan=plan, action="request_review", actor=plan.owner, review_due_on=IN_A_MONTH)
    assert reviewing.reviews.get(round=1).due_on == IN_A_MONTH


def test_an_action_needs_evidence_and_an_approved_plan():
    draft = make_plan(P.DRAFT)
    task = draft.actions.get()
    with pytest.raises(ValidationError):
        action_complete(action=task, actor=task.owner, evidence_note="too early")
    plan = make_plan(P.IN_PROGRESS)
    task = plan.actions.get()
    with pytest.raises(ValidationError) as error:
        action_complete(action=task, actor=task.owner)
    assert "evidence_note" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        action_complete(action=task, actor=UserFactory(), evidence_note="not mine")


def test_not_effective_sends_the_plan_round_the_loop_again():
    item = make_item(IS.OPEN)
    plan = make_plan(P.DRAFT)
    item_transition(item=item, action="plan", actor=plan.owner, plan=plan)
    for action in ("submit", "approve", "start", "request_review", "repeat"):
        plan = _plan_move(plan, action)
    assert (plan.status, plan.round, plan.review_due_on) == (P.IN_PROGRESS, 2, None)
    assert plan.reviews.get(round=1).result == Effectiveness.NOT_EFFECTIVE
    # Round 2: a new action (approved again), done, reviewed effective, closed.
    action_add(plan=plan, actor=plan.owner, title="Round two", owner=plan.owner, working_days=3)
    plan.refresh_from_db()
    assert plan.status == P.SUBMITTED
    for action in ("approve", "start", "request_review", "close"):
        plan = _plan_move(plan, action)
    assert (plan.status, plan.round, plan.outcome) == (P.CLOSED, 2, Effectiveness.EFFECTIVE)
    assert plan.actions.get(title="Round two").round == 2
    item.refresh_from_db()
    assert item.status == IS.DONE and item.closed_at is not None
    assert list(plan.events.filter(action="reviewed").values_list("data__result", flat=True)) == [
        "not_effective",
        "effective",
    ]


def test_a_rejected_plan_releases_its_items():
    item = make_item(IS.PLANNED)
    plan = item.plan
    plan_transition(plan=plan, action="submit", actor=plan.owner)
    plan_transition(plan=plan, action="reject", actor=role_user(Role.BR_MANAGER), note="no budget")
    item.refresh_from_db()
    assert (item.status, item.plan) == (IS.OPEN, None)
    assert item.events.filter(action="unplan", actor__isnull=True).exists()


def test_a_kpi_plan_reads_its_closed_period_values_at_review():
    from kpi.models import ElementKind, KpiDefinition, KpiValue

    kpi = KpiDefinition.objects.get(code="incident_satisfaction")
    plan = make_plan(
        P.EFFECTIVENESS_REVIEW,
        kpi=kpi,
        baseline_value=Decimal("90"),
        target_value=Decimal("95"),
        target_date=IN_A_MONTH,
        target_measure="",
    )
    month = timezone.localdate().replace(day=1)
    for offset, value in ((0, "93.5"), (1, "96.0")):
        start = (month + timedelta(days=32 * offset)).replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        KpiValue.objects.create(
            definition=kpi,
            period_start=start,
            period_end=end,
            period_label=f"{start:%Y-%m}",
            element_kind=ElementKind.OVERALL,
            value=Decimal(value),
            target=Decimal("95"),
            status="green",
            closed=True,
            computed_at=timezone.now(),
        )
    closed = effectiveness_review_record(
        plan=plan, actor=role_user(Role.BR_MANAGER), result=Effectiveness.PARTLY, evidence_note="one month of two"
    )
    measured = closed.reviews.get(round=1).measured
    assert [(row["value"], row["met"]) for row in measured] == [("93.5000", False), ("96.0000", True)]
    assert closed.outcome == Effectiveness.PARTLY


def test_history_rows_are_written_for_actions_and_reviews():
    plan = make_plan(P.CLOSED)
    assert list(ImprovementPlanEvent.objects.filter(plan=plan).values_list("action", flat=True)) == [
        "created",
        "action_added",
        "submit",
        "approve",
        "start",
        "action_done",
        "request_review",
        "reviewed",
        "close",
    ]


# --- the docs page -----------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "improvement-workflow.md"


def test_the_workflow_doc_shows_the_current_diagrams():
    diagrams = re.findall(r"```mermaid\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    expected = [workflow.item_mermaid(), workflow.as_mermaid(), workflow.meeting_mermaid()]
    assert diagrams == expected, "docs/improvement-workflow.md is stale; its diagrams should be:\n" + "\n\n".join(
        expected
    )
