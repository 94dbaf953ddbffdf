"""Type-ahead pickers of the service-level pages (``itsm.core.pickers``): services,
agreements and their targets. Each needs the view permission of its model."""

from __future__ import annotations

from itsm.core.pickers import Picker, choice_param, choices_param, flag_param, int_param

from .choices import AgreementKind, AgreementStatus, ServiceStatus
from .models import Agreement, Service, ServiceLevelTarget
from .underpinning import target_label


class ServicePicker(Picker):
    """Catalogue services by code or name; ``current=1``: not retired."""

    name = "services"
    model = Service
    params = ("current",)
    search_fields = ("code", "name")
    ordering = ("code", "pk")

    def queryset(self, params=None):
        queryset = super().queryset(params)
        if flag_param(params or {}, "current"):
            queryset = queryset.exclude(status=ServiceStatus.RETIRED)
        return queryset

    def label(self, obj, params=None):
        if obj.status == ServiceStatus.RETIRED:
            return f"{obj.code} · {obj.name} ({obj.get_status_display()})"
        return f"{obj.code} · {obj.name}"


class AgreementPicker(Picker):
    """Agreements by number, title or counterparty; ``kind`` (sla / ola / uc), ``status``
    (comma-separated statuses)."""

    name = "agreements"
    model = Agreement
    params = ("kind", "status")
    search_fields = ("number", "title", "counterparty__name")
    ordering = ("number", "pk")

    def queryset(self, params=None):
        params = params or {}
        queryset = super().queryset(params)
        kind = choice_param(params, "kind", AgreementKind.values)
        if kind:
            queryset = queryset.filter(kind=kind)
        statuses = choices_param(params, "status", AgreementStatus.values)
        if statuses:
            queryset = queryset.filter(status__in=statuses)
        return queryset

    def label(self, obj, params=None):
        return f"{obj.number} {obj.title}"


class TargetPicker(Picker):
    """Service level targets by their agreement's number or title, priority or name;
    ``measurable=1``: of agreements past the draft; ``agreement=<id>``; ``kind`` of agreement;
    ``service=<id>``: of agreements covering that service. Labelled with the agreement's
    number, since standard targets read alike across agreements."""

    name = "targets"
    model = ServiceLevelTarget
    params = ("measurable", "agreement", "kind", "service")
    search_fields = ("agreement__number", "agreement__title", "priority", "name")
    ordering = ("agreement__number", "priority", "metric", "pk")
    select_related = ("agreement", "calendar")

    def queryset(self, params=None):
        params = params or {}
        queryset = super().queryset(params)
        if flag_param(params, "measurable"):
            queryset = queryset.exclude(agreement__status=AgreementStatus.DRAFT)
        agreement = int_param(params, "agreement")
        if agreement is not None:
            queryset = queryset.filter(agreement_id=agreement)
        kind = choice_param(params, "kind", AgreementKind.values)
        if kind:
            queryset = queryset.filter(agreement__kind=kind)
        service = int_param(params, "service")
        if service is not None:
            covering = Agreement.objects.filter(services=service).values("pk")
            queryset = queryset.filter(agreement__in=covering)
        return queryset

    def label(self, obj, params=None):
        return f"{obj.agreement.number} · {target_label(obj)}"


services = ServicePicker()
agreements = AgreementPicker()
targets = TargetPicker()

urlpatterns = [picker.urlpattern() for picker in (services, agreements, targets)]
