"""Reminders of improvement work (issue 13 item 4), run daily by the periodic checks
``improvement.action_reminders`` and ``improvement.review_reminders`` (``improvement.periodic``).

Which actions: the open actions (open or in progress) of plans whose work is under way —
approved, in progress, or back for re-approval after an approval (their actions still run).
A draft's due dates are still a proposal and remind nobody.

* **Due soon** — to the action's owner once its due date is within
  ``DUE_SOON_WORKING_DAYS`` (3) working days (the due day included), once per action and due
  date: ``improvement:action:<id>:due:<date>:soon``. A new due date reminds again.
* **Overdue** — to the action's owner each working day it is past its due date, at most once a
  day: ``improvement:action:<id>:overdue:<local date>``. Nothing is queued on a day off (the
  mail would only wait for Monday beside Monday's own).
* **Escalation** — once the action is ``IMPROVEMENT_ESCALATE_AFTER_WORKING_DAYS`` (default 3)
  working days past its due date, to the plan's owner, **once per action and due date**
  (``improvement:action:<id>:due:<date>:escalated``): the plan's owner has the action on the
  home page and the tracking sheet from then on, and the action's owner keeps the daily mail;
  a new due date that is missed again escalates again. Not sent when the plan's owner is the
  action's owner (they have the daily mail already).
* **Effectiveness review due** — to the plan's owner each working day from the review's due
  date (``review_due_on``) while the plan is under effectiveness review and the round's review
  is not recorded, at most once a day: ``improvement:plan:<id>:review:<round>:<local date>``.

Working days are the default business calendar's (``itsm.core.calendar``), read once per run.
Mail goes only through ``notification_queue`` (non-urgent: held to the recipient's working
hours); a recipient without an address or no longer active is skipped. Running a check twice —
or every hour of a day — queues each mail once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from itsm.core import calendar as business_calendar
from itsm.core.models import Notification, User
from itsm.core.notifications import Recipient, notification_queue

from ..choices import ACTION_OPEN_STATUSES, PlanStatus
from ..models import EffectivenessReview, ImprovementPlan, PlanAction

DUE_SOON_WORKING_DAYS = 3
DEFAULT_ESCALATE_AFTER_WORKING_DAYS = 3

Mail = tuple[str, str, User, dict[str, Any]]  # key, template, recipient, context


def escalate_after() -> int:
    """Working days past its due date after which an action is escalated to its plan's owner."""
    return max(
        1, int(getattr(settings, "IMPROVEMENT_ESCALATE_AFTER_WORKING_DAYS", DEFAULT_ESCALATE_AFTER_WORKING_DAYS))
    )


def due_soon_key(action: PlanAction) -> str:
    return f"improvement:action:{action.pk}:due:{action.due_on:%Y-%m-%d}:soon"


def overdue_key(action: PlanAction, today: date) -> str:
    return f"improvement:action:{action.pk}:overdue:{today:%Y-%m-%d}"


def escalation_key(action: PlanAction) -> str:
    return f"improvement:action:{action.pk}:due:{action.due_on:%Y-%m-%d}:escalated"


def review_key(plan: ImprovementPlan, today: date) -> str:
    return f"improvement:plan:{plan.pk}:review:{plan.round}:{today:%Y-%m-%d}"


def working_actions() -> QuerySet[PlanAction]:
    """Open actions of plans whose work is under way (see the module)."""
    under_way = Q(plan__status__in=(PlanStatus.APPROVED, PlanStatus.IN_PROGRESS)) | Q(
        plan__status=PlanStatus.SUBMITTED, plan__approved_at__isnull=False
    )
    return PlanAction.objects.filter(under_way, status__in=ACTION_OPEN_STATUSES).select_related(
        "owner", "plan", "plan__owner"
    )


def reviews_due(today: date) -> QuerySet[ImprovementPlan]:
    """Plans under effectiveness review whose review is due by ``today`` and not recorded."""
    recorded = EffectivenessReview.objects.filter(
        plan=OuterRef("pk"), round=OuterRef("round"), reviewed_at__isnull=False
    )
    return (
        ImprovementPlan.objects.filter(status=PlanStatus.EFFECTIVENESS_REVIEW, review_due_on__lte=today)
        .filter(~Exists(recorded))
        .select_related("owner")
        .order_by("review_due_on", "pk")
    )


def _reachable(user: User | None) -> bool:
    return bool(user is not None and user.is_active and user.email)


def _url(name: str, *args: object, fragment: str = "") -> str:
    try:
        return f"{settings.SITE_URL}{reverse(name, args=args)}{fragment}"
    except NoReverseMatch:  # the page is not there (yet): the mail still names the record
        return ""


def _action_context(action: PlanAction, today: date) -> dict[str, Any]:
    plan = action.plan
    return {
        "action": action,
        "plan": plan,
        "due": action.due_on,
        "days_left": (action.due_on - today).days,
        "days_overdue": (today - action.due_on).days,
        "working_days": escalate_after(),
        "owner": action.owner,
        "url": _url("improvement_plan_detail", plan.pk, fragment=f"#action-{action.pk}"),
    }


def _queue(mails: list[Mail]) -> int:
    """Queue the mails not recorded before (their keys looked up in one query)."""
    if not mails:
        return 0
    done = set(Notification.objects.filter(key__in=[mail[0] for mail in mails]).values_list("key", flat=True))
    queued = 0
    for key, template, person, context in mails:
        if key in done:
            continue
        notification_queue(key=key, template=template, recipient=Recipient.of(person), context=context)
        done.add(key)
        queued += 1
    return queued


def actions_remind(today: date | None = None) -> dict[str, int]:
    """Queue the due-soon, overdue and escalation mails of today (see the module); return how
    many of each were queued now (``{"due_soon", "overdue", "escalated"}``)."""
    today = today or timezone.localdate()
    calendar = business_calendar.default_calendar()
    horizon = business_calendar.add_working_days(today, DUE_SOON_WORKING_DAYS, calendar)
    working_day = business_calendar.is_working_day(today, calendar)
    after = escalate_after()
    soon: list[Mail] = []
    overdue: list[Mail] = []
    escalated: list[Mail] = []
    for action in working_actions().filter(due_on__lte=horizon).order_by("due_on", "pk"):
        context = _action_context(action, today)
        if action.due_on >= today:
            if _reachable(action.owner):
                soon.append((due_soon_key(action), "improvement/email/action_due", action.owner, context))
            continue
        if not working_day:
            continue
        if _reachable(action.owner):
            overdue.append((overdue_key(action, today), "improvement/email/action_overdue", action.owner, context))
        plan_owner = action.plan.owner
        if (
            plan_owner is not None
            and plan_owner.pk != action.owner_id
            and _reachable(plan_owner)
            and business_calendar.add_working_days(action.due_on, after, calendar) <= today
        ):
            escalated.append((escalation_key(action), "improvement/email/action_escalated", plan_owner, context))
    return {"due_soon": _queue(soon), "overdue": _queue(overdue), "escalated": _queue(escalated)}


def reviews_remind(today: date | None = None) -> int:
    """Queue today's reminders of effectiveness reviews due and not recorded (see the module);
    return how many were queued now."""
    today = today or timezone.localdate()
    if not business_calendar.is_working_day(today):
        return 0
    mails: list[Mail] = []
    for plan in reviews_due(today):
        owner, due = plan.owner, plan.review_due_on
        if owner is None or due is None or not _reachable(owner):
            continue
        context = {
            "plan": plan,
            "due": due,
            "days_overdue": (today - due).days,
            "round": plan.round,
            "url": _url("improvement_plan_detail", plan.pk),
        }
        mails.append((review_key(plan, today), "improvement/email/review_due", owner, context))
    return _queue(mails)
