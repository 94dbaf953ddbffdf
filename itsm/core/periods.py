"""Reporting periods and the day their report falls due (reference 000 §10.4, SPEC §7).

A period is a run of calendar days in the business calendar's zone: a week (Monday to Sunday),
a month, a quarter, a half-year or a year. Its report is due:

* monthly — by the 10th of the next month (“每月”为每月10号前);
* quarterly — by the 10th of the first month of the next quarter;
* half-yearly — by the 15th of the first month of the next half-year;
* yearly — by the 20th of January of the next year;
* weekly — by the Monday after the week (the Monday meeting);

and a due day that is not a working day moves to the next working day (如遇节假日可顺延), by the
calendar's holidays and 调休 (``itsm.core.calendar``). KPIs close their periods by this rule
and reporting obligations fall due by it: this is the one place it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from . import calendar as business_calendar
from .models import Calendar


class Cycle(models.TextChoices):
    WEEKLY = "weekly", _("weekly")
    MONTHLY = "monthly", _("monthly")
    QUARTERLY = "quarterly", _("quarterly")
    HALF_YEARLY = "half_yearly", _("half-yearly")
    YEARLY = "yearly", _("yearly")


# Months per period of a cycle counted in months.
_MONTHS = {Cycle.MONTHLY: 1, Cycle.QUARTERLY: 3, Cycle.HALF_YEARLY: 6, Cycle.YEARLY: 12}
# The day of the month after the period by which its report is due.
_DUE_DAY = {Cycle.MONTHLY: 10, Cycle.QUARTERLY: 10, Cycle.HALF_YEARLY: 15, Cycle.YEARLY: 20}


@dataclass(frozen=True, order=True)
class Period:
    """``start`` ≤ day ≤ ``end`` (both inclusive) of one ``cycle``."""

    start: date
    end: date
    cycle: str

    @property
    def label(self) -> str:
        """``2026-W42``, ``2026-10``, ``2026-Q4``, ``2026-H2``, ``2026``."""
        cycle, start = Cycle(self.cycle), self.start
        if cycle is Cycle.WEEKLY:
            year, week, _weekday = start.isocalendar()
            return f"{year}-W{week:02d}"
        if cycle is Cycle.MONTHLY:
            return f"{start.year}-{start.month:02d}"
        if cycle is Cycle.QUARTERLY:
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        if cycle is Cycle.HALF_YEARLY:
            return f"{start.year}-H{1 if start.month <= 6 else 2}"
        return str(start.year)

    def next(self) -> Period:
        return period_of(self.cycle, self.end + timedelta(days=1))

    def previous(self) -> Period:
        return period_of(self.cycle, self.start - timedelta(days=1))

    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, calendar: Calendar | None = None) -> tuple[datetime, datetime]:
        """The period as aware datetimes ``[start, end)`` in the calendar's zone: what a query
        over stored UTC moments filters on."""
        zone = business_calendar.zone_of(calendar)
        first = datetime.combine(self.start, time.min, tzinfo=zone)
        after = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone)
        return first, after


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_of(cycle: str, day: date) -> Period:
    """The period of ``cycle`` that holds ``day``."""
    cycle = Cycle(cycle)
    if cycle is Cycle.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=6), cycle.value)
    months = _MONTHS[cycle]
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return Period(start, _add_months(start, months) - timedelta(days=1), cycle.value)


def period_from_label(cycle: str, label: str) -> Period:
    """The period a label names (``2026-H2`` for half-yearly); ``ValueError`` otherwise."""
    cycle = Cycle(cycle)
    if not (label[:4].isdigit() and (len(label) == 4 or label[4:5] == "-")):
        raise ValueError(f"not a {cycle.value} period: {label!r}")
    try:
        if cycle is Cycle.WEEKLY:
            year, week = label.split("-W")
            return period_of(cycle, date.fromisocalendar(int(year), int(week), 1))
        if cycle is Cycle.YEARLY:
            return period_of(cycle, date(int(label), 1, 1))
        year, part = label.split("-")
        if cycle is Cycle.MONTHLY:
            return period_of(cycle, date(int(year), int(part), 1))
        if cycle is Cycle.QUARTERLY and part[0] == "Q" and part[1:] in "1234":
            return period_of(cycle, date(int(year), (int(part[1:]) - 1) * 3 + 1, 1))
        if cycle is Cycle.HALF_YEARLY and part in ("H1", "H2"):
            return period_of(cycle, date(int(year), 1 if part == "H1" else 7, 1))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not a {cycle.value} period: {label!r}") from exc
    raise ValueError(f"not a {cycle.value} period: {label!r}")


def rule_day(period: Period) -> date:
    """The due day by the rule alone, before the shift past holidays (shown beside the
    shifted one, so a reader sees why a report is due on the 12th)."""
    after = period.end + timedelta(days=1)
    if Cycle(period.cycle) is Cycle.WEEKLY:
        return after  # the Monday after the week
    return after.replace(day=_DUE_DAY[Cycle(period.cycle)])


def report_due(period: Period, calendar: Calendar | None = None) -> date:
    """The day ``period``'s report falls due (see the module), moved past non-working days."""
    return business_calendar.working_day_on_or_after(rule_day(period), calendar)


def closed_periods(cycle: str, today: date, *, count: int, calendar: Calendar | None = None) -> list[Period]:
    """The last ``count`` periods of ``cycle`` whose report fell due on or before ``today``,
    oldest first: the ones a KPI freezes."""
    period = period_of(cycle, today).previous()
    while report_due(period, calendar) > today:
        period = period.previous()
    periods = [period]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods[::-1]
