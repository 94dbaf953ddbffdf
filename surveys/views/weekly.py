"""Weekly visit report pages: the list, one report with its items, and the Monday meeting.

Views are thin: they check the role (403 before any row is read), parse a small form, call
one service of ``surveys.services.weekly`` and render. Reading needs ``view_weeklyreport``;
creating ``add_weeklyreport``; items and submit / confirm need the change permissions.
Every page runs a constant number of queries whatever the number of reports or items.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from improvement.models import ImprovementItem
from improvement.selectors.sources import items_by_source, may_raise, raise_url
from itsm.core import calendar as business_calendar
from itsm.core.permissions import acting_user as _user
from itsm.core.permissions import can, can_view, require_all
from itsm.core.views.generic import add_service_errors

from ..choices import WeeklyItemKind
from ..forms.weekly import WeeklyItemForm, WeeklyReportCreateForm, WeeklyReportFilterForm
from ..models import WeeklyReport, WeeklyReportItem
from ..selectors import weekly_missing
from ..services import weekly as services


def _require(request: HttpRequest, *verbs: str, model: Any = WeeklyReport) -> None:
    require_all(request.user, verbs, model)


def _report(request: HttpRequest, pk: int) -> WeeklyReport:
    queryset = WeeklyReport.objects.visible_to(request.user).select_related("department__organisation", "recorder")
    return get_object_or_404(queryset, pk=pk)


def _parse_week(value: str | None) -> date:
    """The Monday of the week named by ``value`` (YYYY-MM-DD), else of last week."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        day = timezone.localdate() - timedelta(days=7)
    return services.week_monday(day)


# --- list --------------------------------------------------------------------------------------


def _late_q(queryset: QuerySet[WeeklyReport], calendar) -> Q:
    """Reports submitted after their due moment, or unsubmitted past it: one due per week."""
    now = timezone.now()
    condition = Q(pk__in=[])
    for week in queryset.order_by().values_list("week_start", flat=True).distinct():
        due = services.weekly_report_due(week, calendar)
        late = Q(submitted_at__gt=due)
        if now > due:
            late |= Q(submitted_at__isnull=True)
        condition |= Q(week_start=week) & late
    return condition


@login_required
@require_GET
def weekly_report_list(request: HttpRequest) -> HttpResponse:
    """Reports, newest week first; filter by department, week and state (open / submitted / late)."""
    _require(request, "view")
    form = WeeklyReportFilterForm(request.GET or None)
    queryset = (
        WeeklyReport.objects.visible_to(request.user)
        .select_related("department__organisation", "recorder")
        .annotate(
            item_count=Count("items"),
            open_count=Count("items", filter=Q(items__resolved=False)),
        )
        .order_by("-week_start", "department__name", "pk")
    )
    calendar = business_calendar.default_calendar()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["department"]:
            queryset = queryset.filter(department=data["department"])
        if data["week"]:
            queryset = queryset.filter(week_start=services.week_monday(data["week"]))
        if data["state"] == "open":
            queryset = queryset.filter(submitted_at__isnull=True)
        elif data["state"] == "submitted":
            queryset = queryset.filter(submitted_at__isnull=False)
        elif data["state"] == "late":
            queryset = queryset.filter(_late_q(queryset, calendar))
    elif form.is_bound:
        queryset = queryset.none()
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = []
    for report in page.object_list:
        due = services.weekly_report_due(report.week_start, calendar)
        rows.append({"report": report, "due": due, "state": services.weekly_report_state(report, due, now)})
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "surveys/weekly_list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "querystring": query.urlencode(),
            "can_add": can(request.user, "add", WeeklyReport),
            "meeting_week": services.week_monday(timezone.localdate()) - timedelta(days=7),
        },
    )


# --- create and edit ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def weekly_report_create(request: HttpRequest) -> HttpResponse:
    """Open a department's report for a week; last week's open items are carried over."""
    _require(request, "add")
    if request.method == "GET":
        # The week whose report is due next, the signed-in recorder, now; a department and week
        # from the link (the Monday meeting's "missing" list) when given.
        initial: dict[str, Any] = {
            "week_start": services.week_being_reported(),
            "recorder": request.user.pk,
            "recorded_at": timezone.localtime().replace(second=0, microsecond=0),
        }
        if request.GET.get("department", "").isdigit():
            initial["department"] = int(request.GET["department"])
        with contextlib.suppress(KeyError, ValueError):
            initial["week_start"] = services.week_monday(date.fromisoformat(request.GET["week"]))
        form = WeeklyReportCreateForm(initial=initial)
        return render(request, "surveys/weekly_create.html", {"form": form})
    form = WeeklyReportCreateForm(request.POST)
    if form.is_valid():
        try:
            report = services.weekly_report_create(actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was created.") % {"name": report})
            return HttpResponseRedirect(report.get_absolute_url())
    return render(request, "surveys/weekly_create.html", {"form": form}, status=400)


def _render_detail(
    request: HttpRequest, report: WeeklyReport, *, add_form=None, edit_forms=None, status: int = 200
) -> HttpResponse:
    items = list(report.items.select_related("owner", "carried_from__report").order_by("kind", "resolved", "pk"))
    for item in items:
        item.report = report
    open_weeks = services.weeks_open(items)
    edit_forms = edit_forms or {}
    can_change = can(request.user, "change", WeeklyReport) and can(request.user, "change", WeeklyReportItem)
    # The register's items raised from each visit item (one query), and the link raising one.
    raised = (
        items_by_source(WeeklyReportItem, [item.pk for item in items])
        if can_view(request.user, ImprovementItem)
        else {}
    )
    raising = may_raise(request.user)
    rows = []
    for item in items:
        form = edit_forms.get(item.pk)
        if form is None and can_change:
            form = WeeklyItemForm(
                initial={
                    "kind": item.kind,
                    "text": item.text,
                    "owner": item.owner,  # the row, not its id: drawn without a query
                    "resolved": item.resolved,
                    "user_confirmed": item.user_confirmed,
                },
                prefix=f"item{item.pk}",
            )
        rows.append(
            {
                "item": item,
                "weeks_open": open_weeks.get(item.pk, 1),
                "form": form,
                "improvements": raised.get(item.pk, []),
                "raise_url": raise_url("weekly_visit_item", item) if raising else "",
            }
        )
    calendar = business_calendar.default_calendar()
    due = services.weekly_report_due(report.week_start, calendar)
    context = {
        "report": report,
        "rows": rows,
        "due": due,
        "state": services.weekly_report_state(report, due),
        "can_change": can_change,
        "add_form": add_form or (WeeklyItemForm(prefix="new") if can_change else None),
    }
    return render(request, "surveys/weekly_detail.html", context, status=status)


@login_required
@require_GET
def weekly_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One report: its items (carried-over ones with weeks open) and, for the desk, the forms."""
    _require(request, "view")
    return _render_detail(request, _report(request, pk))


@login_required
@require_POST
def weekly_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view", "change")
    _require(request, "add", model=WeeklyReportItem)
    report = _report(request, pk)
    form = WeeklyItemForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            services.weekly_item_add(report=report, actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The item was added."))
            return HttpResponseRedirect(report.get_absolute_url())
    return _render_detail(request, report, add_form=form, status=400)


@login_required
@require_POST
def weekly_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    _require(request, "view", "change")
    _require(request, "change", model=WeeklyReportItem)
    report = _report(request, pk)
    item = get_object_or_404(WeeklyReportItem, pk=item_pk, report=report)
    form = WeeklyItemForm(request.POST, prefix=f"item{item.pk}")
    if form.is_valid():
        try:
            services.weekly_item_update(weeklyreportitem=item, actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The item was saved."))
            return HttpResponseRedirect(report.get_absolute_url())
    return _render_detail(request, report, edit_forms={item.pk: form}, status=400)


@login_required
@require_POST
def weekly_report_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view", "change")
    report = services.weekly_report_confirm(report=_report(request, pk), actor=_user(request))
    messages.success(request, _("The user's confirmation was recorded."))
    return HttpResponseRedirect(report.get_absolute_url())


@login_required
@require_POST
def weekly_report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view", "change")
    report = services.weekly_report_submit(report=_report(request, pk), actor=_user(request))
    if services.weekly_report_is_late(report):
        messages.warning(request, _("The report was submitted after the Monday meeting deadline."))
    else:
        messages.success(request, _("The report was submitted."))
    return HttpResponseRedirect(report.get_absolute_url())


# --- the Monday meeting --------------------------------------------------------------------------


def _item_order(item: WeeklyReportItem) -> tuple:
    # Open items with an owner first (they are the meeting's agenda), then unowned, then resolved.
    return (item.resolved, item.owner_id is None, item.pk)


@login_required
@require_GET
def weekly_meeting(request: HttpRequest) -> HttpResponse:
    """Every department's report of one week side by side, grouped by kind, for the Monday meeting."""
    _require(request, "view")
    week = _parse_week(request.GET.get("week"))
    reports = list(
        WeeklyReport.objects.visible_to(request.user)
        .filter(week_start=week)
        .select_related("department__organisation", "recorder")
        .prefetch_related(Prefetch("items", queryset=WeeklyReportItem.objects.select_related("owner")))
        .order_by("department__organisation__name", "department__name", "pk")
    )
    all_items = []
    for report in reports:
        for item in report.items.all():
            item.report = report
            all_items.append(item)
    open_weeks = services.weeks_open(all_items)
    calendar = business_calendar.default_calendar()
    due = services.weekly_report_due(week, calendar)
    kinds = []
    for kind, label in WeeklyItemKind.choices:
        cells = []
        for report in reports:
            items = sorted((i for i in report.items.all() if i.kind == kind), key=_item_order)
            cells.append([{"item": i, "weeks_open": open_weeks.get(i.pk, 1)} for i in items])
        kinds.append({"kind": kind, "label": label, "cells": cells})
    now = timezone.now()
    columns = [
        {
            "report": report,
            "state": services.weekly_report_state(report, due, now),
            "open_count": sum(1 for i in report.items.all() if not i.resolved),
        }
        for report in reports
    ]
    missing = list(weekly_missing(request.user, week))
    return render(
        request,
        "surveys/weekly_meeting.html",
        {
            "week": week,
            "due": due,
            "columns": columns,
            "kinds": kinds,
            "missing": missing,
            "can_add": can(request.user, "add", WeeklyReport),
            "previous_week": week - timedelta(days=7),
            "next_week": week + timedelta(days=7),
            "list_url": reverse("weekly_report_list"),
        },
    )


urlpatterns = [
    path("surveys/weekly/", weekly_report_list, name="weekly_report_list"),
    path("surveys/weekly/new/", weekly_report_create, name="weekly_report_create"),
    path("surveys/weekly/meeting/", weekly_meeting, name="weekly_meeting"),
    path("surveys/weekly/<int:pk>/", weekly_report_detail, name="weekly_report_detail"),
    path("surveys/weekly/<int:pk>/items/", weekly_item_add, name="weekly_item_add"),
    path("surveys/weekly/<int:pk>/items/<int:item_pk>/", weekly_item_edit, name="weekly_item_edit"),
    path("surveys/weekly/<int:pk>/confirm/", weekly_report_confirm, name="weekly_report_confirm"),
    path("surveys/weekly/<int:pk>/submit/", weekly_report_submit, name="weekly_report_submit"),
]
