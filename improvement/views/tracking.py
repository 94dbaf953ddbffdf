"""The service problem and improvement action tracking sheet (服务问题和改进行动跟踪表) as a
page and as CSV / XLSX (``improvement.selectors.tracking`` builds the rows).

Both need ``improvement.view_improvementitem`` and share one filtering path, so the file holds
exactly the rows the page shows, on every page of it. Invalid filters answer 400 with the
errors (the page shows them beside the filters and no rows). The page is a COUNT, one SELECT
of its rows and a query or two per kind of source on it; the export streams every row.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBadRequest, QueryDict
from django.http.response import HttpResponseBase
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.generic import ListView

from itsm.core.exports import Column, export_response, filename_for
from itsm.core.forms import bootstrap_widgets
from itsm.core.permissions import acting_user, can
from itsm.core.views.generic import RoleRequiredMixin

from ..choices import ActionStatus, ItemStatus
from ..forms.tracking import TrackingFilterSet
from ..models import ImprovementItem
from ..selectors.tracking import tracking_queryset, tracking_rows


def filter_tracking(request: HttpRequest, data: QueryDict | None) -> tuple[TrackingFilterSet, QuerySet]:
    """The rows ``request.user`` may see, filtered by ``data``; invalid filters give no rows
    (never "everything" for a filter typed wrong) and the filter set carries the errors."""
    queryset = tracking_queryset(acting_user(request))
    query = data.copy() if data is not None else QueryDict(mutable=True)
    query.pop("page", None)
    filterset = TrackingFilterSet(query or None, queryset=queryset, request=request)
    if filterset.is_bound:
        queryset = filterset.qs if filterset.is_valid() else queryset.none()
    return filterset, queryset


class TrackingSheetView(RoleRequiredMixin, ListView):
    """The sheet: 50 rows a page, filters, the export of the filtered rows."""

    model = ImprovementItem
    template_name = "improvement/tracking.html"
    paginate_by = 50

    def get_queryset(self):
        self.filterset, queryset = filter_tracking(self.request, self.request.GET)
        return queryset

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if self.filterset.is_bound and not self.filterset.is_valid():
            response.status_code = 400
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = bootstrap_widgets(self.filterset.form)
        form.fields["status"].widget.attrs["size"] = len(ItemStatus.choices)
        form.fields["action_status"].widget.attrs["size"] = len(ActionStatus.choices)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            rows=list(tracking_rows(context["object_list"], acting_user(self.request))),
            filterset=self.filterset,
            filter_form=form,
            querystring=query.urlencode(),
        )
        return context


# The sheet's columns in 004's order: problem, source, measure, responsible, schedule and
# progress, corrective action, confirmed solved — each split into cells a spreadsheet can sort.
EXPORT_COLUMNS: list[Column] = [
    (_("Improvement item"), lambda row: row.item.reference),
    (_("Problem"), lambda row: row.item.title),
    (_("Description"), lambda row: row.item.description),
    (_("Priority"), lambda row: row.priority_label),
    (_("Source"), lambda row: row.source.label),
    (_("Source record"), lambda row: row.source.text),
    (_("Raised at"), lambda row: row.item.created_at),
    (_("Item owner"), lambda row: row.item.owner),
    (_("Item status"), lambda row: row.item_status_label),
    (_("Close by"), lambda row: row.item.target_date),
    (_("Improvement plan"), lambda row: row.plan.reference if row.plan else None),
    (_("Plan title"), lambda row: row.plan.title if row.plan else None),
    (_("Plan owner"), lambda row: row.plan.owner if row.plan else None),
    (_("Improvement measure"), lambda row: row.action_title),
    (_("Round"), lambda row: row.action_round),
    (_("Responsible"), lambda row: row.responsible),
    (_("Due on"), lambda row: row.due),
    (_("Action status"), lambda row: row.action_status_label),
    (_("Done at"), lambda row: row.action_done_at),
    (_("Done on time"), lambda row: row.action_done_on_time),
    (_("Overdue"), lambda row: row.overdue),
    (_("Corrective action status"), lambda row: row.plan_status_label),
    (_("PDCA stage"), lambda row: row.stage_label),
    (_("Effectiveness review"), lambda row: row.review_label),
    (_("Confirmed solved"), lambda row: row.confirmed_solved),
    (_("How it was resolved"), lambda row: row.item.resolution),
]


@login_required
@require_GET
def tracking_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The filtered sheet as CSV or XLSX, every row, streamed (``itsm.core.exports``)."""
    if not can(request.user, "view", ImprovementItem):
        raise PermissionDenied
    filterset, queryset = filter_tracking(request, request.GET)
    if filterset.is_bound and not filterset.is_valid():
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in filterset.errors.items())
        return HttpResponseBadRequest(gettext("Invalid filters: %(errors)s") % {"errors": errors})
    return export_response(
        tracking_rows(queryset.iterator(chunk_size=2000), acting_user(request)),
        EXPORT_COLUMNS,
        fmt,
        filename_for("improvement-tracking", fmt),
        sheet_title=gettext("Tracking sheet"),
    )


urlpatterns = [
    path("improvement/tracking/", TrackingSheetView.as_view(), name="improvement_tracking"),
    path("improvement/tracking/export.<str:fmt>", tracking_export, name="improvement_tracking_export"),
]
