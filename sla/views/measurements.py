"""Measurement pages: the list of monthly actuals, recording one by hand, importing a CSV file
(with its template), and a target's attainment over the last twelve months with its trend.

Reading needs ``sla.view_measurement`` (the attainment page also ``view_serviceleveltarget``);
recording and importing ``add`` and ``change_measurement`` (a repeat updates), which service
level managers hold. The check comes before any row is read. Every page runs a constant
number of queries whatever the number of measurements; writes go through
``sla.services.measurements``.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from improvement.models import ImprovementItem
from improvement.selectors.sources import items_by_source, may_raise, raise_url
from itsm.core import charts
from itsm.core.exports import BOM
from itsm.core.permissions import acting_user, can, require_all
from itsm.core.views.generic import add_service_errors

from ..choices import TIME_UNITS, AgreementKind, AgreementStatus, MeasurementSource, ReportStatus
from ..forms.measurements import MeasurementFilterForm, MeasurementForm, MeasurementImportForm
from ..models import Measurement, ServiceLevelTarget, SlaReport
from ..services import measurements as services
from ..underpinning import compare_targets, format_target_value, target_label, underpinning_report

PAGE_SIZE = 50
MONTHS_SHOWN = 12
SOURCE_TEMPLATE_STATUSES = (AgreementStatus.ACTIVE,)


def _require_write(request: HttpRequest) -> None:
    require_all(request.user, ("add", "change"), Measurement)
    require_all(request.user, ("view",), ServiceLevelTarget)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


# --- list --------------------------------------------------------------------------------------


@login_required
@require_GET
def measurement_list(request: HttpRequest) -> HttpResponse:
    """Every measurement, newest month first; filter by agreement, month and breaches."""
    require_all(request.user, ("view",), Measurement)
    form = MeasurementFilterForm(request.GET or None)
    queryset = (
        Measurement.objects.visible_to(request.user)
        .select_related("target__agreement", "target__calendar", "recorded_by")
        .order_by("-period", "target__agreement__number", "target__priority", "target__metric", "pk")
    )
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            if data["agreement"] is not None:
                queryset = queryset.filter(target__agreement=data["agreement"])
            if data["month"] is not None:
                queryset = queryset.filter(period=data["month"])
            if data["breaches"]:
                queryset = queryset.filter(met=False)
        else:
            queryset = queryset.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sla/measurement_list.html",
        {
            "form": form,
            "measurements": page.object_list,
            "rows": _rows(request, page.object_list),
            "page_obj": page,
            "querystring": query.urlencode(),
            "may_record": can(request.user, "add", Measurement) and can(request.user, "change", Measurement),
            "may_view_targets": can(request.user, "view", ServiceLevelTarget),
        },
    )


def _rows(request: HttpRequest, measurements) -> list[dict[str, Any]]:
    """The page's rows; a breach shows the register's items raised from it (one query for the
    page) and the link raising one."""
    breaches = [m.pk for m in measurements if not m.met]
    raised = items_by_source(Measurement, breaches) if breaches and can(request.user, "view", ImprovementItem) else {}
    raising = may_raise(request.user)
    return [
        {
            "measurement": m,
            "target_label": target_label(m.target),
            "improvements": raised.get(m.pk, []),
            "raise_url": raise_url("sla_measurement", m) if raising and not m.met else "",
        }
        for m in measurements
    ]


# --- recording ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def measurement_create(request: HttpRequest) -> HttpResponse:
    """Record (or correct) one month's actual of one target; ``?target=<id>`` pre-selects it."""
    _require_write(request)
    if request.method == "GET":
        initial: dict[str, Any] = {"period": _add_months(timezone.localdate().replace(day=1), -1)}
        target_id = request.GET.get("target", "")
        if target_id.isdigit():
            initial["target"] = int(target_id)
        return render(request, "sla/measurement_form.html", {"form": MeasurementForm(initial=initial)})
    form = MeasurementForm(request.POST)
    if form.is_valid():
        try:
            measurement, created = services.measurement_record(
                actor=acting_user(request), source=MeasurementSource.FORM, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                (gettext("Recorded %(month)s.") if created else gettext("Updated %(month)s."))
                % {"month": f"{measurement.period:%Y-%m}"},
            )
            return HttpResponseRedirect(reverse("target_attainment", args=[measurement.target_id]))
    return render(request, "sla/measurement_form.html", {"form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def measurement_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV file of monthly actuals: all rows recorded, or none and every error shown
    with its row and column (400)."""
    _require_write(request)
    context: dict[str, Any] = {"columns": services.CSV_COLUMNS, "max_rows": services.IMPORT_MAX_ROWS}
    if request.method == "GET":
        return render(request, "sla/measurement_import.html", {**context, "form": MeasurementImportForm()})
    form = MeasurementImportForm(request.POST, request.FILES)
    result = None
    if form.is_valid():
        try:
            result = services.measurements_import_csv(file=form.cleaned_data["file"], actor=acting_user(request))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if result.ok:
                text = ngettext(
                    "%(count)s measurement recorded",
                    "%(count)s measurements recorded",
                    result.recorded,
                ) % {"count": result.recorded}
                details = gettext("%(created)s new, %(updated)s updated, %(unchanged)s unchanged") % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                }
                if result.skipped:
                    details += "; " + ngettext(
                        "%(count)s row without an actual skipped",
                        "%(count)s rows without an actual skipped",
                        result.skipped,
                    ) % {"count": result.skipped}
                messages.success(request, gettext("%(text)s (%(details)s).") % {"text": text, "details": details})
                return HttpResponseRedirect(reverse("measurement_list"))
    return render(request, "sla/measurement_import.html", {**context, "form": form, "result": result}, status=400)


@login_required
@require_GET
def measurement_import_template(request: HttpRequest) -> HttpResponse:
    """The CSV template: the header and one row per target of an active agreement for last
    month, the actual left blank (rows left blank are skipped on import). UTF-8 with BOM, so
    Excel opens it right."""
    _require_write(request)
    period = _add_months(timezone.localdate().replace(day=1), -1)
    targets = (
        ServiceLevelTarget.objects.filter(agreement__status__in=SOURCE_TEMPLATE_STATUSES)
        .select_related("agreement")
        .order_by("agreement__number", "priority", "metric", "pk")
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="measurements-{period:%Y-%m}.csv"'
    response.write(BOM)
    writer = csv.writer(response)
    writer.writerows(services.import_template_rows(targets, period))
    return response


# --- attainment --------------------------------------------------------------------------------


def _value(target: ServiceLevelTarget, value: Decimal | None) -> str:
    if value is None:
        return ""
    probe = ServiceLevelTarget(value=value, unit=target.unit)
    return format_target_value(probe)


@login_required
@require_GET
def target_attainment(request: HttpRequest, pk: int) -> HttpResponse:
    """One target over the last twelve months: actual against target each month, breaches
    highlighted, the trend as an SVG chart, and how the target is underpinned."""
    require_all(request.user, ("view",), ServiceLevelTarget)
    require_all(request.user, ("view",), Measurement)
    target = get_object_or_404(
        ServiceLevelTarget.objects.visible_to(request.user).select_related("agreement", "calendar"), pk=pk
    )
    this_month = timezone.localdate().replace(day=1)
    first = _add_months(this_month, -MONTHS_SHOWN)
    by_month = {
        measurement.period: measurement
        for measurement in Measurement.objects.filter(target=target, period__gte=first, period__lte=this_month)
        .select_related("recorded_by")
        .order_by("period")
    }
    # The current month is shown once it has a figure; otherwise the twelve months before it.
    last = this_month if this_month in by_month else _add_months(this_month, -1)
    months = [_add_months(last, offset) for offset in range(-MONTHS_SHOWN + 1, 1)]
    closed = set(
        SlaReport.objects.filter(
            agreement_id=target.agreement_id,
            period__in=months,
            status__in=[ReportStatus.APPROVED, ReportStatus.SENT],
        ).values_list("period", flat=True)
    )
    rows = [
        {"month": month, "measurement": by_month.get(month), "closed": month in closed} for month in reversed(months)
    ]
    measured = [by_month[month] for month in months if month in by_month]
    met = sum(1 for measurement in measured if measurement.met)
    unit = "" if target.unit in TIME_UNITS else " %"
    chart = charts.trend_spec(
        [
            charts.TrendPoint(
                f"{month:%Y-%m}",
                float(by_month[month].actual) if month in by_month else None,
                highlight=month in by_month and not by_month[month].met,
                value_label=_value(target, by_month[month].actual) if month in by_month else None,
                cells=((gettext("met") if by_month[month].met else gettext("breach")),) if month in by_month else (),
            )
            for month in months
        ],
        title=gettext("%(target)s: actual by month") % {"target": target_label(target)},
        target=float(target.value),
        target_label=gettext("target: %(value)s") % {"value": format_target_value(target)},
        unit=unit,
        width=640,
        period_title=gettext("Month"),
        value_title=gettext("Actual"),
        columns=[gettext("Result")],
    )
    context: dict[str, Any] = {
        "target": target,
        "target_value": format_target_value(target),
        "target_label": target_label(target),
        "rows": rows,
        "chart": chart,
        "measured": len(measured),
        "met": met,
        "attainment": round(100 * met / len(measured), 1) if measured else None,
        "may_record": can(request.user, "add", Measurement) and can(request.user, "change", Measurement),
        "lower_is_better": target.unit in TIME_UNITS,
    }
    if target.agreement.kind == AgreementKind.SLA:
        context["underpinning"] = underpinning_report(ServiceLevelTarget.objects.filter(pk=target.pk))[0]
    else:
        context["supports"] = [
            {"sla_target": sla_target, "comparison": compare_targets(sla_target, target)}
            for sla_target in target.supports.select_related("agreement", "calendar").order_by("agreement__number")
        ]
    return render(request, "sla/measurement_attainment.html", context)


urlpatterns = [
    path("sla/measurements/", measurement_list, name="measurement_list"),
    path("sla/measurements/new/", measurement_create, name="measurement_create"),
    path("sla/measurements/import/", measurement_import, name="measurement_import"),
    path("sla/measurements/import/template.csv", measurement_import_template, name="measurement_import_template"),
    path("sla/targets/<int:pk>/", target_attainment, name="target_attainment"),
]
