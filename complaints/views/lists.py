"""Complaint lists (all / mine / overdue), their CSV and XLSX export, the monthly analysis and
the deadline targets.

Every page needs ``complaints.view_complaint`` (the targets: ``view_complainttarget``; editing
them: ``change_complainttarget``). Lists and exports share one filtering path, so an export
holds exactly the rows the list shows, on every page of it. Each page runs a constant number
of queries whatever the row count: the rows come from ``selectors.complaint_list`` (related
rows joined in), the analysis from ``selectors.complaint_analysis`` (aggregated in SQL), and
the working time left is computed in Python on the default calendar loaded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core import calendar as business_calendar
from itsm.core.exports import Column, export_response, filename_for
from itsm.core.models import Calendar
from itsm.core.permissions import can
from itsm.core.views.generic import ObjectEditView, ObjectListView

from .. import selectors
from ..choices import OPEN_STATUSES, STATUS_COLOURS, Category, ComplaintStatus, Severity
from ..filters import ComplaintFilterSet
from ..forms import ComplaintTargetForm
from ..models import Complaint, ComplaintTarget
from ..services import complaint_target_update

ORDERING_FIELDS = ("reference", "received_at", "resolution_due_at", "severity", "status")
RESOLVED_OR_CLOSED = [ComplaintStatus.RESOLVED.value, ComplaintStatus.CLOSED.value]
SEVERITY_COLOURS = {Severity.NORMAL: "secondary", Severity.MAJOR: "danger"}
# Beyond this distance from now the time left is not computed: it would walk the calendar
# over many years (and load each year's overrides) for a number nobody reads.
TIME_LEFT_HORIZON = timedelta(days=366)


# --- filtering, shared by the lists and the export ----------------------------------------


def filter_complaints(request: HttpRequest, data: QueryDict | None) -> tuple[ComplaintFilterSet, QuerySet[Complaint]]:
    """The complaints ``request.user`` may see, filtered by ``data`` and sorted by its ``sort``.

    Invalid filters give no rows (never "everything" for a filter typed wrong); the filter
    set carries their errors. An unknown ``sort`` is ignored.
    """
    queryset = selectors.complaint_list(request.user)
    filterset = ComplaintFilterSet(data or None, queryset=queryset, request=request)
    if filterset.is_bound:
        queryset = filterset.qs if filterset.is_valid() else queryset.none()
    sort = data.get("sort", "") if data is not None else ""
    if sort.lstrip("-") in ORDERING_FIELDS:
        return filterset, queryset.order_by(sort, "pk")
    return filterset, queryset.order_by("-received_at", "-pk")


@dataclass
class Row:
    """A complaint as a list row shows it: deadlines judged once, in Python (no queries)."""

    complaint: Complaint
    status_colour: str
    severity_colour: str
    response_overdue: bool
    resolution_overdue: bool
    paused: bool
    deadline: str  # "response", "resolution" or "" (no running deadline)
    hours_left: float | None  # working hours until the running deadline; negative: past it

    @property
    def hours_over(self) -> float | None:
        return None if self.hours_left is None else -self.hours_left


def _row(complaint: Complaint, now: datetime, calendar: Calendar) -> Row:
    is_open = complaint.status in OPEN_STATUSES
    paused = is_open and complaint.paused_at is not None
    # The same judgement as selectors.overdue_q, per row.
    response_overdue = complaint.status == ComplaintStatus.REGISTERED and complaint.response_due_at < now
    resolution_overdue = is_open and not paused and complaint.resolution_due_at < now
    deadline, due = "", None
    if complaint.status == ComplaintStatus.REGISTERED:
        deadline, due = "response", complaint.response_due_at
    elif is_open and not paused:
        deadline, due = "resolution", complaint.resolution_due_at
    hours_left = None
    if due is not None and abs(due - now) <= TIME_LEFT_HORIZON:
        left = business_calendar.working_time_between(now, due, calendar)
        hours_left = round(left.total_seconds() / 3600, 1)
    return Row(
        complaint=complaint,
        status_colour=STATUS_COLOURS.get(ComplaintStatus(complaint.status), "secondary"),
        severity_colour=SEVERITY_COLOURS.get(Severity(complaint.severity), "secondary"),
        response_overdue=response_overdue,
        resolution_overdue=resolution_overdue,
        paused=paused,
        deadline=deadline,
        hours_left=hours_left,
    )


# --- lists -----------------------------------------------------------------------------------


class ComplaintListView(ObjectListView):
    """All complaints: filters, search, sort, 25 a page, export of the filtered set."""

    model = Complaint
    template_name = "complaints/list.html"
    filterset_class = ComplaintFilterSet
    ordering_fields = ORDERING_FIELDS
    heading: Any = _("All complaints")
    intro: Any = ""
    list_url_name = "complaint_list"

    def preset(self) -> dict[str, str]:
        """Filters this view fixes (not shown on the form, not changeable)."""
        return {}

    def defaults(self) -> dict[str, str]:
        """Filters applied unless the user chose a value."""
        return {}

    def filter_data(self) -> QueryDict:
        data = self.request.GET.copy()
        for name, value in self.defaults().items():
            if name not in data:
                data[name] = value
        for name, value in self.preset().items():
            data.setlist(name, [value])
        return data

    def visible_queryset(self):
        return selectors.complaint_list(self.request.user)

    def get_queryset(self):
        self.data = self.filter_data()
        self.filterset, queryset = filter_complaints(self.request, self.data)
        return queryset

    def _shown_filter_fields(self) -> list:
        hidden = set(self.preset())
        return [field for field in self.filterset.form if field.name not in hidden]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["filter_form"]
        form.fields["status"].widget.attrs["size"] = 4
        for name in ("received_after", "received_before"):
            form.fields[name].widget.input_type = "date"
        now = timezone.now()
        calendar = business_calendar.default_calendar()
        export_query = self.data.copy()
        export_query.pop("page", None)
        context.update(
            rows=[_row(complaint, now, calendar) for complaint in context["object_list"]],
            heading=self.heading,
            intro=self.intro,
            list_url_name=self.list_url_name,
            export_querystring=export_query.urlencode(),
            can_add=can(self.request.user, "add", Complaint),
        )
        return context


class MyComplaintListView(ComplaintListView):
    """The complaints I own; open ones unless I ask for others."""

    heading = _("My complaints")
    intro = _("Complaints you currently own. Open ones are shown unless you choose otherwise.")
    list_url_name = "complaint_mine"

    def preset(self) -> dict[str, str]:
        return {"owner": str(self.request.user.pk)}

    def defaults(self) -> dict[str, str]:
        return {"open": "true"}


class OverdueComplaintListView(ComplaintListView):
    """Open complaints past a deadline: not accepted in time, or running past resolution."""

    heading = _("Overdue complaints")
    intro = _("Open complaints not accepted by their response deadline, or running past their resolution deadline.")
    list_url_name = "complaint_overdue"

    def preset(self) -> dict[str, str]:
        return {"overdue": "true"}


complaint_list = ComplaintListView.as_view()
complaint_mine = MyComplaintListView.as_view()
complaint_overdue = OverdueComplaintListView.as_view()


# --- export ----------------------------------------------------------------------------------


def export_columns() -> list[Column]:
    """The export's columns (the working-day length read once, for the reply time)."""
    day_seconds = business_calendar.working_day_length(business_calendar.default_calendar()).total_seconds()

    def reply_days(complaint: Complaint) -> float | None:
        seconds = complaint.reply_working_seconds
        return None if seconds is None else round(seconds / day_seconds, 2)

    def related_service(complaint: Complaint) -> str:
        # The catalogue's service, or else the text recorded before services were chosen from it.
        service = complaint.related_service
        return service.name if service is not None else complaint.related_service_text

    return [
        (_("Reference"), "reference"),
        (_("Title"), "title"),
        (_("Status"), "status"),
        (_("Severity"), "severity"),
        (_("Category"), "category"),
        (_("Channel"), "channel"),
        (_("Customer organisation"), "organisation.name"),
        (_("Contact"), "contact.name"),
        (_("Contact phone"), "contact.phone"),
        (_("External ticket"), "external_ticket_ref"),
        (_("Related service"), related_service),
        (_("Escalation level"), "escalation_level"),
        (_("Current owner"), "owner"),
        (_("Handler"), "handler"),
        (_("Received at"), "received_at"),
        (_("Response due"), "response_due_at"),
        (_("Responded at"), "responded_at"),
        (_("Reply time (working days)"), reply_days),
        (_("Resolution due"), "resolution_due_at"),
        (_("Resolved at"), "resolved_at"),
        (_("Closed at"), "closed_at"),
        (_("Satisfaction with the result"), "result_satisfaction"),
        (_("Times reopened"), "reopen_count"),
    ]


@login_required
def complaint_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The filtered complaints (the list's filters and sort) as CSV or XLSX, streamed, all rows."""
    if not can(request.user, "view", Complaint):
        raise PermissionDenied
    filterset, queryset = filter_complaints(request, request.GET)
    if filterset.is_bound and not filterset.is_valid():
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in filterset.errors.items())
        return HttpResponseBadRequest(gettext("Invalid filters: %(errors)s") % {"errors": errors})
    return export_response(
        queryset, export_columns(), fmt, filename_for("complaints", fmt), sheet_title=gettext("Complaints")
    )


# --- monthly analysis ------------------------------------------------------------------------


def _month_start(value: str | None) -> tuple[date, bool]:
    """The first day of ``YYYY-MM`` (this month when empty); False when the value was invalid."""
    today = timezone.localdate()
    if not value:
        return today.replace(day=1), True
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1), 1900 < year < 3000
    except (TypeError, ValueError):
        return today.replace(day=1), False


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def _breakdown(rows: list[dict], key: str, label_of, base_query: dict[str, str], total: int) -> list[dict]:
    """Table rows with a bar width (relative to the largest), a share of ``total`` and a
    drill-down link to the list filtered the same way."""
    largest = max((row["count"] for row in rows), default=0) or 1
    total = total or 1
    list_url = reverse("complaint_list")
    result = []
    for row in rows:
        value = row[key]
        url = f"{list_url}?{urlencode({**base_query, key: value})}" if value not in (None, "") else ""
        result.append(
            {
                "label": label_of(row),
                "count": row["count"],
                "width": round(100 * row["count"] / largest),
                "share": round(100 * row["count"] / total, 1),
                "url": url,
            }
        )
    return result


def _choice_label(choices, field: str):
    """A row's label: the choice's, in the active language ("not categorised" when blank)."""

    def label(row: dict) -> str:
        value = row[field]
        if value in (None, ""):
            return gettext("Not categorised")
        try:
            return str(choices(value).label)
        except ValueError:  # a value no longer among the choices: show it as stored
            return str(value)

    return label


@login_required
def complaint_analysis(request: HttpRequest) -> HttpResponse:
    """One month's complaints (by received date, local time): breakdowns and KPIs, in SQL."""
    if not can(request.user, "view", Complaint):
        raise PermissionDenied
    month, valid = _month_start(request.GET.get("month"))
    if not valid:
        messages.warning(request, gettext("Unknown month; showing this month instead."))
    following = _next_month(month)
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(month, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(following, datetime.min.time(), tzinfo=zone)
    queryset = selectors.complaint_list(request.user).filter(received_at__gte=start, received_at__lt=end)
    data = selectors.complaint_analysis(queryset)

    base_query = {
        "received_after": month.isoformat(),
        "received_before": (following - timedelta(days=1)).isoformat(),
    }
    list_url = reverse("complaint_list")
    day_seconds = business_calendar.working_day_length(business_calendar.default_calendar()).total_seconds()
    average = data["average_reply_seconds"]
    rated, satisfied = data["rated"], data["satisfied"]
    context = {
        "month": month,
        "previous_month": _previous_month(month),
        "next_month": following,
        "total": data["total"],
        "total_url": f"{list_url}?{urlencode(base_query)}",
        "replied": data["replied"],
        "average_reply_days": None if average is None else round(float(average) / day_seconds, 2),
        "resolved": data["resolved"],
        # resolved_at is kept on closing and cleared on reopening: resolved or closed now.
        "resolved_url": f"{list_url}?{urlencode({**base_query, 'status': RESOLVED_OR_CLOSED}, doseq=True)}",
        "reopened": data["reopened"],
        "rated": rated,
        "satisfied": satisfied,
        "satisfaction_percent": round(100 * satisfied / rated, 1) if rated else None,
        "breakdowns": [
            {
                "testid": "by-category",
                "title": _("By category"),
                "label": _("Category"),
                "rows": _breakdown(
                    data["by_category"], "category", _choice_label(Category, "category"), base_query, data["total"]
                ),
            },
            {
                "testid": "by-severity",
                "title": _("By severity"),
                "label": _("Severity"),
                "rows": _breakdown(
                    data["by_severity"], "severity", _choice_label(Severity, "severity"), base_query, data["total"]
                ),
            },
            {
                "testid": "by-organisation",
                "title": _("By customer organisation"),
                "label": _("Customer organisation"),
                "rows": _breakdown(
                    data["by_organisation"],
                    "organisation",
                    lambda r: r["organisation__name"],
                    base_query,
                    data["total"],
                ),
                "note": _("The 20 organisations with the most complaints."),
            },
        ],
    }
    return render(request, "complaints/analysis.html", context)


# --- deadline targets ------------------------------------------------------------------------


class ComplaintTargetListView(ObjectListView):
    """Per severity: the response and resolution targets, warning point and calendar."""

    model = ComplaintTarget
    template_name = "complaints/target_list.html"
    select_related = ("calendar",)

    def get_paginate_by(self, queryset):
        return None  # one row per severity

    def visible_queryset(self):
        # Configuration every complaint role reads: no per-user scoping.
        return ComplaintTarget.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["default_calendar"] = business_calendar.default_calendar()
        return context


def _update_target(*, complainttarget: ComplaintTarget, actor, **fields) -> ComplaintTarget:
    return complaint_target_update(target=complainttarget, actor=actor, **fields)


class ComplaintTargetEditView(ObjectEditView):
    """Edit one severity's targets; open complaints' due dates are recomputed after saving."""

    model = ComplaintTarget
    form_class = ComplaintTargetForm
    template_name = "complaints/target_edit.html"
    update_service = _update_target
    select_related = ("calendar",)

    def visible_queryset(self):
        return ComplaintTarget.objects.all()


complaint_target_list = ComplaintTargetListView.as_view()
complaint_target_edit = ComplaintTargetEditView.as_view()
