"""KPI pages: the dashboard (a card per KPI), a KPI's detail (its periods, the breakdown of
one period) and the records behind a value (the drill-down).

Every page needs ``kpi.view_kpidefinition`` (every staff role) and reads stored values only,
in a constant number of queries; the drill-down pages its records (frozen ids for a closed
period, live for the running one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from improvement.selectors.sources import source_panel
from itsm.core.permissions import can

from .. import selectors
from ..charts import sparkline_spec, trend_spec
from ..filters import DashboardFilterForm
from ..forms import RevisionForm
from ..models import MANUAL, KpiDefinition, KpiValue, KpiValueRecord
from ..registry import sources
from .export import record_rows, value_records, with_columns

PAGE_SIZE = 50
BREAKDOWN_PAGE = 100


def _require_view(request: HttpRequest) -> None:
    if not can(request.user, "view", KpiDefinition):
        raise PermissionDenied


def records_readable(user: Any) -> Callable[[KpiDefinition], bool]:
    """Whether ``user`` may open the records behind a KPI's values: pages link the drill-down
    only then (read once per source)."""
    known = sources()
    cache: dict[str, bool] = {}

    def readable(definition: KpiDefinition) -> bool:
        kpi_source = known.get(definition.source)
        if kpi_source is None:
            return False
        if kpi_source.key not in cache:
            cache[kpi_source.key] = kpi_source.readable_by(user)
        return cache[kpi_source.key]

    return readable


@login_required
@require_GET
def kpi_dashboard(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    form = DashboardFilterForm(request.GET or None)
    element = month = chosen = None
    if form.is_bound and form.is_valid():
        chosen = form.element()
        element, month = (chosen[:2] if chosen else None), form.cleaned_data["month"]
    cards = selectors.dashboard(element=element, month=month)
    may_read = records_readable(request.user)
    for card in cards:
        card["sparkline"] = sparkline_spec(card["definition"], card["trend"], links=may_read(card["definition"]))
    context = {"cards": cards, "form": form, "element": chosen, "month": month}
    return render(request, "kpi/dashboard.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def kpi_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    definition = get_object_or_404(KpiDefinition, pk=pk)
    return render_detail(request, definition, period=request.GET.get("period") or "")


def render_detail(
    request: HttpRequest,
    definition: KpiDefinition,
    *,
    period: str = "",
    revise_form: RevisionForm | None = None,
    error: str = "",
) -> HttpResponse:
    """A KPI's page: its periods with their trend and forecast, the breakdown of ``period``
    (the newest by default); re-rendered with a refused recomputation's form or error (400)."""
    history = list(selectors.overall_history(definition)[:24])
    labels = [value.period_label for value in history]
    chosen = period or (labels[0] if labels else "")
    overall = next((value for value in history if value.period_label == chosen), None)
    sort = request.GET.get("sort") or "element"
    sort = sort if sort in selectors.BREAKDOWN_ORDERS else "element"
    # A breakdown by department may hold thousands of elements: a page at a time.
    breakdown = selectors.breakdown(definition, chosen, sort) if overall is not None else KpiValue.objects.none()
    rows_page = Paginator(breakdown, BREAKDOWN_PAGE).get_page(request.GET.get("page"))
    rows = list(rows_page.object_list)
    forecast = selectors.running_forecasts([definition]).get(definition.pk)
    may_recompute = can(request.user, "change", KpiValue)
    may_read_records = records_readable(request.user)(definition)
    return render(
        request,
        "kpi/detail.html",
        {
            "definition": definition,
            "history": history,
            "period": chosen,
            "unknown_period": bool(period) and overall is None,
            "overall": overall,
            "rows": rows,
            "rows_page": rows_page,
            "rows_query": urlencode({"period": chosen, "sort": sort}),
            "sort": sort,
            "forecast": forecast,
            "trend_chart": trend_spec(definition, history[::-1], forecast, links=may_read_records),
            "may_read_records": may_read_records,
            "accuracy": selectors.forecast_accuracy(definition, history),
            "may_recompute": may_recompute and definition.source != MANUAL,
            "revise_form": revise_form or (RevisionForm() if may_recompute and overall and overall.closed else None),
            "error": error,
            # The improvement register's items raised from the period shown, and the step raising one.
            "improvement": source_panel(request.user, "kpi_value", overall) if overall is not None else None,
        },
        status=400 if (error or (revise_form is not None and revise_form.errors)) else 200,
    )


@login_required
@require_GET
def kpi_records(request: HttpRequest, pk: int, value_id: int) -> HttpResponse:
    """The records behind a value, a page at a time, with the columns they export with (the
    frozen ones of a closed value, the live ones of a running one)."""
    _require_view(request)
    value = get_object_or_404(KpiValue.objects.select_related("definition"), pk=value_id, definition_id=pk)
    try:
        queryset, columns = value_records(value)
    except Http404:
        queryset, columns = None, []
    if queryset is not None and not can(request.user, "view", queryset.model):
        raise PermissionDenied
    number = request.GET.get("page")
    gone = 0
    if value.closed and queryset is not None:
        # A closed value pages through its frozen ids (an index-only scan, however deep the
        # page), then reads that page's records: a late page of 270,000 costs what the first does.
        frozen = KpiValueRecord.objects.filter(value=value).order_by("record_id").values_list("record_id", flat=True)
        page: Page = Paginator(frozen, PAGE_SIZE).get_page(number)
        ids = list(page.object_list)
        page_records = with_columns(queryset.model._default_manager.filter(pk__in=ids), columns)
        found = {record.pk: record for record in page_records}
        rows = record_rows([found[pk] for pk in ids if pk in found], columns)
        gone = len(ids) - len(found)  # frozen ids whose records were deleted since
    else:
        page = Paginator(queryset if queryset is not None else [], PAGE_SIZE).get_page(number)  # type: ignore[arg-type]
        rows = record_rows(page.object_list, columns)
    context = {
        "definition": value.definition,
        "value": value,
        "page": page,
        "headers": [label for label, _accessor in columns],
        "records": rows,
        "gone": gone,
    }
    return render(request, "kpi/records.html", context)


urlpatterns = [
    path("kpis/", kpi_dashboard, name="kpi_dashboard"),
    path("kpis/<int:pk>/", kpi_detail, name="kpi_detail"),
    path("kpis/<int:pk>/values/<int:value_id>/records/", kpi_records, name="kpi_records"),
]
