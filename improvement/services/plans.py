"""Every write of service improvement plans (SIP): create and edit, the items they answer,
their actions, the moves of plan → do → check → act, and the effectiveness review.

* ``plan_transition`` is the only code that moves a plan (``PLAN_MACHINE`` on the workflow
  kit). The BR manager approves, returns or rejects a plan; the department head does for a
  department's own plan (``team``). Approval freezes what was approved (``approved_terms``:
  the target and the actions).
* After approval the target and the actions are what was approved: ``plan_update`` changing
  the target, or ``action_add``, sends the plan back to ``submitted`` in the same transaction
  (the ``resubmit`` move, its event naming what changed).
* ``request_review`` needs every action of the round done or cancelled and schedules the
  effectiveness review (``EffectivenessReview`` of the round, due on the given date);
  ``effectiveness_review_record`` records the result with its evidence and, for a plan
  measured by a KPI, the closed period values since approval; "effective" or "partly" closes
  the plan (its items done), "not effective" sends it round again (``round`` + 1).
* A rejected plan releases its items (open again); a closed plan completes them.

Each service checks the permission (``PermissionDenied``), validates (``ValidationError`` per
field; nothing written) and runs in one transaction with the actor on the audit trail.
"""

from __future__ import annotations

from datetime import date
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core import calendar as business_calendar
from itsm.core.audit import set_actor
from itsm.core.choices import OrganisationKind
from itsm.core.models import Department, Organisation, User
from itsm.core.numbering import save_numbered
from itsm.core.permissions import can
from itsm.core.roles import Role, roles_of
from itsm.core.uploads import validate_upload
from itsm.core.workflow import Machine, Move, Transition, perform, roles_may

from ..choices import (
    ACTION_OPEN_STATUSES,
    PLAN_APPROVED_STATUSES,
    ActionStatus,
    Effectiveness,
    ItemStatus,
    PlanStatus,
)
from ..models import EffectivenessReview, ImprovementItem, ImprovementPlan, ImprovementPlanEvent, PlanAction
from ..workflow import PLAN_TRANSITIONS
from .items import check_plan_open, item_transition

# What a person edits on a plan (the status, round and approval are the machine's).
PLAN_FIELDS = (
    "title",
    "goal",
    "team",
    "baseline_measure",
    "target_measure",
    "kpi",
    "baseline_value",
    "target_value",
    "target_date",
    "change_request_ref",
    "owner",
)
SCOPE_FIELDS = ("services", "organisations", "departments")
# The approved target: changing any of these after approval needs approving again.
TARGET_FIELDS = ("target_measure", "kpi", "target_value", "target_date")
ACTION_FIELDS = ("title", "description", "owner", "due_on")
CLOSED = frozenset({PlanStatus.CLOSED, PlanStatus.REJECTED})


def _require(actor: User, verb: str, model: type[models.Model] = ImprovementPlan) -> None:
    if not can(actor, verb, model):
        raise PermissionDenied(_("Your role may not draft or change improvement plans."))


def approver_role(plan: ImprovementPlan) -> str:
    """The role that approves ``plan``: the department head for a department's own plan."""
    return Role.DEPARTMENT_HEAD.value if plan.team_id else Role.BR_MANAGER.value


APPROVAL_ACTIONS = frozenset({"approve", "return_for_rework", "reject"})
# Moves the services make, never offered as a step of their own.
SERVICE_MOVES = frozenset({"resubmit", "close", "repeat"})


def plan_may(transition: Transition, plan: ImprovementPlan, actor: User) -> bool:
    """Approval moves belong to the plan's approver role; the rest follow the table (the
    plan's owner takes the steps of their own plan)."""
    if transition.action in APPROVAL_ACTIONS:
        return approver_role(plan) in roles_of(actor)
    return roles_may(transition, plan, actor)


def _terms(plan: ImprovementPlan) -> dict[str, Any]:
    """What an approval approves: the target and the actions."""
    return {
        "target_measure": plan.target_measure,
        "kpi": plan.kpi_id,
        "target_value": str(plan.target_value) if plan.target_value is not None else None,
        "target_date": plan.target_date.isoformat() if plan.target_date else None,
        "actions": sorted(plan.actions.exclude(status=ActionStatus.CANCELLED).values_list("pk", flat=True)),
    }


def _check_target(plan: ImprovementPlan) -> dict[str, str]:
    errors: dict[str, str] = {}
    if plan.kpi_id is not None:
        if plan.target_value is None:
            errors["target_value"] = _("A plan measured by a KPI needs the target value.")
        if plan.target_date is None:
            errors["target_date"] = _("A plan measured by a KPI needs the date the target is to be reached by.")
    elif not plan.target_measure.strip():
        errors["target_measure"] = _("Say how success is measured, or choose a KPI.")
    return errors


def _check(move: Move) -> dict[str, Any]:
    plan = move.record
    errors: dict[str, Any] = {}
    if move.action == "submit":
        errors.update(_check_target(plan))
        if not plan.goal.strip():
            errors["goal"] = _("Say what the plan is to achieve.")
        if not plan.actions.exclude(status=ActionStatus.CANCELLED).exists():
            errors["__all__"] = _("Add at least one action before submitting the plan.")
        if plan.owner_id is None:
            errors["owner"] = _("Name the plan's owner.")
    elif move.action == "request_review":
        if plan.actions.filter(round=plan.round, status__in=ACTION_OPEN_STATUSES).exists():
            errors["__all__"] = _("Every action of this round must be done or cancelled first.")
        due = move.record.review_due_on
        if due is not None and due < timezone.localdate(move.now):
            errors["review_due_on"] = _("The review cannot be due in the past.")
    elif move.action in ("close", "repeat"):
        review = plan.reviews.filter(round=plan.round).first()
        wanted = (
            (Effectiveness.EFFECTIVE, Effectiveness.PARTLY)
            if move.action == "close"
            else (Effectiveness.NOT_EFFECTIVE,)
        )
        if review is None or review.result not in wanted:
            errors["__all__"] = _("Record the effectiveness review's result first.")
    return errors


def _approve(move: Move) -> dict:
    plan = move.record
    plan.approved_by = move.actor
    plan.approved_at = move.now
    plan.approved_terms = _terms(plan)
    return {"round": plan.round}


def _reject(move: Move) -> dict:
    released = []
    for item in move.record.items.filter(status=ItemStatus.PLANNED):
        item_transition(item=item, action="unplan", actor=None, note=_("The plan was rejected."))
        released.append(item.reference)
    return {"released": released} if released else {}


def _request_review(move: Move) -> dict:
    plan = move.record
    EffectivenessReview.objects.update_or_create(plan=plan, round=plan.round, defaults={"due_on": plan.review_due_on})
    return {"round": plan.round, "due_on": plan.review_due_on.isoformat()}


def _close(move: Move) -> dict:
    plan = move.record
    review = plan.reviews.get(round=plan.round)
    plan.outcome = review.result
    plan.closed_at = move.now
    completed = []
    for item in plan.items.filter(status=ItemStatus.PLANNED):
        item_transition(item=item, action="complete", actor=None, resolution=plan.outcome_note)
        completed.append(item.reference)
    return {"outcome": review.result, "round": plan.round, "items_done": completed}


def _repeat(move: Move) -> dict:
    plan = move.record
    finished = plan.round
    plan.round = finished + 1
    plan.review_due_on = None
    return {"round": plan.round, "not_effective_round": finished}


PLAN_MACHINE = Machine(
    model=ImprovementPlan,
    table=PLAN_TRANSITIONS,
    refused=gettext_lazy("“%(action)s” is not possible while the plan is %(status)s."),
    moved=gettext_lazy("%(action)s: the plan is now “%(status)s”."),
    event_model=ImprovementPlanEvent,
    effects={
        "approve": _approve,
        "reject": _reject,
        "request_review": _request_review,
        "close": _close,
        "repeat": _repeat,
    },
    check=_check,
    may=plan_may,
    permission="change",
    # The re-approval is the services' move (a changed target, an added action) and the close
    # or the next round the effectiveness review's (``effectiveness_review_record``): not buttons.
    offered=lambda transition, plan, user: transition.action not in SERVICE_MOVES,
    event_labels={
        "created": gettext_lazy("Drafted"),
        "action_added": gettext_lazy("Action added"),
        "action_done": gettext_lazy("Action done"),
        "action_cancelled": gettext_lazy("Action cancelled"),
        "reviewed": gettext_lazy("Effectiveness reviewed"),
        "item_added": gettext_lazy("Item added"),
    },
)


def plan_transition(
    *, plan: ImprovementPlan, action: str, actor: User, note: str = "", **inputs: Any
) -> ImprovementPlan:
    """Move ``plan`` by ``action`` (``PLAN_TRANSITIONS`` decides; the approver rule is
    ``plan_may``). Raises ``TransitionRefused``, ``PermissionDenied`` or ``ValidationError``
    (a submission without actions or target, a review request with open actions, a close
    before the review's result)."""
    if action == "resubmit":
        raise ValidationError({"action": _("A plan goes back for approval when its target or actions change.")})
    return perform(PLAN_MACHINE, plan, action, actor=actor, note=note, inputs=inputs)


def _event(plan: ImprovementPlan, kind: str, actor: User | None, note: str = "", **data: Any) -> None:
    """A history row that moves no status (an action added or done, an item joined, a review)."""
    ImprovementPlanEvent.objects.create(
        plan=plan, action=kind, actor=actor, actor_label="" if actor else "system", note=note, data=data
    )


def _check_team(team: Organisation | None) -> None:
    if team is not None and team.kind != OrganisationKind.INTERNAL_TEAM:
        raise ValidationError({"team": _("A department's own plan names an internal team.")})


def _set_scope(plan: ImprovementPlan, scope: dict[str, Any]) -> None:
    for name in SCOPE_FIELDS:
        if name in scope and scope[name] is not None:
            getattr(plan, name).set(scope[name])


def plan_create(
    *,
    actor: User,
    title: str,
    goal: str,
    owner: User | None = None,
    items: list[ImprovementItem] | tuple[ImprovementItem, ...] = (),
    services: Any = None,
    organisations: list[Organisation] | None = None,
    departments: list[Department] | None = None,
    **fields: Any,
) -> ImprovementPlan:
    """Draft a plan (``PLAN_FIELDS``, its scope) answering ``items`` (open items of the
    register; each becomes ``planned``). Raises ``PermissionDenied`` without
    ``improvement.add_improvementplan``; ``ValidationError`` per field."""
    _require(actor, "add")
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    plan = ImprovementPlan(
        title=(title or "").strip(), goal=(goal or "").strip(), owner=owner or actor, created_by=actor
    )
    for name, value in fields.items():
        setattr(plan, name, value.strip() if isinstance(value, str) else value)
    _check_team(plan.team if plan.team_id else None)
    plan.reference = "-"
    plan.full_clean(exclude=["reference"])
    with set_actor(actor), transaction.atomic():

        def then(saved: ImprovementPlan) -> None:
            _set_scope(saved, {"services": services, "organisations": organisations, "departments": departments})
            _event(saved, "created", actor)
            for item in items:
                _add_item(saved, item, actor)

        save_numbered(plan, field="reference", prefix="SIP", width=4, then=then)
    return plan


def _add_item(plan: ImprovementPlan, item: ImprovementItem, actor: User) -> None:
    if item.status != ItemStatus.OPEN:
        raise ValidationError(
            {
                "items": _("%(item)s is %(status)s: only open items join a plan.")
                % {"item": item.reference, "status": item.get_status_display()}
            }
        )
    item_transition(item=item, action="plan", actor=actor, plan=plan)


def plan_add_items(*, plan: ImprovementPlan, items: list[ImprovementItem], actor: User) -> ImprovementPlan:
    """``items`` (open) join ``plan`` (still open). Raises ``ValidationError`` otherwise."""
    _require(actor, "change")
    with set_actor(actor), transaction.atomic():
        locked = ImprovementPlan.objects.select_for_update().get(pk=plan.pk)
        check_plan_open(locked)
        for item in items:
            _add_item(locked, item, actor)
    return locked


def _resubmit_move(plan: ImprovementPlan, actor: User, changed: list[str]) -> None:
    """The plan goes back for approval; the event's note says what changed."""
    perform(
        PLAN_MACHINE,
        plan,
        "resubmit",
        actor=actor,
        note=_("Changed after approval: %(what)s.") % {"what": ", ".join(changed)},
    )


def plan_update(
    *,
    plan: ImprovementPlan,
    actor: User,
    services: Any = None,
    organisations: Any = None,
    departments: Any = None,
    **fields: Any,
) -> ImprovementPlan:
    """Edit a plan that is not closed or rejected. Changing the target (``TARGET_FIELDS``) of
    an approved plan sends it back for approval in the same transaction. Raises
    ``PermissionDenied`` without ``improvement.change_improvementplan``; ``ValidationError``
    per field, or for a closed or rejected plan."""
    _require(actor, "change")
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    with set_actor(actor), transaction.atomic():
        locked = ImprovementPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status in CLOSED:
            raise ValidationError(_("A closed or rejected plan is not changed any more."))
        before = {name: getattr(locked, f"{name}_id" if name == "kpi" else name) for name in TARGET_FIELDS}
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        _check_team(locked.team if locked.team_id else None)
        locked.full_clean()
        locked.save()
        _set_scope(locked, {"services": services, "organisations": organisations, "departments": departments})
        changed = [
            str(getattr(ImprovementPlan._meta.get_field(name), "verbose_name", name))
            for name in TARGET_FIELDS
            if getattr(locked, f"{name}_id" if name == "kpi" else name) != before[name]
        ]
        if changed and locked.status in PLAN_APPROVED_STATUSES:
            errors = _check_target(locked)
            if errors:
                raise ValidationError(errors)
            _resubmit_move(locked, actor, changed)
            locked.refresh_from_db()
    return locked


# --- actions ---------------------------------------------------------------------------------


def may_work_action(user: User, action: PlanAction) -> bool:
    """Whether ``user`` may record progress on ``action``: its owner, the plan's owner, or a
    role that changes actions."""
    if not user.is_authenticated:
        return False
    return action.owner_id == user.pk or action.plan.owner_id == user.pk or can(user, "change", PlanAction)


def due_in_working_days(days: int, start: date | None = None) -> date:
    """The date ``days`` working days after ``start`` (today), by the business calendar."""
    if days < 1:
        raise ValidationError({"working_days": _("Give at least one working day.")})
    return business_calendar.add_working_days(start or timezone.localdate(), days)


def action_add(
    *,
    plan: ImprovementPlan,
    actor: User,
    title: str,
    owner: User,
    due_on: date | None = None,
    working_days: int | None = None,
    description: str = "",
) -> PlanAction:
    """Add an action to an open plan, due on a date or in a number of working days. On an
    approved plan this sends it back for approval. Raises ``PermissionDenied`` without
    ``improvement.add_planaction``; ``ValidationError`` per field."""
    _require(actor, "add", PlanAction)
    if due_on is None and working_days is not None:
        due_on = due_in_working_days(working_days)
    if due_on is None:
        raise ValidationError({"due_on": _("Give the due date or the number of working days.")})
    with set_actor(actor), transaction.atomic():
        locked = ImprovementPlan.objects.select_for_update().get(pk=plan.pk)
        check_plan_open(locked)
        if locked.status == PlanStatus.EFFECTIVENESS_REVIEW:
            raise ValidationError(_("The plan is under review: record the review's result first."))
        action = PlanAction(
            plan=locked,
            title=(title or "").strip(),
            description=(description or "").strip(),
            owner=owner,
            due_on=due_on,
            round=locked.round,
        )
        action.full_clean()
        if due_on is not None and due_on < timezone.localdate():
            raise ValidationError({"due_on": _("The due date cannot be in the past.")})
        action.save()
        _event(locked, "action_added", actor, task=action.title, due_on=due_on.isoformat() if due_on else None)
        if locked.status in PLAN_APPROVED_STATUSES:
            _resubmit_move(locked, actor, [str(_("an action was added"))])
    return action


def action_update(*, action: PlanAction, actor: User, **fields: Any) -> PlanAction:
    """Edit an open action's title, description, owner or due date. Raises
    ``PermissionDenied`` unless the actor may work it; ``ValidationError`` otherwise."""
    if not may_work_action(actor, action):
        raise PermissionDenied(_("You may not change this action."))
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    with set_actor(actor), transaction.atomic():
        locked = PlanAction.objects.select_for_update(of=("self",)).select_related("plan").get(pk=action.pk)
        if locked.status not in ACTION_OPEN_STATUSES:
            raise ValidationError(_("A done or cancelled action is not changed any more."))
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        locked.full_clean()
        locked.save()
    return locked


EVIDENCE_TYPES = (
    ".pdf",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".docx",
    ".doc",
    ".xlsx",
    ".xls",
    ".pptx",
    ".txt",
    ".csv",
    ".zip",
    ".msg",
    ".eml",
)


def _check_evidence(file: UploadedFile | None, field: str = "evidence") -> None:
    if file is None:
        return
    try:
        validate_upload(file)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    if PurePath(file.name or "").suffix.lower() not in EVIDENCE_TYPES:
        raise ValidationError({field: _("This kind of file cannot be evidence.")})


def action_complete(
    *,
    action: PlanAction,
    actor: User,
    evidence_note: str = "",
    evidence: UploadedFile | None = None,
    evidence_link: str = "",
) -> PlanAction:
    """Record an action as done with its evidence (what was done, a file or a link — at least
    one). The plan must be approved or in progress. Raises ``PermissionDenied`` unless the
    actor may work the action; ``ValidationError`` without evidence or out of turn."""
    if not may_work_action(actor, action):
        raise PermissionDenied(_("You may not change this action."))
    _check_evidence(evidence)
    with set_actor(actor), transaction.atomic():
        locked = PlanAction.objects.select_for_update(of=("self",)).select_related("plan").get(pk=action.pk)
        if locked.status not in ACTION_OPEN_STATUSES:
            raise ValidationError(_("The action is already %(status)s.") % {"status": locked.get_status_display()})
        if locked.plan.status not in (PlanStatus.APPROVED, PlanStatus.IN_PROGRESS):
            raise ValidationError(_("Actions are done once the plan is approved."))
        if not (evidence_note.strip() or evidence or evidence_link.strip()):
            raise ValidationError({"evidence_note": _("Say what was done, or attach a file or a link as evidence.")})
        locked.evidence_note = evidence_note.strip()
        locked.evidence_link = evidence_link.strip()
        if evidence is not None:
            locked.evidence = evidence
        locked.status = ActionStatus.DONE
        locked.done_at = timezone.now()
        locked.full_clean()
        locked.save()
        on_time = timezone.localdate(locked.done_at) <= locked.due_on
        _event(locked.plan, "action_done", actor, task=locked.title, on_time=on_time)
    return locked


def action_cancel(*, action: PlanAction, actor: User, reason: str) -> PlanAction:
    """Cancel an open action with a reason (it no longer counts for the round)."""
    if not may_work_action(actor, action):
        raise PermissionDenied(_("You may not change this action."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason.")})
    with set_actor(actor), transaction.atomic():
        locked = PlanAction.objects.select_for_update(of=("self",)).select_related("plan").get(pk=action.pk)
        if locked.status not in ACTION_OPEN_STATUSES:
            raise ValidationError(_("The action is already %(status)s.") % {"status": locked.get_status_display()})
        locked.status = ActionStatus.CANCELLED
        locked.save()
        _event(locked.plan, "action_cancelled", actor, reason.strip(), task=locked.title)
    return locked


# --- effectiveness -----------------------------------------------------------------------------


def measured_values(plan: ImprovementPlan) -> list[dict[str, Any]]:
    """The closed overall period values of the plan's KPI since it was approved (or drafted),
    each against the plan's target value: what the review reads for a KPI-linked plan."""
    kpi = plan.kpi if plan.kpi_id is not None else None
    if kpi is None:
        return []
    from kpi.models import Direction, ElementKind, KpiValue

    since = timezone.localdate(plan.approved_at or plan.created_at)
    values = KpiValue.objects.filter(
        definition_id=plan.kpi_id,
        element_kind=ElementKind.OVERALL,
        is_current=True,
        closed=True,
        period_end__gte=since,
    ).order_by("period_start")
    at_least = kpi.direction == Direction.AT_LEAST
    rows = []
    for value in values:
        met = None
        if value.value is not None and plan.target_value is not None:
            met = value.value >= plan.target_value if at_least else value.value <= plan.target_value
        rows.append(
            {
                "period": value.period_label,
                "value": str(value.value) if value.value is not None else None,
                "target": str(plan.target_value) if plan.target_value is not None else None,
                "baseline": str(plan.baseline_value) if plan.baseline_value is not None else None,
                "met": met,
            }
        )
    return rows


def effectiveness_review_record(
    *,
    plan: ImprovementPlan,
    actor: User,
    result: str,
    evidence_note: str,
    evidence: UploadedFile | None = None,
) -> ImprovementPlan:
    """Record the effectiveness review of the plan's round and act on it: effective or partly
    closes the plan (outcome recorded, items done), not effective sends it round the loop
    again (in progress, one more round). Raises ``PermissionDenied`` for a role that may not
    close the plan; ``ValidationError`` without evidence, for an unknown result or out of turn."""
    _require(actor, "change")
    if result not in Effectiveness.values:
        raise ValidationError({"result": _("Choose the result of the review.")})
    if not (evidence_note or "").strip():
        raise ValidationError({"evidence_note": _("Record the evidence the result rests on.")})
    _check_evidence(evidence)
    action = "repeat" if result == Effectiveness.NOT_EFFECTIVE else "close"
    if not plan_may(PLAN_MACHINE.table[action], plan, actor):
        raise PermissionDenied(_("Your role may not review this plan."))
    with set_actor(actor), transaction.atomic():
        locked = ImprovementPlan.objects.select_for_update(of=("self",)).select_related("kpi").get(pk=plan.pk)
        if locked.status != PlanStatus.EFFECTIVENESS_REVIEW:
            raise ValidationError(
                _("The plan is %(status)s: its effectiveness is reviewed once its actions are done.")
                % {"status": locked.get_status_display()}
            )
        review, _created = EffectivenessReview.objects.get_or_create(
            plan=locked, round=locked.round, defaults={"due_on": locked.review_due_on or timezone.localdate()}
        )
        review.result = result
        review.evidence_note = evidence_note.strip()
        if evidence is not None:
            review.evidence = evidence
        review.measured = measured_values(locked)
        review.reviewed_by = actor
        review.reviewed_at = timezone.now()
        review.save()
        _event(
            locked,
            "reviewed",
            actor,
            evidence_note.strip(),
            round=locked.round,
            result=result,
            measured=review.measured,
        )
        if action == "close":
            perform(PLAN_MACHINE, locked, "close", actor=actor, inputs={"outcome_note": evidence_note})
        else:
            perform(PLAN_MACHINE, locked, "repeat", actor=actor, note=evidence_note)
    locked.refresh_from_db()
    return locked
