"""What the parts of the KPI history share: the months it covers, working moments on the
business calendar, and a raw insert for append-only timeline rows whose time lies in the past."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.db import connection, models

from itsm.core import calendar as business_calendar
from itsm.core.models import Calendar, Contact, User

# Months of history before the running one (June 2025 – November 2026 when run in December 2026).
MONTHS = 18
# The external ids of the history's tickets start with it: their presence says the history is loaded.
MARKER = "DEMO-HIST-"


def month_start(day: date, back: int = 0) -> date:
    """The first day of ``day``'s month, ``back`` months earlier."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from ``first``'s to ``last``'s, both included."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = month_start(month, -1)
    return months


@dataclass
class History:
    """The history's frame: when it starts, now, the calendar, the people it involves, a seeded
    random source (the same demo every time, whatever ids the database hands out)."""

    now: datetime
    start: date
    calendar: Calendar
    users: dict[str, User]
    contacts: list[Contact] = field(default_factory=list)
    engineers: list[User] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(2026))  # noqa: S311  (demo data)

    @property
    def today(self) -> date:
        return self.local(self.now).date()

    @property
    def day_seconds(self) -> int:
        """The length of the calendar's working day, in seconds."""
        return int(business_calendar.working_day_length(self.calendar).total_seconds())

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(business_calendar.zone_of(self.calendar))

    def at(self, day: date, clock: time) -> datetime:
        """``day`` at ``clock`` in the calendar's zone (aware)."""
        return datetime.combine(day, clock, tzinfo=business_calendar.zone_of(self.calendar))

    def is_working_day(self, day: date) -> bool:
        return business_calendar.is_working_day(day, self.calendar)

    def working_days(self, first: date, last: date) -> list[date]:
        days, day = [], first
        while day <= last:
            if self.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def working_moment(self, day: date) -> datetime:
        """A moment within the working hours of ``day`` (a working day), at a whole minute."""
        calendar = self.calendar
        opening = datetime.combine(day, calendar.work_start)
        minutes = int((datetime.combine(day, calendar.work_end) - opening).total_seconds() // 60)
        return self.at(day, calendar.work_start) + timedelta(minutes=self.rng.randrange(5, minutes - 5))

    def add_working(self, moment: datetime, days: float) -> datetime:
        """``days`` working days (of the calendar's length) after ``moment``."""
        length = business_calendar.working_day_length(self.calendar)
        return business_calendar.add_working_time(moment, length * days, self.calendar)

    def working_seconds(self, first: datetime, last: datetime) -> int:
        return max(0, int(business_calendar.working_time_between(first, last, self.calendar).total_seconds()))


def pick_exactly(rng: random.Random, items: list[Any], share: float, weight=None) -> set[int]:
    """The indexes of ``round(len(items) × share)`` items, drawn without replacement (``weight``
    makes an item likelier), so a month's figure is the planned one, not a coin's."""
    count = round(len(items) * share)
    keyed = sorted(
        range(len(items)), key=lambda i: rng.random() ** (1 / (weight(items[i]) if weight else 1)), reverse=True
    )
    return set(keyed[:count])


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (field name → value) as given, ``created_at`` included: a timeline row
    is append-only (no UPDATE after ``bulk_create``, whose ``auto_now_add`` would stamp it now)."""
    if not rows:
        return
    fields = [cast(models.Field, model._meta.get_field(name)) for name in rows[0]]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Names from the model's metadata, values as parameters.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    params = [[f.get_db_prep_save(row[f.name], connection) for f in fields] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
