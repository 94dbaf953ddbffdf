"""Reads of complaints: permission-scoped, annotated querysets shared by pages, API and reports."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from .choices import OPEN_STATUSES, ComplaintStatus
from .models import Complaint, ComplaintEvent


def complaint_list(user) -> QuerySet[Complaint]:
    """Complaints ``user`` may see, with what list pages and the API show loaded in one query."""
    return Complaint.objects.visible_to(user).select_related("organisation", "contact", "owner", "handler")


def overdue_q(now: datetime | None = None) -> Q:
    """Open complaints past a deadline: not accepted by the response deadline, or running
    past the resolution deadline."""
    now = now or timezone.now()
    return Q(status=ComplaintStatus.REGISTERED, response_due_at__lt=now) | Q(
        status__in=OPEN_STATUSES, paused_at__isnull=True, resolution_due_at__lt=now
    )


def complaint_events(complaint: Complaint) -> QuerySet[ComplaintEvent]:
    return complaint.events.select_related("actor").order_by("created_at", "pk")


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
