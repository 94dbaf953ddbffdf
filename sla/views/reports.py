"""Monthly SLA report pages: the list, one report (figures, approval, sending), a printable copy.

Reading needs ``sla.view_slareport`` (service level managers, BR managers, auditors and the
other reading roles); drafting ``add_slareport``, recomputing, approving and sending
``change_slareport`` (service level managers). The role is checked before any row is read,
so a refused user cannot tell a missing report from a real one. Views parse a small form,
call one service of ``sla.services.reports`` and render; every page runs a constant number
of queries whatever the number of reports, targets or contacts. The forms of these pages are
small and used only here, so they live here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from improvement.selectors.sources import source_panel
from itsm.core import charts
from itsm.core.forms import BootstrapFormMixin
from itsm.core.permissions import acting_user as _user
from itsm.core.permissions import can, require_all
from itsm.core.pickers import PickerField
from itsm.core.views.generic import add_service_errors

from ..choices import AgreementKind, ReportStatus
from ..models import SlaReport
from ..pickers import agreements as agreement_picker
from ..services import reports as services

PAGE_SIZE = 25
STATUS_COLOURS: dict[str, str] = {
    ReportStatus.DRAFT: "secondary",
    ReportStatus.APPROVED: "primary",
    ReportStatus.SENT: "success",
}
STATE_COLOURS = {"met": "#198754", "breached": "#DC3545", "missing": "#ADB5BD"}
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


# --- forms -------------------------------------------------------------------------------------


class MonthField(forms.DateField):
    """A month (``YYYY-MM``, as ``<input type="month">`` sends it) as its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=MONTH_FORMATS, **kwargs)

    def to_python(self, value: Any):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


SLAS = {"kind": AgreementKind.SLA.value}
SLAS_IN_FORCE = {**SLAS, "status": ",".join(sorted(services.IN_FORCE_STATUSES))}


class ReportFilterForm(BootstrapFormMixin, forms.Form):
    agreement = PickerField(agreement_picker, SLAS, label=gettext_lazy("agreement"), required=False)
    month = MonthField(label=gettext_lazy("month"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("status"), required=False, choices=[("", gettext_lazy("any")), *ReportStatus.choices]
    )


class ReportCreateForm(BootstrapFormMixin, forms.Form):
    agreement = PickerField(agreement_picker, SLAS_IN_FORCE, label=gettext_lazy("agreement"))
    month = MonthField(label=gettext_lazy("month"))


class ReportApproveForm(BootstrapFormMixin, forms.Form):
    summary = forms.CharField(
        label=gettext_lazy("summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Opens the mail to the customer: the month in a few sentences, breaches explained."),
    )


# --- helpers -----------------------------------------------------------------------------------


def _require(request: HttpRequest, *verbs: str) -> None:
    require_all(request.user, verbs, SlaReport)


def _report(request: HttpRequest, pk: int) -> SlaReport:
    queryset = SlaReport.objects.visible_to(request.user).select_related("agreement__counterparty", "approved_by")
    return get_object_or_404(queryset, pk=pk)


def _optional_url(name: str, *args: Any) -> str:
    # Agreement pages are another part of the sla app; link to them when they exist.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _counts(report: SlaReport) -> dict[str, int]:
    counts = report.figures.get("counts") or {}
    return {key: int(counts.get(key) or 0) for key in ("targets", "met", "breached", "missing")}


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


# --- list --------------------------------------------------------------------------------------


@login_required
@require_GET
def sla_report_list(request: HttpRequest) -> HttpResponse:
    """Reports, newest month first; filter by agreement, month and status."""
    _require(request, "view")
    form = ReportFilterForm(request.GET or None)
    queryset = (
        SlaReport.objects.visible_to(request.user)
        .select_related("agreement__counterparty", "approved_by")
        .order_by("-period", "agreement__number", "pk")
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["agreement"]:
            queryset = queryset.filter(agreement=data["agreement"])
        if data["month"]:
            queryset = queryset.filter(period=data["month"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
    elif form.is_bound:
        queryset = queryset.none()  # never "everything" for a filter typed wrong
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "report": report,
            "counts": _counts(report),
            "attainment": report.figures.get("attainment"),
            "status_colour": STATUS_COLOURS.get(report.status, "secondary"),
        }
        for report in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    can_add = can(request.user, "add", SlaReport) and can(request.user, "change", SlaReport)
    last_month = services.previous_month(timezone.localdate())
    return render(
        request,
        "sla/report_list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "querystring": query.urlencode(),
            "create_form": ReportCreateForm(initial={"month": last_month}, prefix="new") if can_add else None,
        },
    )


@login_required
@require_POST
def sla_report_create(request: HttpRequest) -> HttpResponse:
    """Draft (or recompute the draft of) an agreement's report for a past month."""
    _require(request, "view", "add", "change")
    form = ReportCreateForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            report = services.sla_report_draft(
                agreement=form.cleaned_data["agreement"], period=form.cleaned_data["month"], actor=_user(request)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The report was drafted."))
            return HttpResponseRedirect(reverse("sla_report_detail", args=[report.pk]))
    errors = [str(error) for errors in form.errors.values() for error in errors]
    for error in errors:
        messages.error(request, error)
    return HttpResponseRedirect(reverse("sla_report_list"))


# --- one report --------------------------------------------------------------------------------


def _chart(counts: dict[str, int]):
    return charts.stacked_spec(
        [
            charts.Segment(_("met"), counts["met"], STATE_COLOURS["met"]),
            charts.Segment(_("breached"), counts["breached"], STATE_COLOURS["breached"]),
            charts.Segment(_("not measured"), counts["missing"], STATE_COLOURS["missing"]),
        ],
        title=_("Targets met, breached and not measured"),
        width=560,
        label_title=_("Result"),
    )


def _render_detail(
    request: HttpRequest,
    report: SlaReport,
    *,
    approve_form: ReportApproveForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    may_change = can(request.user, "change", SlaReport)
    is_draft = report.status == ReportStatus.DRAFT
    counts = _counts(report)
    context = {
        "report": report,
        "agreement": report.agreement,
        "agreement_url": _optional_url("agreement_detail", report.agreement_id),
        "rows": services.figure_rows(report.figures),
        "counts": counts,
        "attainment": report.figures.get("attainment"),
        "computed_at": _moment(report.figures.get("computed_at")),
        "chart": _chart(counts),
        "status_colour": STATUS_COLOURS.get(report.status, "secondary"),
        "stale": services.figures_out_of_date(report),
        "may_change": may_change,
        "approve_form": (approve_form or ReportApproveForm(initial={"summary": report.summary}))
        if may_change and is_draft
        else None,
        "may_send": may_change and report.status in services.CLOSED_STATUSES,
        "contacts": list(services.report_contacts(report)) if may_change else [],
        "mails": list(services.report_mails(report)),
        "error": error,
        "improvement": source_panel(request.user, "sla_report", report),
    }
    return render(request, "sla/report_detail.html", context, status=status)


@login_required
@require_GET
def sla_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One report: its figures with breaches highlighted, and for the service level manager
    the recompute, approve and send actions."""
    _require(request, "view")
    return _render_detail(request, _report(request, pk))


@login_required
@require_GET
def sla_report_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The report on its own, for printing or saving as PDF from the browser."""
    _require(request, "view")
    report = _report(request, pk)
    return render(
        request,
        "sla/report_print.html",
        {
            "report": report,
            "agreement": report.agreement,
            "rows": services.figure_rows(report.figures),
            "counts": _counts(report),
            "attainment": report.figures.get("attainment"),
        },
    )


@login_required
@require_POST
def sla_report_redraft(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view", "add", "change")
    report = _report(request, pk)
    try:
        services.sla_report_draft(agreement=report.agreement, period=report.period, actor=_user(request))
    except ValidationError as exc:
        return _render_detail(request, report, error=" ".join(exc.messages), status=400)
    messages.success(request, _("The figures were recomputed from the month's measurements."))
    return HttpResponseRedirect(reverse("sla_report_detail", args=[report.pk]))


@login_required
@require_POST
def sla_report_approve(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view", "change")
    report = _report(request, pk)
    form = ReportApproveForm(request.POST)
    if form.is_valid():
        try:
            services.sla_report_approve(report=report, summary=form.cleaned_data["summary"], actor=_user(request))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The report was approved; the month's figures are final."))
            return HttpResponseRedirect(reverse("sla_report_detail", args=[report.pk]))
    return _render_detail(request, report, approve_form=form, status=400)


@login_required
@require_POST
def sla_report_send(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view", "change")
    report = _report(request, pk)
    try:
        queued = services.sla_report_send(report=report, actor=_user(request))
    except ValidationError as exc:
        return _render_detail(request, report, error=" ".join(exc.messages), status=400)
    if queued:
        messages.success(request, _("The report is being mailed to %(count)d contacts.") % {"count": queued})
    else:
        messages.info(request, _("Every contact of the customer has already been sent this report."))
    return HttpResponseRedirect(reverse("sla_report_detail", args=[report.pk]))


urlpatterns = [
    path("sla/reports/", sla_report_list, name="sla_report_list"),
    path("sla/reports/new/", sla_report_create, name="sla_report_create"),
    path("sla/reports/<int:pk>/", sla_report_detail, name="sla_report_detail"),
    path("sla/reports/<int:pk>/print/", sla_report_print, name="sla_report_print"),
    path("sla/reports/<int:pk>/recompute/", sla_report_redraft, name="sla_report_redraft"),
    path("sla/reports/<int:pk>/approve/", sla_report_approve, name="sla_report_approve"),
    path("sla/reports/<int:pk>/send/", sla_report_send, name="sla_report_send"),
]
