"""FilterSets of the improvement API's lists: the register (``/api/v1/improvement-items/``)
and the plans (``/api/v1/improvement-plans/``). Values are checked: an unknown status, kind or
user is a 400 naming the parameter, never an empty list that looks like an answer."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers as core_pickers
from itsm.core.filters import YesNoFilter
from itsm.core.pickers import PickerFilter

from ..choices import ITEM_OPEN_STATUSES, STAGE_OF_STATUS, ItemStatus, PlanStatus, Priority, Stage
from ..models import ImprovementItem, ImprovementPlan
from ..registry import source_choices


def _search(queryset: QuerySet, value: str) -> QuerySet:
    value = value.strip()
    if not value:
        return queryset
    return queryset.filter(Q(reference__icontains=value) | Q(title__icontains=value))


def overdue_items() -> Q:
    """Still to be worked on and past its close-by date."""
    return Q(status__in=ITEM_OPEN_STATUSES, target_date__lt=timezone.localdate())


class ItemApiFilterSet(django_filters.FilterSet):
    """Items by reference or title (``q``), status (repeatable), priority, kind of source,
    owner, plan, and whether they are overdue."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=ItemStatus.choices, label=_("Status"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))
    source_kind = django_filters.ChoiceFilter(choices=source_choices, label=_("Source"))
    owner = PickerFilter(core_pickers.users, label=_("Owner"))
    plan = django_filters.ModelChoiceFilter(queryset=ImprovementPlan.objects.all(), label=_("Improvement plan"))
    overdue = YesNoFilter(method="filter_overdue", label=_("Overdue"))

    class Meta:
        model = ImprovementItem
        fields = ["q", "status", "priority", "source_kind", "owner", "plan", "overdue"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _search(queryset, value)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(overdue_items()) if value else queryset.exclude(overdue_items())


class PlanApiFilterSet(django_filters.FilterSet):
    """Plans by reference or title (``q``), status (repeatable), PDCA stage and owner."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=PlanStatus.choices, label=_("Status"))
    stage = django_filters.ChoiceFilter(choices=Stage.choices, method="filter_stage", label=_("PDCA stage"))
    owner = PickerFilter(core_pickers.users, label=_("Owner"))

    class Meta:
        model = ImprovementPlan
        fields = ["q", "status", "stage", "owner"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _search(queryset, value)

    def filter_stage(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(status__in=[status for status, stage in STAGE_OF_STATUS.items() if stage == value])
