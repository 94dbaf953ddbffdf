"""A process owner's recomputations from a KPI's page: the running period now (it is also
recomputed by the periodic check), and a closed period as a new revision with a reason — the
earlier revision stays readable (``kpi.services.kpi_revise``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from itsm.core.periods import period_from_label, period_of
from itsm.core.permissions import can

from ..forecast import forecast_update
from ..forms import RevisionForm
from ..models import MANUAL, KpiDefinition, KpiValue
from ..services import kpi_compute, kpi_revise
from .dashboard import render_detail


def _definition(request: HttpRequest, pk: int) -> KpiDefinition:
    definition = get_object_or_404(KpiDefinition, pk=pk)
    if not can(request.user, "change", KpiValue):
        raise PermissionDenied
    return definition


@login_required
@require_POST
def kpi_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    definition = _definition(request, pk)
    if definition.source == MANUAL:
        return render_detail(request, definition, error=_("A manual KPI takes its values by form, import or API."))
    today = timezone.localdate()
    period = period_of(definition.cycle, today)
    kpi_compute(definition, period)
    forecast_update(definition, period, today)
    messages.success(request, _("%(period)s was recomputed from the records as they stand.") % {"period": period.label})
    return redirect(f"{reverse('kpi_detail', args=[definition.pk])}?period={period.label}")


@login_required
@require_POST
def kpi_revise_period(request: HttpRequest, pk: int, label: str) -> HttpResponse:
    definition = _definition(request, pk)
    try:
        period = period_from_label(definition.cycle, label)
    except ValueError:
        return render_detail(request, definition, error=_("No such period of this KPI."))
    form = RevisionForm(request.POST)
    if not form.is_valid():
        return render_detail(request, definition, period=label, revise_form=form)
    try:
        kpi_revise(definition, period, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        # A running period (not closed yet): said at the top of the page, where no form is.
        return render_detail(request, definition, period=label, error=" ".join(exc.messages))
    messages.success(request, _("%(period)s was recomputed as a new revision.") % {"period": label})
    return redirect(f"{reverse('kpi_detail', args=[definition.pk])}?period={label}")


urlpatterns = [
    path("kpis/<int:pk>/recompute/", kpi_recompute, name="kpi_recompute"),
    path("kpis/<int:pk>/periods/<str:label>/revise/", kpi_revise_period, name="kpi_revise_period"),
]
