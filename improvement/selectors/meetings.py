"""Reads of review meetings: the list a user may see, one meeting with its decisions (its
history is the workflow kit's, ``MEETING_MACHINE.events``), and the meeting's **inputs** —
compiled from live data while it is planned, frozen on the meeting once it is held.

``meeting_inputs`` compiles, in a fixed number of queries whatever the number of KPIs, plans,
items, actions or complaints (every count is an aggregate in SQL):

* ``kpis``: the current overall KPI values whose period overlaps the meeting's (code, name,
  period, value, target, status, unit);
* ``plans``: the plans per status, those approved or closed in the period, and the open plans
  with their PDCA stage, owner, actions done / total and overdue actions;
* ``items``: the open items of the register by status, source kind and priority, how many are
  overdue (past their close-by date), those raised and closed in the period, and the overdue
  ones listed;
* ``actions``: open and overdue actions of open plans, those done in the period (on time or
  not), and the overdue ones listed;
* ``complaints``: the complaints received in the period — by severity, category, status and
  customer (``complaints.selectors.complaint_analysis``), open and overdue, replied and the
  average reply time in working days, results rated and satisfied.

It returns plain JSON (strings for decimals, ISO dates, names as they stood), the very
structure ``meeting_hold`` freezes into ``ReviewMeeting.inputs``; ``present_inputs`` turns
either into what a page shows (labels in the reader's language, links), without a query.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language

from itsm.core import calendar as business_calendar
from itsm.core.models import User

from ..choices import (
    ACTION_OPEN_STATUSES,
    ITEM_OPEN_STATUSES,
    PLAN_OPEN_STATUSES,
    STAGE_OF_STATUS,
    ActionStatus,
    ItemStatus,
    MeetingStatus,
    PlanStatus,
    Priority,
    Stage,
)
from ..models import ImprovementItem, ImprovementPlan, MeetingDecision, PlanAction, ReviewMeeting
from ..registry import source_for

# Rows listed per section (the counts always cover everything): a meeting reads a page, not a dump.
LISTED = 200
INPUTS_VERSION = 1

PLANNED_FIRST = Case(When(status=MeetingStatus.PLANNED, then=Value(0)), default=Value(1), output_field=IntegerField())
PRIORITY_ORDER: dict[str, int] = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


# --- lists and one meeting -------------------------------------------------------------------


def meeting_list(user: Any, *, kind: str = "", status: str = "", period: str = "") -> QuerySet[ReviewMeeting]:
    """The meetings ``user`` may see, planned ones first, then the latest; ``period`` matches
    the period label's start (``2026`` finds every period of 2026)."""
    queryset = (
        ReviewMeeting.objects.visible_to(user)
        .select_related("chair")
        .annotate(planned_first=PLANNED_FIRST, decision_count=Count("decisions"))
    )
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if period:
        queryset = queryset.filter(period_label__istartswith=period.strip())
    return queryset.order_by("planned_first", "-scheduled_at", "-pk")


def meeting_queryset(user: Any) -> QuerySet[ReviewMeeting]:
    return ReviewMeeting.objects.visible_to(user).select_related("chair", "created_by")


def meeting_get(user: Any, pk: int) -> ReviewMeeting:
    """One meeting within ``user``'s reach (404 otherwise), with its chair and attendees."""
    return get_object_or_404(meeting_queryset(user).prefetch_related("attendees"), pk=pk)


def meeting_decisions(meeting: ReviewMeeting) -> QuerySet[MeetingDecision]:
    """The meeting's decisions in order, with the item or action each created (one query)."""
    return meeting.decisions.select_related("owner", "item", "action__plan", "action__owner").order_by("pk")


# --- the inputs ------------------------------------------------------------------------------


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _name(user: User | None) -> str:
    return str(user) if user is not None else ""


def _kpis(meeting: ReviewMeeting) -> list[dict[str, Any]]:
    from kpi.models import ElementKind, KpiValue

    values = (
        KpiValue.objects.filter(
            element_kind=ElementKind.OVERALL,
            is_current=True,
            definition__is_active=True,
            period_start__lte=meeting.period_end,
            period_end__gte=meeting.period_start,
        )
        .select_related("definition")
        .order_by("definition__sort_order", "definition__code", "period_start")
    )
    return [
        {
            "kpi_id": value.definition_id,
            "code": value.definition.code,
            "name_zh": value.definition.name_zh,
            "name_en": value.definition.name_en,
            "period": value.period_label,
            "period_start": _date(value.period_start),
            "period_end": _date(value.period_end),
            "value": _decimal(value.value),
            "target": _decimal(value.target),
            "status": value.status,
            "unit": value.definition.unit,
            "direction": value.definition.direction,
            "closed": value.closed,
        }
        for value in values
    ]


def _plans(first: datetime, after: datetime, today: Any) -> dict[str, Any]:
    by_status = {
        row["status"]: row["count"]
        for row in ImprovementPlan.objects.values("status").annotate(count=Count("pk")).order_by()
    }
    in_period = ImprovementPlan.objects.aggregate(
        approved=Count("pk", filter=Q(approved_at__gte=first, approved_at__lt=after)),
        closed=Count("pk", filter=Q(closed_at__gte=first, closed_at__lt=after)),
    )
    open_plans = (
        ImprovementPlan.objects.filter(status__in=PLAN_OPEN_STATUSES)
        .select_related("owner")
        .annotate(
            actions_total=Count("actions", filter=~Q(actions__status=ActionStatus.CANCELLED)),
            actions_done=Count("actions", filter=Q(actions__status=ActionStatus.DONE)),
            actions_overdue=Count(
                "actions", filter=Q(actions__status__in=ACTION_OPEN_STATUSES, actions__due_on__lt=today)
            ),
        )
        .order_by("reference", "pk")[:LISTED]
    )
    return {
        "by_status": [{"status": status.value, "count": by_status.get(status.value, 0)} for status in PlanStatus],
        "open_count": sum(by_status.get(status, 0) for status in PLAN_OPEN_STATUSES),
        "approved_in_period": in_period["approved"],
        "closed_in_period": in_period["closed"],
        "open": [
            {
                "id": plan.pk,
                "reference": plan.reference,
                "title": plan.title,
                "status": plan.status,
                "stage": STAGE_OF_STATUS[PlanStatus(plan.status)].value,
                "owner": _name(plan.owner),
                "round": plan.round,
                "target_date": _date(plan.target_date),
                "actions_done": plan.actions_done,
                "actions_total": plan.actions_total,
                "actions_overdue": plan.actions_overdue,
            }
            for plan in open_plans
        ],
    }


def _items(first: datetime, after: datetime, today: Any) -> dict[str, Any]:
    groups = (
        ImprovementItem.objects.filter(status__in=ITEM_OPEN_STATUSES)
        .values("status", "source_kind", "priority")
        .annotate(count=Count("pk"), overdue=Count("pk", filter=Q(target_date__lt=today)))
        .order_by()
    )
    by_status: dict[str, int] = defaultdict(int)
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_priority: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    open_count = overdue_count = 0
    for row in groups:  # a handful of grouped rows: statuses × kinds × priorities
        by_status[row["status"]] += row["count"]
        for table, key in ((by_kind, row["source_kind"]), (by_priority, row["priority"])):
            table[key][0] += row["count"]
            table[key][1] += row["overdue"]
        open_count += row["count"]
        overdue_count += row["overdue"]
    in_period = ImprovementItem.objects.aggregate(
        raised=Count("pk", filter=Q(created_at__gte=first, created_at__lt=after)),
        done=Count("pk", filter=Q(status=ItemStatus.DONE, closed_at__gte=first, closed_at__lt=after)),
        dismissed=Count("pk", filter=Q(status=ItemStatus.DISMISSED, closed_at__gte=first, closed_at__lt=after)),
    )
    overdue = (
        ImprovementItem.objects.filter(status__in=ITEM_OPEN_STATUSES, target_date__lt=today)
        .select_related("owner", "plan")
        .order_by("target_date", "pk")[:LISTED]
    )
    return {
        "open_count": open_count,
        "overdue_count": overdue_count,
        "raised_in_period": in_period["raised"],
        "done_in_period": in_period["done"],
        "dismissed_in_period": in_period["dismissed"],
        "by_status": [{"status": status, "count": by_status.get(status, 0)} for status in ITEM_OPEN_STATUSES],
        "by_source_kind": [
            {"kind": kind, "count": counts[0], "overdue": counts[1]}
            for kind, counts in sorted(by_kind.items(), key=lambda pair: (-pair[1][0], pair[0]))
        ],
        "by_priority": [
            {"priority": priority, "count": counts[0], "overdue": counts[1]}
            for priority, counts in sorted(by_priority.items(), key=lambda pair: PRIORITY_ORDER.get(pair[0], 9))
        ],
        "overdue": [
            {
                "id": item.pk,
                "reference": item.reference,
                "title": item.title,
                "status": item.status,
                "priority": item.priority,
                "source_kind": item.source_kind,
                "owner": _name(item.owner),
                "target_date": _date(item.target_date),
                "plan": item.plan.reference if item.plan is not None else "",
                "plan_id": item.plan_id,
            }
            for item in overdue
        ],
    }


def _actions(first: datetime, after: datetime, today: Any) -> dict[str, Any]:
    live = Q(plan__status__in=PLAN_OPEN_STATUSES, status__in=ACTION_OPEN_STATUSES)
    done = Q(status=ActionStatus.DONE, done_at__gte=first, done_at__lt=after)
    counts = PlanAction.objects.aggregate(
        open=Count("pk", filter=live),
        overdue=Count("pk", filter=live & Q(due_on__lt=today)),
        done_in_period=Count("pk", filter=done),
        # Done on or before its due day (local time): on time.
        done_on_time=Count("pk", filter=done & Q(done_at__date__lte=F("due_on"))),
    )
    overdue = (
        PlanAction.objects.filter(live, due_on__lt=today)
        .select_related("plan", "owner")
        .order_by("due_on", "pk")[:LISTED]
    )
    return {
        "open_count": counts["open"],
        "overdue_count": counts["overdue"],
        "done_in_period": counts["done_in_period"],
        "done_on_time_in_period": counts["done_on_time"],
        "overdue": [
            {
                "id": action.pk,
                "title": action.title,
                "plan_id": action.plan_id,
                "plan": action.plan.reference,
                "status": action.status,
                "owner": _name(action.owner),
                "due_on": _date(action.due_on),
                "days_overdue": (today - action.due_on).days,
            }
            for action in overdue
        ],
    }


def _complaints(first: datetime, after: datetime, now: datetime, calendar: Any) -> dict[str, Any]:
    from complaints.choices import OPEN_STATUSES
    from complaints.models import Complaint
    from complaints.selectors import complaint_analysis, overdue_q

    queryset = Complaint.objects.filter(received_at__gte=first, received_at__lt=after)
    data = complaint_analysis(queryset)
    by_status = list(queryset.values("status").annotate(count=Count("pk")).order_by("-count", "status"))
    state = queryset.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)), overdue=Count("pk", filter=overdue_q(now))
    )
    average = data["average_reply_seconds"]
    day_seconds = business_calendar.working_day_length(calendar).total_seconds()
    rated, satisfied = data["rated"], data["satisfied"]
    return {
        "total": data["total"],
        "open": state["open"],
        "overdue": state["overdue"],
        "replied": data["replied"],
        "average_reply_days": None if average is None else f"{float(average) / day_seconds:.2f}",
        "resolved": data["resolved"],
        "reopened": data["reopened"],
        "rated": rated,
        "satisfied": satisfied,
        "satisfaction_percent": f"{100 * satisfied / rated:.1f}" if rated else None,
        "by_severity": [{"severity": row["severity"], "count": row["count"]} for row in data["by_severity"]],
        "by_category": [{"category": row["category"], "count": row["count"]} for row in data["by_category"]],
        "by_status": [{"status": row["status"], "count": row["count"]} for row in by_status],
        "by_organisation": [
            {"organisation": row["organisation__name"] or "", "count": row["count"]} for row in data["by_organisation"]
        ],
    }


def meeting_inputs(meeting: ReviewMeeting, *, now: datetime | None = None) -> dict[str, Any]:
    """The meeting's inputs compiled from the data as it stands at ``now`` (see the module):
    plain JSON, the same structure that is frozen when the meeting is held."""
    now = now or timezone.now()
    calendar = business_calendar.default_calendar()
    zone = business_calendar.zone_of(calendar)
    today = now.astimezone(zone).date()
    first = datetime.combine(meeting.period_start, time.min, tzinfo=zone)
    after = datetime.combine(meeting.period_end + timedelta(days=1), time.min, tzinfo=zone)
    return {
        "version": INPUTS_VERSION,
        "compiled_at": now.isoformat(),
        "as_of": today.isoformat(),
        "period": {
            "label": meeting.period_label,
            "start": _date(meeting.period_start),
            "end": _date(meeting.period_end),
        },
        "kpis": _kpis(meeting),
        "plans": _plans(first, after, today),
        "items": _items(first, after, today),
        "actions": _actions(first, after, today),
        "complaints": _complaints(first, after, now, calendar),
        "listed": LISTED,
    }


def meeting_shown_inputs(meeting: ReviewMeeting) -> tuple[dict[str, Any], bool]:
    """What the meeting's page shows and whether it is live: the compiled inputs while the
    meeting is planned, the frozen ones once held, nothing for a cancelled meeting."""
    if meeting.status == MeetingStatus.PLANNED:
        return meeting_inputs(meeting), True
    if meeting.status == MeetingStatus.HELD:
        return meeting.inputs or {}, False
    return {}, False


# --- what a page shows of the inputs ---------------------------------------------------------


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # a page of another part of the app not routed (yet)
        return ""


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _source_label(kind: str) -> str:
    source = source_for(kind)
    return str(source.label) if source is not None else kind


def present_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` (live or frozen) with the labels of their codes in the reader's language and
    links to the records; no query. Empty for a meeting that has none."""
    if not inputs:
        return {}
    from complaints.choices import Category, ComplaintStatus, Severity
    from kpi.models import Status as KpiStatus
    from kpi.models import Unit

    english = (get_language() or "").startswith("en")
    kpis = [
        {
            **row,
            "name": (row.get("name_en") if english and row.get("name_en") else row.get("name_zh")) or row.get("code"),
            "status_label": _label(KpiStatus, row.get("status")),
            # A count needs no unit after it ("8", not "8 count").
            "unit_label": "" if row.get("unit") == Unit.COUNT else _label(Unit, row.get("unit")),
            "url": _url("kpi_detail", row["kpi_id"]) if row.get("kpi_id") else "",
        }
        for row in inputs.get("kpis", [])
    ]
    plans = dict(inputs.get("plans", {}))
    plans["by_status"] = [{**row, "label": _label(PlanStatus, row["status"])} for row in plans.get("by_status", [])]
    plans["open"] = [
        {
            **row,
            "status_label": _label(PlanStatus, row["status"]),
            "stage_label": _label(Stage, row["stage"]),
            "url": _url("improvement_plan_detail", row["id"]),
        }
        for row in plans.get("open", [])
    ]
    items = dict(inputs.get("items", {}))
    items["by_status"] = [{**row, "label": _label(ItemStatus, row["status"])} for row in items.get("by_status", [])]
    items["by_source_kind"] = [{**row, "label": _source_label(row["kind"])} for row in items.get("by_source_kind", [])]
    items["by_priority"] = [{**row, "label": _label(Priority, row["priority"])} for row in items.get("by_priority", [])]
    items["overdue"] = [
        {
            **row,
            "status_label": _label(ItemStatus, row["status"]),
            "priority_label": _label(Priority, row["priority"]),
            "source_label": _source_label(row["source_kind"]),
            "url": _url("improvement_item_detail", row["id"]),
            "plan_url": _url("improvement_plan_detail", row["plan_id"]) if row.get("plan_id") else "",
        }
        for row in items.get("overdue", [])
    ]
    actions = dict(inputs.get("actions", {}))
    actions["overdue"] = [
        {
            **row,
            "status_label": _label(ActionStatus, row["status"]),
            "plan_url": _url("improvement_plan_detail", row["plan_id"]),
        }
        for row in actions.get("overdue", [])
    ]
    done, on_time = actions.get("done_in_period", 0), actions.get("done_on_time_in_period", 0)
    actions["on_time_percent"] = f"{100 * on_time / done:.1f}" if done else None
    complaints = dict(inputs.get("complaints", {}))
    complaints["by_severity"] = [
        {**row, "label": _label(Severity, row["severity"])} for row in complaints.get("by_severity", [])
    ]
    complaints["by_category"] = [
        {**row, "label": _label(Category, row["category"]) if row["category"] else ""}
        for row in complaints.get("by_category", [])
    ]
    complaints["by_status"] = [
        {**row, "label": _label(ComplaintStatus, row["status"])} for row in complaints.get("by_status", [])
    ]
    compiled = parse_datetime(inputs.get("compiled_at") or "")
    return {
        "compiled_at": timezone.localtime(compiled) if compiled else None,
        "as_of": parse_date(inputs.get("as_of") or ""),
        "period": inputs.get("period", {}),
        "listed": inputs.get("listed", LISTED),
        "kpis": kpis,
        "plans": plans,
        "items": items,
        "actions": actions,
        "complaints": complaints,
    }
