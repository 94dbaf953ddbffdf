"""Reads of complaints: permission-scoped, annotated querysets shared by pages, API and reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from itsm.core import calendar as business_calendar

from .choices import OPEN_STATUSES, ComplaintStatus
from .models import Complaint, ComplaintAttachment, ComplaintEvent


def complaint_list(user) -> QuerySet[Complaint]:
    """Complaints ``user`` may see, with what list pages and the API show loaded in one query."""
    return Complaint.objects.visible_to(user).select_related(
        "organisation", "contact", "owner", "handler", "related_service"
    )


def with_improvement_plans(queryset: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """``queryset`` with the register items raised from each complaint and their plans loaded
    (one more query for the page, whatever its length)."""
    from improvement.models import ImprovementItem

    return queryset.prefetch_related(
        Prefetch("improvement_items", queryset=ImprovementItem.objects.select_related("plan").order_by("pk"))
    )


def overdue_q(now: datetime | None = None) -> Q:
    """Open complaints past a deadline: not accepted by the response deadline, or running
    past the resolution deadline."""
    now = now or timezone.now()
    return Q(status=ComplaintStatus.REGISTERED, response_due_at__lt=now) | Q(
        status__in=OPEN_STATUSES, paused_at__isnull=True, resolution_due_at__lt=now
    )


def complaint_events(complaint: Complaint) -> QuerySet[ComplaintEvent]:
    return complaint.events.select_related("actor").order_by("created_at", "pk")


def complaint_attachments(complaint: Complaint) -> QuerySet[ComplaintAttachment]:
    """A complaint's files, oldest first, with who uploaded each (the page and the API)."""
    return complaint.attachments.select_related("uploaded_by").order_by("uploaded_at", "pk")


def complaint_analysis(queryset: QuerySet[Complaint]) -> dict:
    """Counts by category, severity and organisation, and the average reply time, in SQL."""
    by_category = list(queryset.values("category").annotate(count=Count("pk")).order_by("-count", "category"))
    by_severity = list(queryset.values("severity").annotate(count=Count("pk")).order_by("-count", "severity"))
    by_organisation = list(
        queryset.values("organisation", "organisation__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "organisation__name")[:20]
    )
    totals = queryset.aggregate(
        total=Count("pk"),
        replied=Count("pk", filter=Q(reply_working_seconds__isnull=False)),
        average_reply_seconds=Avg("reply_working_seconds"),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        rated=Count("pk", filter=Q(result_satisfaction__isnull=False)),
        satisfied=Count("pk", filter=Q(result_satisfaction__gte=4)),
        reopened=Count("pk", filter=Q(reopen_count__gt=0)),
    )
    return {
        "by_category": by_category,
        "by_severity": by_severity,
        "by_organisation": by_organisation,
        **totals,
    }


def working_time_words(delta: timedelta, calendar) -> str:
    """``delta`` of working time in words: minutes under an hour, hours under a working day,
    else working days of ``calendar`` ("2.5 working hours", "3 working days")."""
    seconds = abs(delta.total_seconds())
    if calendar.always_open:
        day_seconds = 24 * 3600.0
    else:
        start, end = calendar.work_start, calendar.work_end
        day_seconds = float((end.hour * 60 + end.minute - start.hour * 60 - start.minute) * 60) or 24 * 3600.0
    if seconds < 3600:
        return ngettext("%(count)s working minute", "%(count)s working minutes", round(seconds / 60)) % {
            "count": round(seconds / 60)
        }
    if seconds < day_seconds:
        return _("%(hours)s working hours") % {"hours": f"{seconds / 3600:.1f}"}
    days = round(seconds / day_seconds, 1)
    return ngettext("%(days)s working day", "%(days)s working days", 1 if days == 1 else 2) % {"days": f"{days:g}"}


def deadline_clock(due: datetime, now: datetime, calendar) -> dict[str, Any]:
    """The working time left until ``due`` on ``calendar``, in words: {"overdue", "left"}."""
    left = business_calendar.working_time_between(now, due, calendar)
    overdue = left < timedelta(0)
    words = working_time_words(left, calendar)
    text = _("overdue by %(time)s") % {"time": words} if overdue else _("%(time)s left") % {"time": words}
    return {"overdue": overdue, "left": text}
