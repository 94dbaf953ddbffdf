"""Improvement test data, made through the real services so references, events and the
workflow's rules are right.

``make_item(status=...)`` raises an item (from an SLA measurement unless a source is given) and
moves it to ``status``; ``make_plan(status=...)`` drafts a plan with one action and drives it
through the plan workflow (as the roles that may) until it reaches ``status``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from improvement.choices import Effectiveness, ItemStatus, PlanStatus
from improvement.models import ImprovementItem, ImprovementPlan
from improvement.services.items import item_create, item_suggest, item_transition
from improvement.services.plans import (
    action_add,
    action_complete,
    effectiveness_review_record,
    plan_create,
    plan_transition,
)
from itsm.core.models import User
from itsm.core.roles import Role
from tests.complaints.factories import role_user
from tests.sla.factories import MeasurementFactory

P = PlanStatus


def make_item(
    status: str = ItemStatus.OPEN,
    *,
    source=None,
    source_kind: str = "sla_measurement",
    actor: User | None = None,
    title: str = "Night shift answers too slowly",
    priority: str = "medium",
    plan: ImprovementPlan | None = None,
    **fields: Any,
) -> ImprovementItem:
    """An item in ``status`` (``suggested`` through the system's intake)."""
    actor = actor or role_user(Role.BR_MANAGER)
    source = source if source is not None else MeasurementFactory(met=False)
    if status == ItemStatus.SUGGESTED:
        item, _new = item_suggest(
            key=fields.pop("key", f"test:{source_kind}:{source.pk}:{title}"),
            source_kind=source_kind,
            source=source,
            title=title,
            priority=priority,
            owner=fields.pop("owner", actor),
            **fields,
        )
        return item
    item = item_create(actor=actor, source_kind=source_kind, source=source, title=title, priority=priority, **fields)
    if status == ItemStatus.PLANNED:
        plan = plan or make_plan(P.DRAFT, actor=actor)
        item = item_transition(item=item, action="plan", actor=actor, plan=plan)
    elif status == ItemStatus.DONE:
        item = item_transition(item=item, action="complete", actor=actor, resolution="fixed the rota")
    elif status == ItemStatus.DISMISSED:
        item = item_transition(item=item, action="dismiss", actor=actor, note="not ours to fix")
    return item


# The shortest path of (action, inputs) from draft to each state; "review" records the
# effectiveness review (effective) and "review_not" one that found it not effective.
PATHS: dict[str, list[str]] = {
    P.DRAFT: [],
    P.SUBMITTED: ["submit"],
    P.APPROVED: ["submit", "approve"],
    P.IN_PROGRESS: ["submit", "approve", "start"],
    P.EFFECTIVENESS_REVIEW: ["submit", "approve", "start", "do_actions", "request_review"],
    P.CLOSED: ["submit", "approve", "start", "do_actions", "request_review", "review"],
    P.REJECTED: ["submit", "reject"],
}


def make_plan(
    status: str = P.DRAFT,
    *,
    actor: User | None = None,
    owner: User | None = None,
    title: str = "Faster answers on the night shift",
    actions: int = 1,
    **fields: Any,
) -> ImprovementPlan:
    """A plan with ``actions`` actions, moved to ``status`` through the real workflow (the
    plan's approver approves it: the BR manager, or the department head for a ``team`` plan)."""
    actor = actor or role_user(Role.BR_MANAGER)
    fields.setdefault("target_measure", "90 % of night calls answered within 30 seconds")
    plan = plan_create(
        actor=actor, title=title, goal="Answer night calls as fast as day calls", owner=owner or actor, **fields
    )
    for index in range(actions):
        action_add(
            plan=plan,
            actor=actor,
            title=f"Action {index + 1}",
            owner=owner or actor,
            due_on=timezone.localdate() + timedelta(days=14 + index),
        )
    approver = role_user(Role.DEPARTMENT_HEAD if plan.team_id else Role.BR_MANAGER)
    for step in PATHS[status]:
        plan.refresh_from_db()
        if step == "do_actions":
            for action in plan.actions.all():
                action_complete(action=action, actor=action.owner, evidence_note="done as planned")
        elif step == "request_review":
            plan = plan_transition(
                plan=plan,
                action="request_review",
                actor=plan.owner,
                review_due_on=timezone.localdate() + timedelta(days=30),
            )
        elif step == "review":
            plan = effectiveness_review_record(
                plan=plan, actor=approver, result=Effectiveness.EFFECTIVE, evidence_note="night calls answered in 25 s"
            )
        elif step in ("approve", "reject"):
            plan = plan_transition(
                plan=plan, action=step, actor=approver, note="" if step == "approve" else "no budget"
            )
        else:
            plan = plan_transition(plan=plan, action=step, actor=plan.owner)
    plan.refresh_from_db()
    return plan
