"""Eighteen months of KPI history for ``manage.py load_demo`` (issue 12 §12): the records behind
every computed KPI, spread over the months before today, and their periods closed as the
periodic check would have closed them, so the dashboard shows trends, the forecast has earlier
periods to learn from, and the KPI pages have something to drill into.

* ``people``: a few more business contacts at each customer, the engineers behind the tickets;
* ``callbacks``: 11–23 resolved tickets a working day and their call-backs (satisfaction drifts
  down to amber in the last months and falls day by day in the running one);
* ``complaints``: 5–9 closed complaints a month (the reply time grows: amber in the last closed
  half-year, red in the running one);
* ``campaigns``: two survey campaigns a half-year;
* ``improvements``: a service improvement plan a month with its actions and items, mostly done
  on time (the two improvement KPIs green, a few late).

SLA measurements are the catalogue demo's own (``sla.demo``: the twelve months before this one).
Then each KPI's periods since the history began are closed oldest first when their report has
fallen due (``itsm.core.periods.report_due``), computed while still open, and the running one
forecast. Targets in force before the seeded ones (from 2026) are added for the earlier months.

The same demo whatever ids the database hands out (one seeded random source). Loaded once: the
history's tickets carry ``common.MARKER``; when they exist nothing is done. It runs after every
other app's demo (``load_demo`` calls it last): it closes periods over their records too.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from itsm.core import calendar as business_calendar
from itsm.core.models import User
from itsm.core.periods import period_of, report_due
from surveys.models import Ticket

from ..models import MANUAL, KpiDefinition
from ..registry import sources
from ..services import kpi_close, kpi_compute, target_set
from .callbacks import load_callbacks
from .campaigns import load_campaigns
from .common import MARKER, MONTHS, History, month_start
from .complaints import load_complaints
from .improvements import load_improvements
from .people import load_people

USERS = ("desk", "brm", "satisfaction", "owner")


def load(stdout) -> int:
    """Load the history unless it is there; returns the rows created."""
    if Ticket.objects.filter(external_id__startswith=MARKER).exists():
        return 0
    users = {user.username: user for user in User.objects.filter(username__in=USERS, is_active=True)}
    if len(users) < len(USERS):
        stdout.write("kpi history: demo users missing, no history created\n")
        return 0
    now = timezone.now()
    calendar = business_calendar.default_calendar()
    today = timezone.localtime(now, business_calendar.zone_of(calendar)).date()
    history = History(now=now, start=month_start(today, MONTHS), calendar=calendar, users=users)
    created = _earlier_targets(history)
    created += load_people(history)
    created += load_callbacks(history)
    created += load_complaints(history)
    created += load_improvements(history)
    created += load_campaigns(history)
    values = _close_and_compute(history.start, today)
    stdout.write(f"kpi history: {created} records since {history.start:%Y-%m}, {values} KPI values\n")
    return created + values


def _earlier_targets(history: History) -> int:
    """Each KPI's general target back to the start of the history's first year, where the
    seeded one starts later (the migration's targets hold from 2026-01-01)."""
    first = date(history.start.year, 1, 1)
    created = 0
    for definition in KpiDefinition.objects.prefetch_related("targets"):
        general = sorted(
            (t for t in definition.targets.all() if t.organisation_id is None and t.service_id is None),
            key=lambda t: t.valid_from,
        )
        if not general or general[0].valid_from <= first:
            continue
        target_set(
            definition,
            actor=history.users["owner"],
            value=general[0].value,
            valid_from=first,
            valid_to=general[0].valid_from - timedelta(days=1),
        )
        created += 1
    return created


def _close_and_compute(start: date, today: date) -> int:
    """Every computed KPI's periods from the one holding ``start``: closed oldest first where
    the report has fallen due, computed where not; the running period forecast."""
    from ..forecast import forecast_update

    known = sources()
    values = 0
    definitions = KpiDefinition.objects.filter(is_active=True).exclude(source=MANUAL).order_by("sort_order")
    for definition in definitions:
        if definition.source not in known:
            continue
        running = period_of(definition.cycle, today)
        periods, period = [], period_of(definition.cycle, start)
        while period.start < running.start:
            periods.append(period)
            period = period.next()
        for period in periods:
            if report_due(period) <= today:
                kpi_close(definition, period)
            else:
                kpi_compute(definition, period)
        kpi_compute(definition, running)
        forecast_update(definition, running, today)
        values += definition.values.count()
    return values
