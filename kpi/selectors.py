"""Reads of KPIs for the pages: stored values only, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from .models import ElementKind, KpiDefinition, KpiValue

TREND = 8  # periods on a dashboard card


def dashboard() -> list[dict[str, Any]]:
    """A card per active KPI: its newest overall value with data and the trend of its last
    periods (two queries, whatever the number of KPIs and periods)."""
    definitions = list(KpiDefinition.objects.filter(is_active=True).order_by("sort_order", "code"))
    trends: dict[int, list[KpiValue]] = defaultdict(list)
    values = KpiValue.objects.filter(
        definition__in=definitions, element_kind=ElementKind.OVERALL, is_current=True
    ).order_by("definition_id", "-period_start")
    for value in values:
        if len(trends[value.definition_id]) < TREND:
            trends[value.definition_id].append(value)
    return [{"definition": d, "current": _headline(trends[d.pk]), "trend": trends[d.pk][::-1]} for d in definitions]


def _headline(newest_first: list[KpiValue]) -> KpiValue | None:
    """The value a card leads with: the newest period that has data (a month two days old has
    none yet; the month before says more), else the newest."""
    with_data = [value for value in newest_first if value.value is not None]
    if with_data:
        return with_data[0]
    return newest_first[0] if newest_first else None


def overall_history(definition: KpiDefinition) -> QuerySet[KpiValue]:
    return KpiValue.objects.filter(definition=definition, element_kind=ElementKind.OVERALL, is_current=True).order_by(
        "-period_start"
    )


def breakdown(definition: KpiDefinition, period_label: str) -> QuerySet[KpiValue]:
    return (
        KpiValue.objects.filter(definition=definition, period_label=period_label, is_current=True)
        .exclude(element_kind=ElementKind.OVERALL)
        .order_by("element_kind", "element_label")
    )
