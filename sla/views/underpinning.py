"""Underpinning pages: every SLA promise not backed (or weakly backed) by an OLA or UC, an
agreement's targets with what underpins them, and linking / unlinking supporting targets.

Reading needs ``sla.view_serviceleveltarget`` and ``sla.view_agreement``; linking and
unlinking ``sla.change_serviceleveltarget`` (service level managers). The check comes before
any row is read, so a refused user cannot tell a missing agreement from a real one. The
figures come from ``sla.underpinning`` (two queries for any number of targets, one more for
the link choices): the query count does not grow with the rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from itsm.core.permissions import acting_user, can, require_all

from ..choices import AgreementKind
from ..forms.measurements import SupportLinkForm, SupportUnlinkForm, UnderpinningFilterForm
from ..models import Agreement, Measurement, ServiceLevelTarget
from ..underpinning import (
    UnderpinningStatus,
    checked_sla_targets,
    compare_targets,
    format_target_value,
    gap_message,
    supporting_candidates,
    target_label,
    target_link_support,
    target_unlink_support,
    underpinning_report,
)

PAGE_SIZE = 50


def _require_view(request: HttpRequest) -> None:
    require_all(request.user, ("view",), ServiceLevelTarget)
    require_all(request.user, ("view",), Agreement)


@login_required
@require_GET
def underpinning_list(request: HttpRequest) -> HttpResponse:
    """Every target of a negotiating or active SLA whose underpinning is missing or weak (by
    default; the status filter shows the supported ones too), with the gap in words."""
    _require_view(request)
    form = UnderpinningFilterForm(request.GET or None)
    targets = checked_sla_targets()
    if form.is_bound and form.is_valid() and form.cleaned_data["agreement"] is not None:
        targets = targets.filter(agreement=form.cleaned_data["agreement"])
    rows = underpinning_report(targets) if not (form.is_bound and not form.is_valid()) else []
    counts = {status: 0 for status in UnderpinningStatus.values}
    for row in rows:
        counts[row.status] += 1
    wanted = form.statuses()
    page = Paginator([row for row in rows if row.status in wanted], PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sla/underpinning_list.html",
        {
            "form": form,
            "rows": page.object_list,
            "page_obj": page,
            "querystring": query.urlencode(),
            "counts": counts,
            "checked": len(rows),
        },
    )


def _link_choices(row: Any, candidates: dict[int, list[ServiceLevelTarget]]) -> list[dict[str, Any]]:
    linked = {comparison.supporting.pk for comparison in row.comparisons}
    choices = []
    for candidate in candidates.get(row.target.pk, []):
        if candidate.pk in linked:
            continue
        comparison = compare_targets(row.target, candidate)
        choices.append({"target": candidate, "label": target_label(candidate), "supported": comparison.supported})
    return choices


def _comparison_view(sla_target: ServiceLevelTarget, comparison: Any) -> dict[str, Any]:
    return {
        "comparison": comparison,
        "value": format_target_value(comparison.supporting),
        "gap": "" if comparison.supported else gap_message(sla_target, comparison),
    }


def _agreement_page(
    request: HttpRequest, agreement: Agreement, *, errors: dict[int, list[str]] | None = None, status: int = 200
) -> HttpResponse:
    may_change = can(request.user, "change", ServiceLevelTarget)
    context: dict[str, Any] = {
        "agreement": agreement,
        "is_sla": agreement.kind == AgreementKind.SLA,
        "may_change": may_change,
        # The attainment page shows measurements: a role that may not read them gets no link.
        "may_view_attainment": can(request.user, "view", Measurement),
    }
    if agreement.kind == AgreementKind.SLA:
        rows = underpinning_report(agreement=agreement)
        candidates = supporting_candidates(row.target for row in rows) if may_change else {}
        context["rows"] = [
            {
                "row": row,
                "value": format_target_value(row.target),
                "comparisons": [_comparison_view(row.target, comparison) for comparison in row.comparisons],
                "choices": _link_choices(row, candidates),
                "errors": (errors or {}).get(row.target.pk, []),
            }
            for row in rows
        ]
        context["summary"] = {
            status: sum(1 for row in rows if row.status == status) for status in UnderpinningStatus.values
        }
    else:
        # An OLA or UC: which SLA promises each of its targets underpins, and how well.
        supported = ServiceLevelTarget.objects.select_related("agreement", "calendar").order_by(
            "agreement__number", "pk"
        )
        targets = (
            ServiceLevelTarget.objects.filter(agreement=agreement)
            .select_related("agreement", "calendar")
            .prefetch_related(Prefetch("supports", queryset=supported, to_attr="sla_targets"))
            .order_by("priority", "metric", "pk")
        )
        context["underpinning_rows"] = [
            {
                "target": target,
                "value": format_target_value(target),
                "supports": [
                    {
                        "sla_target": sla_target,
                        "value": format_target_value(sla_target),
                        **_comparison_view(sla_target, compare_targets(sla_target, target)),
                    }
                    for sla_target in target.sla_targets  # type: ignore[attr-defined]
                ],
            }
            for target in targets
        ]
    return render(request, "sla/underpinning_agreement.html", context, status=status)


def _agreement(request: HttpRequest, pk: int) -> Agreement:
    return get_object_or_404(Agreement.objects.visible_to(request.user), pk=pk)


@login_required
@require_GET
def agreement_underpinning(request: HttpRequest, pk: int) -> HttpResponse:
    """An SLA's targets, each with the OLA / UC targets underpinning it, its status and gap,
    and (for service level managers) forms to link and unlink; for an OLA or UC, the SLA
    targets each of its targets underpins."""
    _require_view(request)
    return _agreement_page(request, _agreement(request, pk))


def _sla_target(request: HttpRequest, pk: int) -> ServiceLevelTarget:
    require_all(request.user, ("view", "change"), ServiceLevelTarget)
    require_all(request.user, ("view",), Agreement)
    return get_object_or_404(ServiceLevelTarget.objects.visible_to(request.user).select_related("agreement"), pk=pk)


def _back(target: ServiceLevelTarget) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('agreement_underpinning', args=[target.agreement_id])}#target-{target.pk}")


def _refused(request: HttpRequest, target: ServiceLevelTarget, problems: list[str]) -> HttpResponse:
    return _agreement_page(request, target.agreement, errors={target.pk: problems}, status=400)


def _form_problems(form: Any) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


@login_required
@require_POST
def target_support_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the chosen OLA / UC targets under an SLA target."""
    target = _sla_target(request, pk)
    form = SupportLinkForm(request.POST)
    if not form.is_valid():
        return _refused(request, target, _form_problems(form))
    try:
        linked = target_link_support(
            sla_target=target, supporting=list(form.cleaned_data["supporting"]), actor=acting_user(request)
        )
    except ValidationError as exc:
        return _refused(request, target, exc.messages)
    if linked:
        messages.success(
            request,
            gettext("Linked: %(targets)s.") % {"targets": ", ".join(t.agreement.number for t in linked)},
        )
    return _back(target)


@login_required
@require_POST
def target_support_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a supporting target from under an SLA target."""
    target = _sla_target(request, pk)
    form = SupportUnlinkForm(request.POST)
    if not form.is_valid():
        return _refused(request, target, _form_problems(form))
    try:
        gone = target_unlink_support(
            sla_target=target, supporting=list(form.cleaned_data["supporting"]), actor=acting_user(request)
        )
    except ValidationError as exc:
        return _refused(request, target, exc.messages)
    if gone:
        messages.success(
            request,
            gettext("Unlinked: %(targets)s.") % {"targets": ", ".join(t.agreement.number for t in gone)},
        )
    return _back(target)


urlpatterns = [
    path("sla/underpinning/", underpinning_list, name="underpinning_list"),
    path("sla/agreements/<int:pk>/underpinning/", agreement_underpinning, name="agreement_underpinning"),
    path("sla/targets/<int:pk>/underpinning/link/", target_support_link, name="target_support_link"),
    path("sla/targets/<int:pk>/underpinning/unlink/", target_support_unlink, name="target_support_unlink"),
]
