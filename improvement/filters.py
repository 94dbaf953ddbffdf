"""FilterSets of continual improvement, shared by the pages and the API: the register
(``ItemFilter``) and the service improvement plans (``PlanFilter``)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core import pickers as core_pickers
from itsm.core.filters import YesNoFilter
from itsm.core.pickers import PickerFilter

from . import pickers
from .choices import ItemStatus, PlanStatus, Priority, Stage
from .models import ImprovementItem, ImprovementPlan
from .registry import source_choices
from .selectors.items import overdue_q
from .selectors.plans import overdue_actions_q, statuses_of_stage


def _search(queryset: QuerySet, value: str) -> QuerySet:
    value = value.strip()
    if not value:
        return queryset
    return queryset.filter(Q(reference__icontains=value) | Q(title__icontains=value))


class ItemFilter(django_filters.FilterSet):
    """Items by reference or title (``q``), kind of source (and one source record), status,
    priority, owner, plan, and overdue (past the close-by date and still open)."""

    q = django_filters.CharFilter(method="search", label=_("Search reference or title"))
    source_kind = django_filters.ChoiceFilter(choices=source_choices, label=_("Kind of source"))
    source_id = django_filters.NumberFilter(label=_("Source record"))
    status = django_filters.MultipleChoiceFilter(choices=ItemStatus.choices, label=_("Status"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))
    owner = PickerFilter(core_pickers.users, label=pgettext_lazy("improvement", "Owner"))
    plan = PickerFilter(pickers.plans, label=_("Improvement plan"))
    overdue = YesNoFilter(method="filter_overdue", label=_("Overdue"))

    class Meta:
        model = ImprovementItem
        fields = ["q", "source_kind", "source_id", "status", "priority", "owner", "plan", "overdue"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _search(queryset, value)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        late = overdue_q()
        return queryset.filter(late) if value else queryset.exclude(late)


class PlanFilter(django_filters.FilterSet):
    """Plans by reference or title (``q``), status, PDCA stage, owner, with overdue actions, and
    with the effectiveness review overdue."""

    q = django_filters.CharFilter(method="search", label=_("Search reference or title"))
    status = django_filters.MultipleChoiceFilter(choices=PlanStatus.choices, label=_("Status"))
    stage = django_filters.ChoiceFilter(choices=Stage.choices, method="filter_stage", label=_("PDCA stage"))
    owner = PickerFilter(core_pickers.users, label=pgettext_lazy("improvement", "Owner"))
    overdue_actions = YesNoFilter(method="filter_overdue_actions", label=_("Actions overdue"))
    review_overdue = YesNoFilter(method="filter_review_overdue", label=_("Effectiveness review overdue"))

    class Meta:
        model = ImprovementPlan
        fields = ["q", "status", "stage", "owner", "overdue_actions", "review_overdue"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _search(queryset, value)

    def filter_stage(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(status__in=statuses_of_stage(value)) if value else queryset

    def filter_overdue_actions(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        late = overdue_actions_q()
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_review_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        late = Q(status=PlanStatus.EFFECTIVENESS_REVIEW, review_due_on__lt=timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)
