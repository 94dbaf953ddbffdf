"""The process owner's KPI pages: every definition (active or not), a new one, and one KPI's
manage page — its definition, its targets (add one, end one) and, for a manual KPI, its
values (enter one, import a CSV file).

Every page needs ``kpi.change_kpidefinition`` (the process owner; everyone else 403, before
any row is read); adding a KPI ``add_kpidefinition``, a target ``add_kpitarget``, ending one
``change_kpitarget``, a manual value ``add_kpivalue``. Views parse a form and call one service
of ``kpi.services``; its ``ValidationError`` comes back at the form with status 400 and nothing
written. The pages run a constant number of queries whatever the number of targets or values.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from itsm.core.periods import period_of
from itsm.core.permissions import acting_user, can
from itsm.core.pickers import scope_pickers
from itsm.core.views.generic import add_service_errors

from .. import services
from ..forms import KpiDefinitionForm, ManualImportForm, ManualValueForm, TargetEndForm, TargetForm
from ..models import MANUAL, ElementKind, KpiDefinition, KpiTarget, KpiValue, Unit
from ..registry import sources

VALUES_SHOWN = 60  # a manual KPI's latest values on its manage page


def _require(request: HttpRequest, verb: str = "change", model: Any = KpiDefinition) -> None:
    # The management pages are the process owner's: without "change" on definitions, 403.
    if not can(request.user, "change", KpiDefinition) or not can(request.user, verb, model):
        raise PermissionDenied


def _definition(pk: int) -> KpiDefinition:
    return get_object_or_404(KpiDefinition.objects.select_related("owner"), pk=pk)


def _manage_url(definition: KpiDefinition, anchor: str = "") -> str:
    return reverse("kpi_manage", args=[definition.pk]) + (f"#{anchor}" if anchor else "")


def _sources_table() -> list[dict[str, Any]]:
    """What each computation offers (no query): shown beside the definition form."""

    def names(kinds: tuple[str, ...]) -> str:
        return ", ".join(str(ElementKind(kind).label) for kind in kinds)

    rows = [
        {
            "key": key,
            "label": kpi_source.label,
            "unit": Unit(kpi_source.unit).label if kpi_source.unit in Unit.values else kpi_source.unit,
            "breakdowns": names(services.supported_breakdowns(key)),
        }
        for key, kpi_source in sources().items()
    ]
    rows.append({"key": MANUAL, "label": _("manual"), "unit": _("any"), "breakdowns": names(services.MANUAL_KINDS)})
    return rows


def _example(definition: KpiDefinition) -> str:
    """The label of the last finished period of the KPI's cycle (what one would enter now)."""
    return period_of(definition.cycle, timezone.localdate()).previous().label


# --- the list ----------------------------------------------------------------------------------


@login_required
@require_GET
def kpi_manage_list(request: HttpRequest) -> HttpResponse:
    """Every definition, active or not, with whether it has values (two queries in all)."""
    _require(request)
    definitions = list(
        KpiDefinition.objects.select_related("owner")
        .annotate(has_values=Exists(KpiValue.objects.filter(definition=OuterRef("pk"))))
        .order_by("-is_active", "sort_order", "code")
    )
    labels = {key: kpi_source.label for key, kpi_source in sources().items()}
    for definition in definitions:
        label = _("manual") if definition.source == MANUAL else labels.get(definition.source)
        # A source no app registers (any more): its key, said to be unknown.
        definition.source_label = label or _("%(key)s (not registered)") % {"key": definition.source}  # type: ignore[attr-defined]
    return render(
        request,
        "kpi/manage_list.html",
        {"definitions": definitions, "can_add": can(request.user, "add", KpiDefinition)},
    )


# --- a definition ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def kpi_manage_create(request: HttpRequest) -> HttpResponse:
    _require(request, "add")
    if request.method == "GET":
        form = KpiDefinitionForm(initial={"is_active": True, "amber_tolerance": 0, "sort_order": 0})
        return _render_create(request, form)
    form = KpiDefinitionForm(request.POST)
    if form.is_valid():
        try:
            definition = services.definition_create(actor=acting_user(request), **form.definition_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The KPI %(code)s was created: add its targets.") % {"code": definition.code})
            return HttpResponseRedirect(_manage_url(definition, "targets"))
    return _render_create(request, form, status=400)


def _render_create(request: HttpRequest, form: KpiDefinitionForm, status: int = 200) -> HttpResponse:
    return render(request, "kpi/manage_create.html", {"form": form, "sources_table": _sources_table()}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def kpi_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """One KPI's manage page; POST saves its definition."""
    _require(request)
    definition = _definition(pk)
    has_values = KpiValue.objects.filter(definition=definition).exists()
    if request.method == "GET":
        form = KpiDefinitionForm(instance=_detached(definition), code_fixed=has_values)
        return _render_manage(request, definition, form=form, has_values=has_values)
    # The form writes into its instance while validating: a copy, the service reads the row.
    form = KpiDefinitionForm(request.POST, instance=_detached(definition), code_fixed=has_values)
    if form.is_valid():
        try:
            services.definition_update(definition, actor=acting_user(request), **form.definition_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The definition was saved."))
            return HttpResponseRedirect(_manage_url(definition))
    return _render_manage(request, definition, form=form, has_values=has_values, status=400)


def _detached(definition: KpiDefinition) -> KpiDefinition:
    """A copy of the row for a form to write into while it validates (the service reads the
    row itself; the page keeps showing the stored definition)."""
    names = [field.attname for field in KpiDefinition._meta.concrete_fields]
    copy = KpiDefinition.from_db(None, names, [getattr(definition, name) for name in names])
    copy.breakdowns = list(definition.breakdowns or [])
    return copy


def _render_manage(
    request: HttpRequest,
    definition: KpiDefinition,
    *,
    form: KpiDefinitionForm | None = None,
    has_values: bool | None = None,
    target_form: TargetForm | None = None,
    end_errors: dict[int, TargetEndForm] | None = None,
    value_form: ManualValueForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if has_values is None:
        has_values = KpiValue.objects.filter(definition=definition).exists()
    if form is None:
        form = KpiDefinitionForm(instance=_detached(definition), code_fixed=has_values)
    targets = sorted(
        definition.targets.select_related("organisation", "service"),
        key=lambda t: (
            bool(t.service_id) * 2 + bool(t.organisation_id),
            (t.organisation.name if t.organisation else t.service.name if t.service else ""),
            t.valid_from,
        ),
    )
    end_errors = end_errors or {}
    target_rows = [
        {"target": target, "end_form": end_errors.get(target.pk) or TargetEndForm(prefix=f"end-{target.pk}")}
        for target in targets
    ]
    manual = definition.source == MANUAL
    values: list[KpiValue] = []
    if manual:
        values = list(
            KpiValue.objects.filter(definition=definition, is_current=True)
            .select_related("computed_by")
            .order_by("-period_start", "element_kind", "element_label")[:VALUES_SHOWN]
        )
        if value_form is None:
            value_form = ManualValueForm(
                definition=definition, example=_example(definition), initial={"period": _example(definition)}
            )
    user = request.user
    return render(
        request,
        "kpi/manage_detail.html",
        {
            "definition": definition,
            "form": form,
            "sources_table": _sources_table(),
            # The breakdowns the stored source gives (the others are marked on the form).
            "offered_breakdowns": list(services.supported_breakdowns(definition.source)),
            "mark_breakdowns": definition.source == MANUAL or definition.source in sources(),
            "has_values": has_values,
            "target_rows": target_rows,
            "target_form": target_form or TargetForm(initial={"scope": "all"}),
            "manual": manual,
            "values": values,
            "value_form": value_form,
            "can_add_target": can(user, "add", KpiTarget),
            "can_end_target": can(user, "change", KpiTarget),
            "can_enter_values": manual and can(user, "add", KpiValue),
            "today": timezone.localdate(),
        },
        status=status,
    )


# --- targets -----------------------------------------------------------------------------------


@login_required
@require_POST
def kpi_manage_target_add(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "add", KpiTarget)
    definition = _definition(pk)
    form = TargetForm(request.POST)
    scope_pickers(form, request.user)
    if form.is_valid():
        try:
            services.target_set(definition, actor=acting_user(request), **form.target_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The target was added."))
            return HttpResponseRedirect(_manage_url(definition, "targets"))
    return _render_manage(request, definition, target_form=form, status=400)


@login_required
@require_POST
def kpi_manage_target_end(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    _require(request, "change", KpiTarget)
    definition = _definition(pk)
    target = get_object_or_404(KpiTarget, pk=target_pk, definition=definition)
    form = TargetEndForm(request.POST, prefix=f"end-{target.pk}")
    if form.is_valid():
        try:
            services.target_end(target, actor=acting_user(request), valid_to=form.cleaned_data["valid_to"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("The target ends on %(day)s.") % {"day": form.cleaned_data["valid_to"].isoformat()}
            )
            return HttpResponseRedirect(_manage_url(definition, "targets"))
    return _render_manage(request, definition, end_errors={target.pk: form}, status=400)


# --- a manual KPI's values ---------------------------------------------------------------------


@login_required
@require_POST
def kpi_manage_value(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter one period's value of a manual KPI (a closed period: a new revision, with a reason)."""
    _require(request, "add", KpiValue)
    definition = _definition(pk)
    if definition.source != MANUAL:
        messages.error(request, _("This KPI is computed from its records: its values cannot be entered."))
        return _render_manage(request, definition, status=400)
    form = ManualValueForm(request.POST, definition=definition, example=_example(definition))
    scope_pickers(form, request.user)
    if form.is_valid():
        try:
            value = services.manual_value_set(definition, actor=acting_user(request), **form.value_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            what = value.element_label or value.get_element_kind_display()
            if value.revision > 1:
                text = _("%(period)s, %(what)s: revision %(revision)s stored.")
            else:
                text = _("%(period)s, %(what)s: stored.")
            messages.success(request, text % {"period": value.period_label, "what": what, "revision": value.revision})
            return HttpResponseRedirect(_manage_url(definition, "values"))
    return _render_manage(request, definition, value_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def kpi_manage_import(request: HttpRequest, pk: int) -> HttpResponse:
    """A CSV file of a manual KPI's values: every row stored, or none and every row's errors
    listed with its row number (400)."""
    _require(request, "add", KpiValue)
    definition = _definition(pk)
    context: dict[str, Any] = {
        "definition": definition,
        "columns": services.MANUAL_CSV_COLUMNS,
        "max_rows": services.IMPORT_MAX_ROWS,
        "example": _example(definition),
        "example_before": period_of(definition.cycle, timezone.localdate()).previous().previous().label,
        "kinds": ["overall", *(kind for kind in services.MANUAL_KINDS if kind in definition.breakdowns)],
        "manual": definition.source == MANUAL,
    }
    if request.method == "GET":
        return render(request, "kpi/manage_import.html", {**context, "form": ManualImportForm()})
    form = ManualImportForm(request.POST, request.FILES)
    result = None
    if form.is_valid():
        try:
            result = services.manual_values_import(
                definition, actor=acting_user(request), file=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if result.ok:
                count = len(result.stored)
                messages.success(
                    request, ngettext("%(count)s value stored.", "%(count)s values stored.", count) % {"count": count}
                )
                return HttpResponseRedirect(_manage_url(definition, "values"))
    return render(request, "kpi/manage_import.html", {**context, "form": form, "result": result}, status=400)


urlpatterns = [
    path("kpis/manage/", kpi_manage_list, name="kpi_manage_list"),
    path("kpis/manage/new/", kpi_manage_create, name="kpi_manage_create"),
    path("kpis/manage/<int:pk>/", kpi_manage, name="kpi_manage"),
    path("kpis/manage/<int:pk>/targets/", kpi_manage_target_add, name="kpi_manage_target_add"),
    path("kpis/manage/<int:pk>/targets/<int:target_pk>/end/", kpi_manage_target_end, name="kpi_manage_target_end"),
    path("kpis/manage/<int:pk>/values/", kpi_manage_value, name="kpi_manage_value"),
    path("kpis/manage/<int:pk>/import/", kpi_manage_import, name="kpi_manage_import"),
]
