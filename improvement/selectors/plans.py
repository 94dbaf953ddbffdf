"""Reads of service improvement plans: the list a user may see with its action counts worked out
in SQL, one plan with what its page shows (scope, items and their sources, actions, reviews),
and what changed since the plan was approved.

Every function here runs a fixed number of queries whatever the number of plans, items,
actions or reviews.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from itsm.core.models import User

from ..choices import (
    ACTION_OPEN_STATUSES,
    PLAN_OPEN_STATUSES,
    STAGE_OF_STATUS,
    ActionStatus,
    ItemStatus,
    PlanStatus,
    Stage,
)
from ..models import EffectivenessReview, ImprovementItem, ImprovementPlan, PlanAction
from .items import with_sources


def statuses_of_stage(stage: str) -> list[str]:
    """The plan statuses in PDCA ``stage``."""
    return [status.value for status, of in STAGE_OF_STATUS.items() if of == stage]


def overdue_actions_q(today: date | None = None) -> Q:
    """Plans with an open action past its due date."""
    late = PlanAction.objects.filter(
        plan=OuterRef("pk"), status__in=ACTION_OPEN_STATUSES, due_on__lt=today or timezone.localdate()
    )
    return Q(Exists(late))


def plan_list(user: User) -> QuerySet[ImprovementPlan]:
    """The plans ``user`` may see, each with ``actions_total`` (not cancelled), ``actions_done``
    and ``next_due`` (the earliest due date of an open action), counted in the database."""
    return (
        ImprovementPlan.objects.visible_to(user)
        .select_related("owner")
        .annotate(
            actions_total=Count("actions", filter=~Q(actions__status=ActionStatus.CANCELLED)),
            actions_done=Count("actions", filter=Q(actions__status=ActionStatus.DONE)),
            next_due=Min("actions__due_on", filter=Q(actions__status__in=ACTION_OPEN_STATUSES)),
        )
    )


def plan_get(user: User, pk: int) -> ImprovementPlan:
    """One plan within ``user``'s reach (``Http404`` otherwise), with its page's relations."""
    queryset = ImprovementPlan.objects.visible_to(user).select_related(
        "owner", "team", "kpi", "approved_by", "created_by"
    )
    return get_object_or_404(queryset, pk=pk)


def open_plans(user: User) -> QuerySet[ImprovementPlan]:
    """Plans still open, which an item may join."""
    return ImprovementPlan.objects.visible_to(user).filter(status__in=PLAN_OPEN_STATUSES)


def plan_scope(plan: ImprovementPlan) -> dict[str, list[Any]]:
    return {
        "services": list(plan.services.order_by("code")),
        "organisations": list(plan.organisations.order_by("name")),
        "departments": list(plan.departments.select_related("organisation").order_by("organisation__name", "name")),
    }


def plan_items(plan: ImprovementPlan, user: User) -> list[dict[str, Any]]:
    """The items the plan answers, each with its source (the plan's sources)."""
    items = plan.items.select_related("owner").order_by("created_at", "pk")
    return with_sources(items, user)


def plan_actions(plan: ImprovementPlan) -> list[PlanAction]:
    """The plan's actions, round by round, each knowing its plan (no query per row)."""
    actions = list(plan.actions.select_related("owner").order_by("round", "due_on", "pk"))
    for action in actions:
        action.plan = plan
    return actions


def plan_reviews(plan: ImprovementPlan) -> list[EffectivenessReview]:
    return list(plan.reviews.select_related("reviewed_by").order_by("round"))


def action_get(user: User, pk: int) -> PlanAction:
    """One action of a plan ``user`` may see (``Http404`` otherwise)."""
    queryset = PlanAction.objects.filter(plan__in=ImprovementPlan.objects.visible_to(user))
    return get_object_or_404(queryset.select_related("plan", "plan__owner", "owner"), pk=pk)


def review_get(plan: ImprovementPlan, round_: int) -> EffectivenessReview:
    return get_object_or_404(EffectivenessReview, plan=plan, round=round_)


def open_items_of(user: User, pks: list[int]) -> list[ImprovementItem]:
    """The open items among ``pks`` ``user`` may see (``?items=1,2`` of the new plan page)."""
    if not pks:
        return []
    return list(ImprovementItem.objects.visible_to(user).filter(pk__in=pks, status=ItemStatus.OPEN))


def _decimal(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def approval_changes(plan: ImprovementPlan, actions: list[PlanAction]) -> list[str]:
    """What differs between the plan as it stands and what was approved (``approved_terms``):
    the names of the target's fields that changed, and "actions" when the actions did. Empty
    for a plan never approved. ``actions`` are the plan's actions already read."""
    terms = plan.approved_terms or {}
    if not plan.approved_at or not terms:
        return []
    changed = []
    if (plan.target_measure or "") != (terms.get("target_measure") or ""):
        changed.append("target_measure")
    if plan.kpi_id != terms.get("kpi"):
        changed.append("kpi")
    if plan.target_value != _decimal(terms.get("target_value")):
        changed.append("target_value")
    if (plan.target_date.isoformat() if plan.target_date else None) != terms.get("target_date"):
        changed.append("target_date")
    current = sorted(action.pk for action in actions if action.status != ActionStatus.CANCELLED)
    if current != sorted(terms.get("actions") or []):
        changed.append("actions")
    return changed


def stage_rows(plan: ImprovementPlan) -> list[dict[str, Any]]:
    """The four PDCA stages, which one the plan is in and which it has passed."""
    order = list(Stage)
    current = plan.stage
    index = order.index(current)
    closed = plan.status == PlanStatus.CLOSED
    return [
        {
            "value": stage.value,
            "label": stage.label,
            "current": stage == current,
            "done": position < index or (closed and stage == current),
        }
        for position, stage in enumerate(order)
    ]
