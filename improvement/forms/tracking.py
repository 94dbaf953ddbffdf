"""The tracking sheet's filters (``improvement.selectors.tracking``): source kind, item status,
action status, the person responsible, overdue and a period; shared by the page and its export,
so a file holds exactly the rows the page shows."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers
from itsm.core.filters import YesNoFilter
from itsm.core.periods import Period
from itsm.core.pickers import PickerFilter

from ..choices import ActionStatus, ItemStatus
from ..models import ImprovementItem
from ..registry import source_choices
from ..selectors.tracking import PERIOD_HELP, not_overdue_q, overdue_q, parse_period, period_q, responsible_q


class PeriodField(forms.CharField):
    """A month, quarter or half-year by its label; cleans to a ``Period``."""

    def clean(self, value) -> Period | None:  # type: ignore[override]
        text = super().clean(value)
        return parse_period(text) if text else None


class PeriodFilter(django_filters.Filter):
    field_class = PeriodField


class TrackingFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    source_kind = django_filters.ChoiceFilter(choices=source_choices, label=_("Source"))
    status = django_filters.MultipleChoiceFilter(choices=ItemStatus.choices, label=_("Item status"))
    action_status = django_filters.MultipleChoiceFilter(
        choices=ActionStatus.choices, method="filter_action_status", label=_("Action status")
    )
    # The person responsible for the row: the action's owner, or the item's without an action.
    owner = PickerFilter(pickers.users, method="filter_owner", label=_("Responsible"))
    overdue = YesNoFilter(method="filter_overdue", label=_("Overdue"))
    period = PeriodFilter(
        method="filter_period",
        label=_("Raised or due in"),
        help_text=PERIOD_HELP,
        widget=forms.TextInput(attrs={"placeholder": "2026-Q4", "inputmode": "text"}),
    )

    class Meta:
        model = ImprovementItem
        fields = ["q", "source_kind", "status", "action_status", "owner", "overdue", "period"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value) | Q(title__icontains=value) | Q(action_title__icontains=value)
        )

    def filter_action_status(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(action_status__in=value) if value else queryset

    def filter_owner(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(responsible_q(value.pk)) if value is not None else queryset

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(overdue_q() if value else not_overdue_q())

    def filter_period(self, queryset: QuerySet, name: str, value: Period | None) -> QuerySet:
        return queryset.filter(period_q(value)) if value is not None else queryset
