"""Reads of KPIs for the pages: stored values only, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from itsm.core.calendar import default_calendar

from .forecast import midpoint, misses
from .models import ElementKind, KpiDefinition, KpiForecast, KpiValue

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
    forecasts = running_forecasts(definitions)
    return [
        {
            "definition": d,
            "current": _headline(trends[d.pk]),
            "trend": trends[d.pk][::-1],
            "forecast": forecasts.get(d.pk),
        }
        for d in definitions
    ]


def running_forecasts(definitions: list[KpiDefinition]) -> dict[int, KpiForecast]:
    """Each KPI's newest forecast of a period still running (one query): what its card and its
    page show beside the value."""
    newest = KpiForecast.objects.filter(definition=OuterRef("pk"), backtest=False).order_by("-made_on", "-pk")
    ids = (
        KpiDefinition.objects.filter(pk__in=[d.pk for d in definitions])
        .annotate(forecast_id=Subquery(newest.values("pk")[:1]))
        .values_list("forecast_id", flat=True)
    )
    forecasts = KpiForecast.objects.filter(pk__in=Subquery(ids), period_end__gte=timezone.localdate())
    return {forecast.definition_id: forecast for forecast in forecasts}


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


ACCURACY_PERIODS = 6


def forecast_accuracy(definition: KpiDefinition, closed: list[KpiValue]) -> dict[str, Any]:
    """For the last closed periods (overall values, newest first): the forecast made at
    mid-period beside the value that came out — its error, whether the value fell in its range,
    whether its "heading for a miss" was right (one query)."""
    closed = [value for value in closed if value.closed][:ACCURACY_PERIODS]
    by_period = {
        (f.period_start, f.made_on): f
        for f in KpiForecast.objects.filter(definition=definition, period_start__in=[v.period_start for v in closed])
    }
    rows = []
    calendar = default_calendar()
    for value in closed:
        period = _period(definition, value)
        forecast = by_period.get((value.period_start, midpoint(period, calendar)))
        if forecast is None or forecast.projected is None:
            continue
        error = value.value - forecast.projected if value.value is not None else None
        within = value.value is not None and forecast.low <= value.value <= forecast.high
        missed = misses(value.value, value.target, definition.direction)
        rows.append(
            {
                "value": value,
                "forecast": forecast,
                "error": error,
                "within": within,
                "call_right": value.value is not None and forecast.heading_for_miss == missed,
            }
        )
    errors = [abs(row["error"]) for row in rows if row["error"] is not None]
    return {
        "rows": rows,
        "mean_error": (sum(errors) / len(errors)).quantize(Decimal("0.01")) if errors else None,
        "within": sum(row["within"] for row in rows),
        "calls_right": sum(row["call_right"] for row in rows),
    }


def _period(definition: KpiDefinition, value: KpiValue):
    from itsm.core.periods import Period

    return Period(value.period_start, value.period_end, definition.cycle)
