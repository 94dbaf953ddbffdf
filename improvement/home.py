"""The continual-improvement queues on the home page (registered with ``itsm.core.home``): my
open improvement actions, suggestions of the system to accept, plans awaiting my approval and
effectiveness reviews due. Each panel is a count and its first items: two queries, whatever
the size of the queue."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.home import HOME_ITEMS, PanelContent, PanelItem, register_panel
from itsm.core.roles import Role, roles_of

from .choices import ACTION_OPEN_STATUSES, PLAN_OPEN_STATUSES, ItemStatus, PlanStatus
from .models import ImprovementItem, ImprovementPlan, PlanAction
from .workflow import ITEM_ROLES, PLAN_ROLES

R = Role


def _days_text(day: date, today: date) -> tuple[str, bool]:
    days = (day - today).days
    if days < 0:
        return _("overdue by %(days)s days") % {"days": -days}, True
    if days == 0:
        return _("due today"), False
    return _("in %(days)s days (%(day)s)") % {"days": days, "day": date_format(day, "Y-m-d")}, False


def my_actions_queryset(user) -> QuerySet[PlanAction]:
    """Open actions ``user`` owns in plans still open; the earliest due (so the overdue) first."""
    return (
        PlanAction.objects.visible_to(user)
        .filter(owner=user, status__in=ACTION_OPEN_STATUSES, plan__status__in=PLAN_OPEN_STATUSES)
        .select_related("plan")
        .order_by("due_on", "pk")
    )


def my_actions(user) -> PanelContent:
    today = timezone.localdate()
    queryset = my_actions_queryset(user)
    items = []
    for action in queryset[:HOME_ITEMS]:
        text, overdue = _days_text(action.due_on, today)
        items.append(
            PanelItem(
                label=action.title,
                url=action.get_absolute_url(),
                detail=f"{action.plan.reference} {action.plan.title}",
                due=action.due_on,
                due_text=text,
                overdue=overdue,
            )
        )
    overdue_count = queryset.filter(due_on__lt=today).count() if any(item.overdue for item in items) else 0
    query = urlencode({"owner": user.pk, "action_status": list(ACTION_OPEN_STATUSES)}, doseq=True)
    return PanelContent(
        count=queryset.count(),
        items=items,
        url=f"{reverse('improvement_tracking')}?{query}",
        note=_("%(overdue)s of them overdue") % {"overdue": overdue_count} if overdue_count else "",
    )


def suggestions_queryset(user) -> QuerySet[ImprovementItem]:
    """Items the system suggested that ``user`` owns, and — for a BR manager — those no one owns."""
    mine = Q(owner=user)
    if R.BR_MANAGER.value in roles_of(user):
        mine |= Q(owner__isnull=True)
    return (
        ImprovementItem.objects.visible_to(user)
        .filter(mine, status=ItemStatus.SUGGESTED)
        .select_related("owner")
        .order_by("created_at", "pk")
    )


def suggestions(user) -> PanelContent:
    queryset = suggestions_queryset(user)
    items = [
        PanelItem(
            label=f"{item.reference} {item.title}",
            url=item.get_absolute_url(),
            detail=str(item.owner) if item.owner_id else _("No owner yet"),
            badge=item.get_priority_display(),
        )
        for item in queryset[:HOME_ITEMS]
    ]
    count = queryset.count()
    return PanelContent(
        count=count,
        items=items,
        url=f"{reverse('improvement_item_list')}?status={ItemStatus.SUGGESTED.value}",
        note=gettext_lazy("Accept them, or dismiss them with a reason.") if count else "",
    )


def plans_to_approve_queryset(user) -> QuerySet[ImprovementPlan]:
    """Submitted plans whose approver role ``user`` holds (``services.plans.approver_role``):
    the BR manager approves plans without a team, the department head a department's own."""
    roles = set(roles_of(user))
    wanted = Q(pk__in=[])
    if user.is_superuser or R.BR_MANAGER.value in roles:
        wanted |= Q(team__isnull=True)
    if user.is_superuser or R.DEPARTMENT_HEAD.value in roles:
        wanted |= Q(team__isnull=False)
    return (
        ImprovementPlan.objects.visible_to(user)
        .filter(wanted, status=PlanStatus.SUBMITTED)
        .select_related("owner", "team")
        .order_by("updated_at", "pk")
    )


def plans_to_approve(user) -> PanelContent:
    queryset = plans_to_approve_queryset(user)
    items = []
    for plan in queryset[:HOME_ITEMS]:
        detail = str(plan.owner) if plan.owner_id else ""
        team = plan.team
        if team is not None:
            detail = f"{team.name} · {detail}" if detail else team.name
        items.append(
            PanelItem(
                label=f"{plan.reference} {plan.title}",
                url=plan.get_absolute_url(),
                detail=detail,
                badge=_("again") if plan.approved_at else "",
            )
        )
    return PanelContent(
        count=queryset.count(),
        items=items,
        url=f"{reverse('improvement_plan_list')}?status={PlanStatus.SUBMITTED.value}",
    )


def reviews_due_queryset(user) -> QuerySet[ImprovementPlan]:
    """Plans ``user`` owns that wait for their effectiveness review, the earliest due first."""
    return (
        ImprovementPlan.objects.visible_to(user)
        .filter(owner=user, status=PlanStatus.EFFECTIVENESS_REVIEW)
        .order_by("review_due_on", "pk")
    )


def reviews_due(user) -> PanelContent:
    today = timezone.localdate()
    queryset = reviews_due_queryset(user)
    items = []
    for plan in queryset[:HOME_ITEMS]:
        text, overdue = _days_text(plan.review_due_on, today) if plan.review_due_on else ("", False)
        items.append(
            PanelItem(
                label=f"{plan.reference} {plan.title}",
                url=plan.get_absolute_url(),
                detail=_("Round %(round)s") % {"round": plan.round},
                due=plan.review_due_on,
                due_text=text,
                overdue=overdue,
            )
        )
    return PanelContent(
        count=queryset.count(),
        items=items,
        url=f"{reverse('improvement_plan_list')}?status={PlanStatus.EFFECTIVENESS_REVIEW.value}",
    )


# Everyone who works the register may own an action or a suggestion; plans are owned and
# reviewed by the roles that run them, approved by the BR manager or the department head.
register_panel(
    "improvement.my_actions",
    gettext_lazy("My improvement actions"),
    roles=ITEM_ROLES,
    permission="improvement.view_planaction",
    build=my_actions,
    empty=gettext_lazy("No open improvement action is yours."),
    order=50,
)
register_panel(
    "improvement.suggestions",
    gettext_lazy("Suggestions to accept"),
    roles=ITEM_ROLES,
    permission="improvement.change_improvementitem",
    build=suggestions,
    empty=gettext_lazy("No suggestion of the system waits for you."),
    order=51,
)
register_panel(
    "improvement.plans_to_approve",
    gettext_lazy("Plans awaiting my approval"),
    roles=[R.BR_MANAGER, R.DEPARTMENT_HEAD],
    permission="improvement.change_improvementplan",
    build=plans_to_approve,
    empty=gettext_lazy("No improvement plan waits for your approval."),
    order=52,
)
register_panel(
    "improvement.reviews_due",
    gettext_lazy("Effectiveness reviews due"),
    roles=PLAN_ROLES,
    permission="improvement.change_improvementplan",
    build=reviews_due,
    empty=gettext_lazy("None of your plans waits for its effectiveness review."),
    order=53,
)
