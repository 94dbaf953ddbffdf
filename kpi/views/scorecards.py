"""Scorecards: one period's figures per technician, department or customer organisation
(``kpi.scorecards``), sortable by any column, exported as CSV / XLSX, each figure leading to
the records behind it.

Who may: whoever reads KPIs (``kpi.view_kpidefinition``: every staff role, the service desk
included). A figure links to its records only for a user who may read their model; the records
page refuses the others.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from itsm.core.exports import export_response, filename_for
from itsm.core.periods import Cycle, Period
from itsm.core.permissions import can

from .. import scorecards
from ..models import ElementKind, KpiDefinition
from ..registry import OVERALL, sources
from ..services import element_labels
from .export import record_rows, with_columns

PAGE_SIZE = 50
ROWS_PER_PAGE = 100
# The URL's word for each scorecard.
KINDS = {
    "technicians": ElementKind.TECHNICIAN,
    "departments": ElementKind.DEPARTMENT,
    "organisations": ElementKind.ORGANISATION,
}
TAB_LABELS = {
    "technicians": gettext_lazy("Technicians"),
    "departments": gettext_lazy("Departments"),
    "organisations": gettext_lazy("Customer organisations"),
}


def _require_view(request: HttpRequest) -> None:
    if not can(request.user, "view", KpiDefinition):
        raise PermissionDenied


def _readable_sources(request: HttpRequest, figures: list[scorecards.ScoreFigure]) -> set[str]:
    """The figures' sources whose records ``request.user`` may read (the drill-down links)."""
    registry = sources()
    return {f.source for f in figures if registry[f.source].readable_by(request.user)}


@login_required
@require_GET
def scorecard_index(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    url = reverse("kpi_scorecard", args=["technicians"])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


@login_required
@require_GET
def scorecard(request: HttpRequest, kinds: str) -> HttpResponseBase:
    _require_view(request)
    if kinds not in KINDS:
        raise Http404(_("There is no such scorecard."))
    kind = KINDS[kinds]
    context = {
        "kinds": kinds,
        "kind": kind,
        "tabs": [(word, TAB_LABELS[word]) for word in KINDS],
        "cycles": scorecards.CYCLES,
        "cycle": request.GET.get("cycle") or Cycle.MONTHLY,
        "label": request.GET.get("period", ""),
    }
    try:
        period = scorecards.parse_period(request.GET.get("cycle"), request.GET.get("period"), timezone.localdate())
    except ValueError as exc:
        return render(request, "kpi/scorecard.html", {**context, "error": str(exc)}, status=400)
    card = scorecards.scorecard(kind, period, sort=request.GET.get("sort") or "name")
    fmt = request.GET.get("format")
    if fmt:
        return export_response(
            card.rows,
            scorecards.export_columns(card),
            fmt,
            filename_for(f"scorecard-{kinds}-{period.label}", fmt),
            sheet_title=f"{ElementKind(kind).label} {period.label}",
        )
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("page", None)
    # Sorted as a whole, shown a page at a time (2,000 organisations are 20,000 cells).
    rows_page = Paginator(card.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "kpi/scorecard.html",
        {
            **context,
            "cycle": period.cycle,
            "label": period.label,
            "period": period,
            "card": card,
            "rows_page": rows_page,
            "readable": _readable_sources(request, card.figures),
            "querystring": query.urlencode(),
        },
    )


def _records_request(request: HttpRequest):
    """(source, period, kind, element id) of the records page's query; ``ValueError`` with
    a message for the reader when one is not valid."""
    data = request.GET
    kpi_source = sources().get(data.get("source", ""))
    if kpi_source is None:
        raise ValueError(_("Choose a figure of a scorecard: “%(source)s” is not one.") % {"source": data.get("source")})
    period: Period = scorecards.parse_period(data.get("cycle"), data.get("period"), timezone.localdate())
    kind = data.get("kind") or OVERALL
    if kind != OVERALL and kind not in kpi_source.breakdowns:
        raise ValueError(_("“%(kind)s” is not a breakdown of this figure.") % {"kind": kind})
    try:
        element_id = int(data.get("id") or 0)
    except ValueError:
        raise ValueError(_("“%(id)s” is not an element id.") % {"id": data.get("id")}) from None
    if kind != OVERALL and element_id <= 0:
        raise ValueError(_("Say whose records: an element id is missing."))
    return kpi_source, period, kind, element_id


@login_required
@require_GET
def scorecard_records(request: HttpRequest) -> HttpResponseBase:
    """The records behind one scorecard figure, live, paged (``?format=csv|xlsx``: all of them)."""
    _require_view(request)
    try:
        kpi_source, period, kind, element_id = _records_request(request)
    except ValueError as exc:
        return render(request, "kpi/scorecard_records.html", {"error": str(exc)}, status=400)
    model = apps.get_model(kpi_source.model)
    if not can(request.user, "view", model):  # type: ignore[arg-type]
        raise PermissionDenied
    columns = kpi_source.export_columns()
    queryset = with_columns(kpi_source.records(period, kind, element_id), columns)
    fmt = request.GET.get("format")
    if fmt:
        element = f"-{kind}-{element_id}" if element_id else ""
        return export_response(
            queryset,
            columns,
            fmt,
            filename_for(f"scorecard-records-{kpi_source.key}-{period.label}{element}", fmt),
            sheet_title=f"{kpi_source.label} {period.label}",
        )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    records = record_rows(page.object_list, columns)
    labels = element_labels(kind, [element_id]) if element_id else {}
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "kpi/scorecard_records.html",
        {
            "source": kpi_source,
            "period": period,
            "kind": kind,
            "kind_label": ElementKind(kind).label,
            "back": next((word for word, k in KINDS.items() if k == kind), "technicians"),
            "element_label": labels.get(element_id, ""),
            "headers": [label for label, _accessor in columns],
            "records": records,
            "page": page,
            "querystring": query.urlencode(),
        },
    )


urlpatterns = [
    path("kpis/scorecards/", scorecard_index, name="kpi_scorecards"),
    path("kpis/scorecards/records/", scorecard_records, name="kpi_scorecard_records"),
    path("kpis/scorecards/<slug:kinds>/", scorecard, name="kpi_scorecard"),
]
