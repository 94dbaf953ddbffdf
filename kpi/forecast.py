"""Where a running KPI period is heading, said early enough to act (issue 12 §5).

``project(definition, period, as_of)`` works out the period-end value from the records of the
working days gone before ``as_of``, with the definition's own source (one aggregate query per
window, overall only):

* **Run-rate.** The denominator keeps arriving at the pace of the days gone (working days gone
  vs in the period, by the calendar); the records still to come score like the *recent* ones
  (the last third of the days gone, at least one working day), so a KPI falling within the
  period projects below its average so far. A count (unit ``count``) keeps growing at the
  recent pace.
* **Earlier years' shape.** Where the same period of one or two earlier years closed with a
  value, its value at the same share of working days is put beside its final value: the
  change from there to the end (a count: the ratio) is applied to this period's value so far,
  and the projection is the mean of the run-rate's and the earlier years'.
* **Range.** From the lowest to the highest of these projections (the run-rate, the value so
  far, each earlier year's), widened for a percentage by the sampling error of the records
  still to come (95 %, binomial at the recent rate).

The projection is *heading for a miss* when it does not meet the target in force at the
period's end (the amber tolerance is not a pass). ``forecast_update`` stores the day's
forecast (one row per KPI, period and day; run again the same day it is updated in place) and
mails the KPI's owner — the process owners when it has none — once per KPI and period, when it
first heads for a miss after ``MIN_WORKING_DAYS`` working days (held to working hours by the
mail queue). ``forecast_backtest`` works out, for a period closing, the forecast at its
mid-period from its records where none was kept that day, so the KPI page can show what the
forecast said at mid-period against the value that came out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from itsm.core import calendar as business_calendar
from itsm.core.models import Calendar
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.periods import Period, period_of

from .models import Direction, ElementKind, KpiDefinition, KpiForecast, KpiValue, Unit
from .registry import OVERALL, Figures, KpiSource, source
from .services import target_for

# Before this many working days are gone a forecast is shown but no warning is mailed.
MIN_WORKING_DAYS = 3
# The recent window: this share of the working days gone (at least one day).
RECENT_SHARE = Decimal(1) / 3
YEARS_BACK = 2
Z_95 = Decimal("1.96")
PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Projection:
    as_of: date
    fraction: Decimal
    days_gone: int
    so_far: Decimal | None
    projected: Decimal | None
    low: Decimal | None
    high: Decimal | None
    target: Decimal | None
    heading_for_miss: bool
    seasonal: bool


def working_days(start: date, end: date, calendar: Calendar | None = None) -> list[date]:
    """The working days from ``start`` to ``end``, both included, by ``calendar`` (the default
    calendar, read once, when None)."""
    calendar = calendar if calendar is not None else business_calendar.default_calendar()
    days, day = [], start
    while day <= end:
        if business_calendar.is_working_day(day, calendar):
            days.append(day)
        day += timedelta(days=1)
    return days


def midpoint(period: Period, calendar: Calendar | None = None) -> date:
    """The day by which half the period's working days are gone (a forecast made that day
    counts the first half): the day after the last working day of the first half."""
    days = working_days(period.start, period.end, calendar)
    if len(days) < 2:
        return period.start
    return days[len(days) // 2 - 1] + timedelta(days=1)


def _figures(kpi_source: KpiSource, period: Period, first: date, last: date) -> Figures:
    """The overall figures of the records of ``first``–``last`` (days of ``period``)."""
    figures = kpi_source.compute(Period(first, last, period.cycle), OVERALL)
    return figures.get(0, Figures(Decimal(0), Decimal(0)))


def _bounded(value: Decimal, unit: str) -> Decimal:
    value = max(value, Decimal(0))
    return min(value, Decimal(100)) if unit == Unit.PERCENT else value


def _earlier_years(definition: KpiDefinition, period: Period) -> list[tuple[Period, Decimal]]:
    """The same period of earlier years that closed with a value, and that value (one query)."""
    starts = [period.start.replace(year=period.start.year - years) for years in range(1, YEARS_BACK + 1)]
    closed = KpiValue.objects.filter(
        definition=definition,
        element_kind=ElementKind.OVERALL,
        is_current=True,
        closed=True,
        period_start__in=starts,
        value__isnull=False,
    ).values_list("period_start", "value")
    return [(period_of(period.cycle, start), value) for start, value in closed if value is not None]


def project(definition: KpiDefinition, period: Period, as_of: date) -> Projection | None:
    """The forecast of ``period``'s overall value made on ``as_of`` (from the records of the
    days before it); None when no working day of the period is gone yet or it is over."""
    kpi_source = source(definition.source)
    days = working_days(period.start, period.end)
    gone = [day for day in days if day < as_of]
    if not gone or len(gone) == len(days):
        return None
    last = as_of - timedelta(days=1)
    fraction = (Decimal(len(gone)) / Decimal(len(days))).quantize(PLACES)
    target = target_for(definition, period.end)
    so_far_figures = _figures(kpi_source, period, period.start, last)
    so_far = kpi_source.value(so_far_figures)
    empty = Projection(as_of, fraction, len(gone), so_far, None, None, None, target, False, False)
    if so_far is None:
        return empty
    count_like = definition.unit == Unit.COUNT
    recent_days = gone[-max(1, math.ceil(len(gone) * RECENT_SHARE)) :]
    recent = _figures(kpi_source, period, recent_days[0], last)
    remaining = Decimal(len(days) - len(gone))
    margin = Decimal(0)
    if count_like:
        pace = recent.numerator / Decimal(len(recent_days))
        run_rate = kpi_source.value(Figures(so_far_figures.numerator + pace * remaining, so_far_figures.denominator))
    else:
        still_to_come = so_far_figures.denominator * remaining / Decimal(len(gone))
        rate = (recent.numerator / recent.denominator) if recent.denominator else None
        if rate is None:
            rate = so_far_figures.numerator / so_far_figures.denominator
        end = Figures(so_far_figures.numerator + rate * still_to_come, so_far_figures.denominator + still_to_come)
        run_rate = kpi_source.value(end)
        if definition.unit == Unit.PERCENT and still_to_come > 0 and 0 <= rate <= 1:
            spread = (rate * (1 - rate) / still_to_come).sqrt()
            margin = Z_95 * spread * still_to_come / end.denominator * 100
    assert run_rate is not None  # noqa: S101 — the denominator is positive here
    shapes = []
    for earlier, final in _earlier_years(definition, period):
        earlier_days = working_days(earlier.start, earlier.end)
        cut = round(float(fraction) * len(earlier_days))
        if not cut:
            continue
        then = kpi_source.value(_figures(kpi_source, earlier, earlier.start, earlier_days[cut - 1]))
        if then is None:
            continue
        if count_like:
            if then > 0:
                shapes.append(so_far * final / then)
        else:
            shapes.append(so_far + (final - then))
    projected = (run_rate + sum(shapes, Decimal(0)) / len(shapes)) / 2 if shapes else run_rate
    candidates = [run_rate, so_far if not count_like else run_rate, *shapes, projected]
    projected = _bounded(projected, definition.unit).quantize(PLACES)
    low = _bounded(min(candidates) - margin, definition.unit).quantize(PLACES)
    high = _bounded(max(candidates) + margin, definition.unit).quantize(PLACES)
    return Projection(
        as_of=as_of,
        fraction=fraction,
        days_gone=len(gone),
        so_far=so_far,
        projected=projected,
        low=low,
        high=high,
        target=target,
        heading_for_miss=misses(projected, target, definition.direction),
        seasonal=bool(shapes),
    )


def misses(value: Decimal | None, target: Decimal | None, direction: str) -> bool:
    """Whether ``value`` falls short of ``target`` (the amber tolerance is not a pass)."""
    if value is None or target is None:
        return False
    return value < target if direction == Direction.AT_LEAST else value > target


def _store(definition: KpiDefinition, period: Period, projection: Projection, *, backtest: bool) -> KpiForecast:
    forecast, _created = KpiForecast.objects.update_or_create(
        definition=definition,
        period_start=period.start,
        made_on=projection.as_of,
        defaults={
            "period_end": period.end,
            "period_label": period.label,
            "fraction": projection.fraction,
            "value_so_far": projection.so_far,
            "projected": projection.projected,
            "low": projection.low,
            "high": projection.high,
            "target": projection.target,
            "heading_for_miss": projection.heading_for_miss,
            "seasonal": projection.seasonal,
            "backtest": backtest,
            "computed_at": timezone.now(),
        },
    )
    return forecast


def forecast_update(definition: KpiDefinition, period: Period, today: date) -> KpiForecast | None:
    """Store today's forecast of the running ``period`` and, when it first heads for a miss
    (after ``MIN_WORKING_DAYS`` working days), warn the KPI's owner once for the period."""
    projection = project(definition, period, today)
    if projection is None:
        return None
    with transaction.atomic():
        forecast = _store(definition, period, projection, backtest=False)
        if projection.heading_for_miss and projection.days_gone >= MIN_WORKING_DAYS:
            _warn(definition, forecast)
    return forecast


def forecast_backtest(definition: KpiDefinition, period: Period) -> KpiForecast | None:
    """The forecast of ``period`` as of its mid-period: the one kept that day, else worked out
    now from the period's records (marked ``backtest``)."""
    made_on = midpoint(period)
    kept = KpiForecast.objects.filter(definition=definition, period_start=period.start, made_on=made_on).first()
    if kept is not None:
        return kept
    projection = project(definition, period, made_on)
    if projection is None:
        return None
    return _store(definition, period, projection, backtest=True)


def _recipients(definition: KpiDefinition) -> list[Any]:
    from itsm.core.models import User
    from itsm.core.roles import Role

    if definition.owner is not None and definition.owner.is_active and definition.owner.email:
        return [definition.owner]
    return list(
        User.objects.filter(groups__name=Role.PROCESS_OWNER.value, is_active=True).exclude(email="").order_by("pk")
    )


def _warn(definition: KpiDefinition, forecast: KpiForecast) -> None:
    url = f"{settings.SITE_URL}{reverse('kpi_detail', args=[definition.pk])}"
    context = {"definition": definition, "forecast": forecast, "url": url}

    def queue(recipient: Recipient, key: str) -> None:
        notification_queue(key=key, template="kpi/email/heading_for_miss", recipient=recipient, context=context)

    for person in _recipients(definition):
        key = f"kpi:{definition.pk}:{forecast.period_label}:heading-for-miss:{person.pk}"
        transaction.on_commit(partial(queue, Recipient.of(person), key))
