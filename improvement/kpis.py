"""The KPI sources of continual improvement (``kpi.registry``; SPEC §6 "SIP actions on time %",
issue 13 item 7), each for a period and a breakdown in one grouped query.

* ``improvement.actions_on_time`` — SIP actions on time: of the improvement plans' actions
  *due* in the period (``due_on`` within it) and not cancelled, the share done on or before
  their due date (the local day of ``done_at``, in the business calendar's zone). An action
  still open is late once its due date has passed; one still open before its due date (in a
  running period) is neither on time nor late yet and is left out until it is done or late.
  Breakdowns: the plan's customer organisations and departments (an action counts once for
  each of its plan's; a plan naming none counts only overall).
* ``improvement.items_closed_in_target`` — improvement items closed within target: of the
  register's items whose close-by date (``target_date``) falls in the period and that were not
  dismissed, the share done by that date (local day of ``closed_at`` ≤ ``target_date``); an
  item still open before its close-by date is left out the same way. Overall only: an item
  names no customer of its own.
"""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core import calendar as business_calendar
from itsm.core.exports import Column
from itsm.core.periods import Period
from kpi.registry import Figures, grouped, kpi_source, scope

from .choices import ActionStatus, ItemStatus
from .models import ImprovementItem, PlanAction
from .registry import source_for

# A breakdown's column on an action: its plan's scope.
ACTION_FIELDS = {
    "organisation": "plan__organisations",
    "department": "plan__departments",
}
ITEM_FIELDS: dict[str, str] = {}


def _on_or_before(moment_field: str, day_field: str) -> LessThanOrEqual:
    """The local day (the business calendar's zone) of ``moment_field`` ≤ ``day_field``."""
    return LessThanOrEqual(TruncDate(moment_field, tzinfo=business_calendar.zone_of()), F(day_field))


# --- SIP actions on time ---------------------------------------------------------------------


def _due_actions(period: Period) -> QuerySet[PlanAction]:
    today = timezone.localdate()
    return (
        PlanAction.objects.filter(due_on__gte=period.start, due_on__lte=period.end)
        .exclude(status=ActionStatus.CANCELLED)
        .filter(Q(status=ActionStatus.DONE) | Q(due_on__lt=today))
    )


def _due_action_records(period: Period, kind: str, element_id: int) -> QuerySet[PlanAction]:
    return scope(_due_actions(period), ACTION_FIELDS, kind, element_id)


def action_columns() -> list[Column]:
    """What an action behind a figure exports with (the zone read once per export)."""
    zone = business_calendar.zone_of()

    def on_time(action: PlanAction) -> bool:
        return bool(
            action.status == ActionStatus.DONE
            and action.done_at is not None
            and timezone.localtime(action.done_at, zone).date() <= action.due_on
        )

    return [
        (_("Improvement plan"), "plan.reference"),
        (_("Plan title"), "plan.title"),
        (_("Improvement action"), "title"),
        (_("Owner"), "owner"),
        (_("Due on"), "due_on"),
        (_("Status"), "status"),
        (_("Done at"), "done_at"),
        (_("Done on time"), on_time),
        (_("Round"), "round"),
    ]


@kpi_source(
    "improvement.actions_on_time",
    label=_("SIP actions on time"),
    model="improvement.planaction",
    unit="percent",
    records=_due_action_records,
    breakdowns=ACTION_FIELDS,
    columns=action_columns,
)
def actions_on_time(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the improvement plans' actions due in the period (not cancelled; open ones
    once their due date has passed) that were done on or before their due date. Numerator:
    actions done on time; denominator: those actions."""
    on_time = Q(_on_or_before("done_at", "due_on"), status=ActionStatus.DONE)
    return grouped(
        _due_actions(period),
        ACTION_FIELDS,
        kind,
        numerator=Count("pk", filter=on_time),
        denominator=Count("pk"),
    )


# --- improvement items closed within target ------------------------------------------------------


def _items_due(period: Period) -> QuerySet[ImprovementItem]:
    today = timezone.localdate()
    return (
        ImprovementItem.objects.filter(target_date__gte=period.start, target_date__lte=period.end)
        .exclude(status=ItemStatus.DISMISSED)
        .filter(Q(status=ItemStatus.DONE) | Q(target_date__lt=today))
    )


def _items_due_records(period: Period, kind: str, element_id: int) -> QuerySet[ImprovementItem]:
    return scope(_items_due(period), ITEM_FIELDS, kind, element_id)


def item_columns() -> list[Column]:
    """What an item behind a figure exports with (the zone read once per export)."""
    zone = business_calendar.zone_of()

    def in_target(item: ImprovementItem) -> bool:
        return bool(
            item.status == ItemStatus.DONE
            and item.closed_at is not None
            and item.target_date is not None
            and timezone.localtime(item.closed_at, zone).date() <= item.target_date
        )

    def source_label(item: ImprovementItem) -> str:
        registered = source_for(item.source_kind)
        return str(registered.label) if registered is not None else item.source_kind

    return [
        (_("Reference"), "reference"),
        (_("Title"), "title"),
        (_("Source"), source_label),
        (_("Priority"), "priority"),
        (_("Status"), "status"),
        (_("Owner"), "owner"),
        (_("Improvement plan"), "plan.reference"),
        (_("Raised at"), "created_at"),
        (_("Close by"), "target_date"),
        (_("Closed at"), "closed_at"),
        (_("Closed within target"), in_target),
    ]


@kpi_source(
    "improvement.items_closed_in_target",
    label=_("Improvement items closed within target"),
    model="improvement.improvementitem",
    unit="percent",
    records=_items_due_records,
    columns=item_columns,
)
def items_closed_in_target(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the register's items to be closed by a day in the period (not dismissed; open
    ones once that day has passed) that were done by their close-by date. Numerator: items
    done in time; denominator: those items."""
    in_target = Q(_on_or_before("closed_at", "target_date"), status=ItemStatus.DONE)
    return grouped(
        _items_due(period), ITEM_FIELDS, kind, numerator=Count("pk", filter=in_target), denominator=Count("pk")
    )
