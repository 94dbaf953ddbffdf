"""FilterSets of the service catalogue, agreements and targets, shared by the pages and the API."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core import pickers as core_pickers
from itsm.core.filters import YesNoFilter
from itsm.core.pickers import PickerFilter

from . import pickers
from .choices import AgreementKind, AgreementStatus, Metric, Priority, ServiceStatus, TargetUnit
from .models import Agreement, Service, ServiceLevelTarget
from .selectors import EXPIRING_WITHIN_DAYS


class ServiceFilter(django_filters.FilterSet):
    """Services by code, name or description (``q``), status and category."""

    q = django_filters.CharFilter(method="search", label=_("Search code, name or description"))
    status = django_filters.MultipleChoiceFilter(choices=ServiceStatus.choices, label=_("Status"))
    category = django_filters.CharFilter(
        field_name="category", lookup_expr="iexact", label=pgettext_lazy("service", "category")
    )

    class Meta:
        model = Service
        fields = ["q", "status", "category"]

    def search(self, queryset: QuerySet[Service], name: str, value: str) -> QuerySet[Service]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value))


class AgreementFilter(django_filters.FilterSet):
    """Agreements by number, title or counterparty (``q``), kind, status, counterparty,
    service, expiring within 60 days, review overdue."""

    q = django_filters.CharFilter(method="search", label=_("Search number, title or counterparty"))
    kind = django_filters.ChoiceFilter(choices=AgreementKind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(choices=AgreementStatus.choices, label=_("Status"))
    counterparty = PickerFilter(core_pickers.organisations, label=_("Counterparty"))
    service = PickerFilter(pickers.services, field_name="services", label=_("Service"))
    expiring = YesNoFilter(method="filter_expiring", label=_("Ends within 60 days"))
    review_overdue = YesNoFilter(method="filter_review_overdue", label=_("Review overdue"))

    class Meta:
        model = Agreement
        fields = ["q", "kind", "status", "counterparty", "service", "expiring", "review_overdue"]

    def search(self, queryset: QuerySet[Agreement], name: str, value: str) -> QuerySet[Agreement]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(title__icontains=value) | Q(counterparty__name__icontains=value)
        )

    def filter_expiring(self, queryset: QuerySet[Agreement], name: str, value: bool | None) -> QuerySet[Agreement]:
        if value is None:
            return queryset
        today = timezone.localdate()
        soon = Q(
            status=AgreementStatus.ACTIVE,
            valid_to__gte=today,
            valid_to__lte=today + timedelta(days=EXPIRING_WITHIN_DAYS),
        )
        return queryset.filter(soon) if value else queryset.exclude(soon)

    def filter_review_overdue(
        self, queryset: QuerySet[Agreement], name: str, value: bool | None
    ) -> QuerySet[Agreement]:
        if value is None:
            return queryset
        overdue = Q(status=AgreementStatus.ACTIVE, next_review_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class TargetFilter(django_filters.FilterSet):
    """Targets by agreement, kind of agreement, metric, priority and unit."""

    agreement = PickerFilter(pickers.agreements, label=_("Agreement"))
    kind = django_filters.ChoiceFilter(field_name="agreement__kind", choices=AgreementKind.choices, label=_("Kind"))
    metric = django_filters.ChoiceFilter(choices=Metric.choices, label=_("Metric"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))
    unit = django_filters.ChoiceFilter(choices=TargetUnit.choices, label=_("Unit"))

    class Meta:
        model = ServiceLevelTarget
        fields = ["agreement", "kind", "metric", "priority", "unit"]
