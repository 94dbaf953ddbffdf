"""Type-ahead pickers of the improvement pages (``itsm.core.pickers``): plans and items of the
register. Each needs the view permission of its model."""

from __future__ import annotations

from itsm.core.pickers import Picker, choices_param, flag_param

from .choices import ITEM_OPEN_STATUSES, PLAN_OPEN_STATUSES, ItemStatus
from .models import ImprovementItem, ImprovementPlan


class PlanPicker(Picker):
    """Improvement plans by reference or title; ``open=1``: only plans still open (an item or
    a complaint may join them)."""

    name = "improvement_plans"
    model = ImprovementPlan
    params = ("open",)
    search_fields = ("reference", "title")
    ordering = ("-created_at", "-pk")

    def queryset(self, params=None):
        queryset = super().queryset(params)
        if flag_param(params or {}, "open"):
            queryset = queryset.filter(status__in=PLAN_OPEN_STATUSES)
        return queryset

    def label(self, obj, params=None):
        return f"{obj.reference} {obj.title} ({obj.get_status_display()})"


class ItemPicker(Picker):
    """Register items by reference or title; ``status`` (comma-separated), ``open=1``: not done
    or dismissed."""

    name = "improvement_items"
    model = ImprovementItem
    params = ("status", "open")
    search_fields = ("reference", "title")
    ordering = ("-created_at", "-pk")

    def queryset(self, params=None):
        params = params or {}
        queryset = super().queryset(params)
        statuses = choices_param(params, "status", ItemStatus.values)
        if statuses:
            queryset = queryset.filter(status__in=statuses)
        if flag_param(params, "open"):
            queryset = queryset.filter(status__in=ITEM_OPEN_STATUSES)
        return queryset

    def label(self, obj, params=None):
        return f"{obj.reference} {obj.title}"


plans = PlanPicker()
items = ItemPicker()
OPEN = {"open": "1"}

urlpatterns = [picker.urlpattern() for picker in (plans, items)]
