"""Reads of surveys that pages, home panels and reports share."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, QuerySet

from itsm.core.models import Department

from .models import WeeklyReport


def weekly_departments(user) -> QuerySet[Department]:
    """The departments the service desk visits every week (their reports go to the Monday
    meeting), as ``user`` may see them."""
    return (
        Department.objects.visible_to(user)
        .filter(weekly_visits=True)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )


def weekly_missing(user, week: date) -> QuerySet[Department]:
    """Departments visited weekly that have no report for ``week``."""
    filed = WeeklyReport.objects.filter(department=OuterRef("pk"), week_start=week)
    return weekly_departments(user).filter(~Exists(filed))
