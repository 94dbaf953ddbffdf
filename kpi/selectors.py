"""Reads of KPIs for the pages: stored values only, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from itsm.core.calendar import default_calendar

from .forecast import midpoint, misses
from .models import ElementKind, KpiDefinition, KpiForecast, KpiValue

TREND = 8  # periods on a dashboard card


def dashboard(*, element: tuple[str, int] | None = None, month: date | None = None) -> list[dict[str, Any]]:
    """A card per active KPI: its newest value with data and the trend of its last periods
    (three queries, whatever the number of KPIs and periods).

    ``element`` (kind, id): that organisation's, department's or service's own values, for the
    KPIs broken down by it (the others say so); ``month``: each KPI's period holding that month
    (the month, its quarter, half-year or year) and the periods before it."""
    definitions = list(KpiDefinition.objects.filter(is_active=True).order_by("sort_order", "code"))
    kind, element_id = element or (ElementKind.OVERALL, 0)
    trends: dict[int, list[KpiValue]] = defaultdict(list)
    values = KpiValue.objects.filter(
        definition__in=definitions, element_kind=kind, element_id=element_id, is_current=True
    ).order_by("definition_id", "-period_start")
    if month is not None:
        values = values.filter(period_start__lte=month)
    for value in values:
        if len(trends[value.definition_id]) < TREND:
            trends[value.definition_id].append(value)
    # The running periods' forecasts are of the overall figure, today.
    forecasts = running_forecasts(definitions) if element is None and month is None else {}
    cards = []
    for d in definitions:
        trend = trends[d.pk]
        current = _headline(trend) if month is None else _holding(trend, month)
        cards.append(
            {
                "definition": d,
                "current": current,
                "trend": trend[::-1],
                "forecast": forecasts.get(d.pk),
                "broken_down": kind == ElementKind.OVERALL or kind in d.breakdowns,
            }
        )
    return cards


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


def _holding(newest_first: list[KpiValue], month: date) -> KpiValue | None:
    """The value of the period holding ``month`` (values start on or before it): the newest,
    if its period reaches the month; none stored, no figure."""
    if newest_first and newest_first[0].period_end >= month:
        return newest_first[0]
    return None


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


# The breakdown table's orders (``?sort=``): by element (the default), by value either way
# (elements with no data last), by numerator or denominator, worst first.
BREAKDOWN_ORDERS: dict[str, tuple[Any, ...]] = {
    "element": ("element_kind", "element_label", "element_id"),
    "value": (F("value").asc(nulls_last=True), "element_kind", "element_label"),
    "-value": (F("value").desc(nulls_last=True), "element_kind", "element_label"),
    "denominator": ("denominator", "element_kind", "element_label"),
    "-denominator": ("-denominator", "element_kind", "element_label"),
}


def breakdown(definition: KpiDefinition, period_label: str, sort: str = "element") -> QuerySet[KpiValue]:
    """A period's values by element, ordered by ``sort`` (``BREAKDOWN_ORDERS``; unknown:
    by element)."""
    return (
        KpiValue.objects.filter(definition=definition, period_label=period_label, is_current=True)
        .exclude(element_kind=ElementKind.OVERALL)
        .order_by(*BREAKDOWN_ORDERS.get(sort, BREAKDOWN_ORDERS["element"]))
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
    rows: list[dict[str, Any]] = []
    errors: list[Decimal] = []
    within = calls_right = 0
    calendar = default_calendar()
    for value in closed:
        period = _period(definition, value)
        forecast = by_period.get((value.period_start, midpoint(period, calendar)))
        if forecast is None or forecast.projected is None or forecast.low is None or forecast.high is None:
            continue
        actual = value.value
        error = actual - forecast.projected if actual is not None else None
        inside = actual is not None and forecast.low <= actual <= forecast.high
        right = actual is not None and forecast.heading_for_miss == misses(actual, value.target, definition.direction)
        rows.append({"value": value, "forecast": forecast, "error": error, "within": inside, "call_right": right})
        if error is not None:
            errors.append(abs(error))
        within += inside
        calls_right += right
    return {
        "rows": rows,
        "mean_error": (sum(errors, Decimal(0)) / len(errors)).quantize(Decimal("0.01")) if errors else None,
        "within": within,
        "calls_right": calls_right,
    }


def _period(definition: KpiDefinition, value: KpiValue):
    from itsm.core.periods import Period

    return Period(value.period_start, value.period_end, definition.cycle)
