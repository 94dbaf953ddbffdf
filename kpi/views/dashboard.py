"""KPI pages: the dashboard (a card per KPI), a KPI's detail (its periods, the breakdown of
one period) and the records behind a value (the drill-down).

Every page needs ``kpi.view_kpidefinition`` (every staff role) and reads stored values only,
in a constant number of queries; the drill-down pages its records (frozen ids for a closed
period, live for the running one).
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from itsm.core.periods import Period
from itsm.core.permissions import can

from .. import selectors
from ..models import KpiDefinition, KpiValue, KpiValueRecord
from ..registry import sources

PAGE_SIZE = 50


def _require_view(request: HttpRequest) -> None:
    if not can(request.user, "view", KpiDefinition):
        raise PermissionDenied


@login_required
@require_GET
def kpi_dashboard(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    return render(request, "kpi/dashboard.html", {"cards": selectors.dashboard()})


@login_required
@require_GET
def kpi_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    definition = get_object_or_404(KpiDefinition, pk=pk)
    history = list(selectors.overall_history(definition)[:24])
    labels = [value.period_label for value in history]
    chosen = request.GET.get("period") or (labels[0] if labels else "")
    overall = next((value for value in history if value.period_label == chosen), None)
    rows = list(selectors.breakdown(definition, chosen)) if overall is not None else []
    return render(
        request,
        "kpi/detail.html",
        {
            "definition": definition,
            "history": history,
            "period": chosen,
            "unknown_period": bool(request.GET.get("period")) and overall is None,
            "overall": overall,
            "rows": rows,
            "forecast": selectors.running_forecasts([definition]).get(definition.pk),
            "accuracy": selectors.forecast_accuracy(definition, history),
        },
    )


@login_required
@require_GET
def kpi_records(request: HttpRequest, pk: int, value_id: int) -> HttpResponse:
    _require_view(request)
    value = get_object_or_404(KpiValue.objects.select_related("definition"), pk=value_id, definition_id=pk)
    definition = value.definition
    if value.closed:
        ids = KpiValueRecord.objects.filter(value=value).order_by("record_id").values_list("record_id", flat=True)
    else:
        kpi_source = sources().get(definition.source)
        period = Period(value.period_start, value.period_end, definition.cycle)
        ids = (
            kpi_source.records(period, value.element_kind, value.element_id).order_by("pk").values_list("pk", flat=True)
            if kpi_source is not None
            else KpiValueRecord.objects.none().values_list("record_id", flat=True)
        )
    page = Paginator(ids, PAGE_SIZE).get_page(request.GET.get("page"))
    try:
        model = apps.get_model(value.record_model)
    except (LookupError, ValueError):
        model = None
    found = model._default_manager.in_bulk(list(page.object_list)) if model is not None else {}
    records = [{"id": pk, "record": found.get(pk)} for pk in page.object_list]
    return render(
        request,
        "kpi/records.html",
        {"definition": definition, "value": value, "page": page, "records": records},
    )


urlpatterns = [
    path("kpis/", kpi_dashboard, name="kpi_dashboard"),
    path("kpis/<int:pk>/", kpi_detail, name="kpi_detail"),
    path("kpis/<int:pk>/values/<int:value_id>/records/", kpi_records, name="kpi_records"),
]
