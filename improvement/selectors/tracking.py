"""The service problem and improvement action tracking sheet (服务问题和改进行动跟踪表,
reference 004 §(6): "形成问题记录，启动服务改进行动，包括制定服务改进措施、明确职责和工作进度；
监督纠正措施的执行情况，确认服务问题已得到解决"): one row per problem and action, with the
problem, its source, the improvement measure, who is responsible, the schedule and progress,
the corrective action's status and whether the problem is confirmed solved.

**The rows are one SQL query.** The sheet is a queryset of register items annotated with the
columns of their plan's actions through ``plan__actions``: ``items LEFT JOIN plan LEFT JOIN
plan_action`` (plus the action's owner), so

* an item that is in no plan — or whose plan has no action yet — is one row (the action
  columns are NULL);
* an item in a plan is one row per action of that plan (every round's actions, cancelled ones
  included: the sheet shows what was done, not only what is left);
* filters on the action's columns (its owner, status, due date) are WHERE clauses on the same
  join, so they select *rows*, not items.

A UNION of "actions joined to their items" and "items without actions" would give the same
rows, but a combined query cannot be filtered afterwards, and its rows would be dicts instead
of items that ``select_related`` their owner and plan. The plan's last recorded effectiveness
review (result and round) is a correlated subquery in the same statement. So a page is a
COUNT and one SELECT (``LIMIT``), whatever the number of rows, plus one or two queries per
*kind* of source on the page (``resolve_sources`` of the register, which reads each kind's
records at once); the export streams the same queryset with ``iterator()``, resolving the
sources a chunk at a time, so memory stays flat and there is no row cap.

A plan that answers no item of the register has no problem to track: its actions are on the
plan's own page, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice

from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core.models import User
from itsm.core.periods import Cycle, Period, period_from_label

from ..choices import (
    ACTION_OPEN_STATUSES,
    ITEM_OPEN_STATUSES,
    STAGE_OF_STATUS,
    ActionStatus,
    Effectiveness,
    ItemStatus,
    PlanStatus,
    Priority,
)
from ..models import EffectivenessReview, ImprovementItem, ImprovementPlan
from .items import SourceLink, resolve_sources

# Rows whose sources are resolved together when the sheet is exported.
CHUNK_SIZE = 1000
SOLVED = (Effectiveness.EFFECTIVE, Effectiveness.PARTLY)


def _last_review(field: str) -> Subquery:
    """``field`` of the plan's latest recorded effectiveness review (NULL for none)."""
    reviews = EffectivenessReview.objects.filter(plan=OuterRef("plan_id"), reviewed_at__isnull=False)
    return Subquery(reviews.order_by("-round").values(field)[:1])


def tracking_queryset(user: User) -> QuerySet[ImprovementItem]:
    """The sheet's rows ``user`` may see (see the module): items annotated with one action of
    their plan each (``action_*``, NULL for an item without one), the row's deadline
    (``row_due``: the action's due date, else the item's close-by date) and responsible person
    (``row_owner_id``), and the plan's last effectiveness review (``review_result``,
    ``review_round``). Newest problem first, then its actions by due date."""
    return (
        ImprovementItem.objects.visible_to(user)
        .select_related("owner", "plan", "plan__owner")
        .annotate(
            action_pk=F("plan__actions__id"),
            action_title=F("plan__actions__title"),
            action_status=F("plan__actions__status"),
            action_due_on=F("plan__actions__due_on"),
            action_done_at=F("plan__actions__done_at"),
            action_round=F("plan__actions__round"),
            action_owner_pk=F("plan__actions__owner_id"),
            action_owner_username=F("plan__actions__owner__username"),
            action_owner_first_name=F("plan__actions__owner__first_name"),
            action_owner_last_name=F("plan__actions__owner__last_name"),
            # An action always has a due date and an owner: the item's stand in only without one.
            row_due=Coalesce(F("plan__actions__due_on"), F("target_date")),
            row_owner_id=Coalesce(F("plan__actions__owner_id"), F("owner_id")),
            review_result=_last_review("result"),
            review_round=_last_review("round"),
        )
        .order_by("-created_at", "-pk", "action_due_on", "action_pk")
    )


# --- filters (used by the sheet's filter set; each selects rows) --------------------------------


def overdue_q(today: date | None = None) -> Q:
    """Rows past their deadline and not finished: an open action past its due date, or an
    item without an action still open past its close-by date."""
    today = today or timezone.localdate()
    return Q(action_pk__isnull=False, action_status__in=ACTION_OPEN_STATUSES, action_due_on__lt=today) | Q(
        action_pk__isnull=True, status__in=ITEM_OPEN_STATUSES, target_date__lt=today
    )


def not_overdue_q(today: date | None = None) -> Q:
    """The other rows (spelled out rather than negated: a negated condition over the NULL
    columns of an item without an action would drop rows)."""
    today = today or timezone.localdate()
    action_fine = ~Q(action_status__in=ACTION_OPEN_STATUSES) | Q(action_due_on__gte=today)
    item_fine = ~Q(status__in=ITEM_OPEN_STATUSES) | Q(target_date__isnull=True) | Q(target_date__gte=today)
    return (Q(action_pk__isnull=False) & action_fine) | (Q(action_pk__isnull=True) & item_fine)


def responsible_q(user_id: int) -> Q:
    """Rows ``user_id`` is responsible for: the actions they own, the items without an action
    they own."""
    return Q(action_owner_pk=user_id) | Q(action_pk__isnull=True, owner_id=user_id)


def period_q(period: Period) -> Q:
    """Rows raised or due within ``period``: the item raised in it (local days), or the row's
    deadline (the action's due date, else the item's close-by date) in it."""
    start, end = period.bounds()
    return Q(created_at__gte=start, created_at__lt=end) | Q(row_due__gte=period.start, row_due__lte=period.end)


PERIOD_HELP = _("A month (2026-10), a quarter (2026-Q4) or a half-year (2026-H2).")


def parse_period(label: str) -> Period:
    """The month, quarter or half-year a label names (``2026-10``, ``2026-Q4``, ``2026-H2``);
    ``ValidationError`` otherwise."""
    text = (label or "").strip().upper()
    cycle = Cycle.QUARTERLY if "-Q" in text else Cycle.HALF_YEARLY if "-H" in text else Cycle.MONTHLY
    try:
        return period_from_label(cycle, text)
    except ValueError:
        raise ValidationError(PERIOD_HELP, code="invalid") from None


# --- rows ------------------------------------------------------------------------------------


def _person(username: str | None, first_name: str | None, last_name: str | None) -> str:
    """A user's name as ``User.__str__`` gives it, from the annotated columns."""
    if username is None:
        return ""
    return str(User(username=username, first_name=first_name or "", last_name=last_name or ""))


@dataclass(frozen=True)
class TrackingRow:
    """One row of the sheet as pages and exports read it (no queries: all loaded already)."""

    item: ImprovementItem
    source: SourceLink
    action_pk: int | None
    action_title: str
    action_status: str
    action_due_on: date | None
    action_done_at: datetime | None
    action_round: int | None
    responsible: str
    due: date | None
    overdue: bool
    review_result: str
    review_round: int | None

    @property
    def plan(self) -> ImprovementPlan | None:
        return self.item.plan if self.item.plan_id else None

    @property
    def has_action(self) -> bool:
        return self.action_pk is not None

    @property
    def action_status_label(self) -> str:
        return _label(ActionStatus, self.action_status)

    @property
    def action_done_on_time(self) -> bool | None:
        """Done on or before its due date (local day); None while not done."""
        if self.action_status != ActionStatus.DONE or self.action_done_at is None or self.action_due_on is None:
            return None
        return timezone.localdate(self.action_done_at) <= self.action_due_on

    @property
    def item_status_label(self) -> str:
        return _label(ItemStatus, self.item.status)

    @property
    def priority_label(self) -> str:
        return _label(Priority, self.item.priority)

    @property
    def plan_status_label(self) -> str:
        plan = self.plan
        return _label(PlanStatus, plan.status) if plan is not None else ""

    @property
    def stage_label(self) -> str:
        plan = self.plan
        return str(STAGE_OF_STATUS[PlanStatus(plan.status)].label) if plan is not None else ""

    @property
    def review_label(self) -> str:
        return _label(Effectiveness, self.review_result)

    @property
    def confirmed_solved(self) -> bool:
        """The item is done and — for an item in a plan — the plan's last effectiveness review
        found it effective or partly effective (an item closed by its owner without a plan is
        confirmed by that close)."""
        if self.item.status != ItemStatus.DONE:
            return False
        return self.plan is None or self.review_result in SOLVED

    @property
    def measure(self) -> str:
        """The improvement measure: the action, else the plan, else nothing decided yet."""
        if self.has_action:
            return self.action_title
        plan = self.plan
        return str(plan) if plan is not None else ""


def _label(choices, value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:  # a value no longer among the choices: as stored
        return str(value)


def _row(item: ImprovementItem, source: SourceLink, today: date) -> TrackingRow:
    action_pk = getattr(item, "action_pk", None)
    status = getattr(item, "action_status", None) or ""
    due_on = getattr(item, "action_due_on", None)
    if action_pk is not None:
        responsible = _person(
            getattr(item, "action_owner_username", None),
            getattr(item, "action_owner_first_name", None),
            getattr(item, "action_owner_last_name", None),
        )
        overdue = status in ACTION_OPEN_STATUSES and due_on is not None and due_on < today
        due = due_on
    else:
        responsible = str(item.owner) if item.owner_id else ""
        overdue = item.status in ITEM_OPEN_STATUSES and item.target_date is not None and item.target_date < today
        due = item.target_date
    return TrackingRow(
        item=item,
        source=source,
        action_pk=action_pk,
        action_title=getattr(item, "action_title", None) or "",
        action_status=status,
        action_due_on=due_on,
        action_done_at=getattr(item, "action_done_at", None),
        action_round=getattr(item, "action_round", None),
        responsible=responsible,
        due=due,
        overdue=overdue,
        review_result=getattr(item, "review_result", None) or "",
        review_round=getattr(item, "review_round", None),
    )


def tracking_rows(
    items: Iterable[ImprovementItem], user: User, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[TrackingRow]:
    """The rows of ``items`` (a page, or ``tracking_queryset(...).iterator()`` for an export),
    their sources resolved ``chunk_size`` rows at a time (a query or two per kind of source in
    each chunk, never one per row)."""
    today = timezone.localdate()
    rows = iter(items)
    while chunk := list(islice(rows, chunk_size)):
        links = resolve_sources(chunk, user)
        for item in chunk:
            yield _row(item, links[item.pk], today)
