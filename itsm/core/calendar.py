"""The business calendar: the one place working time is computed.

Every deadline in the product ("2 working days", "4 working hours", "the 10th, shifted past
holidays") is computed here. A day is a working day when

1. an override row for the calendar says so (overrides beat everything), else
2. it is a make-up working day (调休) of the ``holidays`` package, else
3. it is not a public holiday and not a weekend day.

A calendar flagged ``always_open`` (24×7) treats every moment as working time.

Years the ``holidays`` package has no special data for never raise: its fixed-date rules and
the weekend still apply, and overrides still win. An unknown country falls back to Monday to
Friday. Working-day tables are cached per (calendar, version, year); the version is bumped by
every change of a calendar or its overrides, so a cached table is never stale.

All moments are aware datetimes; results are returned in the calendar's time zone.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from .models import Calendar

__all__ = [
    "add_working_days",
    "add_working_time",
    "default_calendar",
    "is_working_day",
    "is_working_moment",
    "next_working_day",
    "next_working_moment",
    "working_day_on_or_after",
    "working_days_between",
    "working_time_between",
]

ONE_DAY = timedelta(days=1)
# Longest run of non-working days we are prepared to walk over before deciding the
# calendar is broken (an override marking a whole year off, say).
_MAX_SCAN_DAYS = 3 * 366

_cache_lock = threading.Lock()
_year_cache: dict[tuple, frozenset[date]] = {}
_YEAR_CACHE_LIMIT = 256


class CalendarError(ValueError):
    """The calendar has no working day within a reasonable distance."""


def default_calendar() -> Calendar:
    """The calendar flagged default, or an unsaved one with the product defaults."""
    from .models import Calendar

    calendar = Calendar.objects.filter(is_default=True).first()
    return calendar if calendar is not None else Calendar(name="default", is_default=True)


def _resolve(calendar: Calendar | None) -> Calendar:
    return calendar if calendar is not None else default_calendar()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# The package's answer for a (country, subdivision, year) never changes while the process
# runs; overrides are applied on top in _working_days_of_year (which has its own cache).
@lru_cache(maxsize=256)
def _package_days(country: str, subdivision: str, year: int) -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    """(public holidays, weekend make-up working days, weekend weekdays) from ``holidays``."""
    try:
        table = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except (NotImplementedError, KeyError):
        return frozenset(), frozenset(), frozenset({5, 6})
    weekend = frozenset(getattr(table, "weekend", {5, 6}))
    if year > table.end_year:
        # Past its last year (2100) the package returns no holidays at all, not even New
        # Year's Day. Keep its fixed-date rules: the days that are holidays in each of its
        # last years (lunar and "observed" days move, so they drop out).
        fixed = _fixed_holidays(country, subdivision, table.end_year)
        return frozenset(date(year, month, day) for month, day in fixed), frozenset(), weekend
    days_off = frozenset(d for d in table if d.year == year)
    workdays = frozenset(d for d in getattr(table, "weekend_workdays", ()) if d.year == year)
    return days_off, workdays, weekend


@lru_cache(maxsize=16)
def _fixed_holidays(country: str, subdivision: str, last_year: int) -> frozenset[tuple[int, int]]:
    """(month, day) of the holidays the package has on the same date in each of its last 4 years."""
    years = range(last_year - 3, last_year + 1)
    table = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    per_year = [{(d.month, d.day) for d in table if d.year == year} for year in years]
    return frozenset(set.intersection(*per_year))


def _working_days_of_year(calendar: Calendar, year: int) -> frozenset[date]:
    key = (calendar.pk, calendar.version, calendar.country, calendar.subdivision, year)
    cached = _year_cache.get(key)
    if cached is not None:
        return cached
    days_off, workdays, weekend = _package_days(calendar.country, calendar.subdivision, year)
    working = set()
    day = date(year, 1, 1)
    while day.year == year:
        if day in workdays or (day.weekday() not in weekend and day not in days_off):
            working.add(day)
        day += ONE_DAY
    if calendar.pk is not None:
        for override_day, is_working in calendar.overrides.filter(date__year=year).values_list(
            "date", "is_working_day"
        ):
            (working.add if is_working else working.discard)(override_day)
    result = frozenset(working)
    with _cache_lock:
        if len(_year_cache) >= _YEAR_CACHE_LIMIT:
            _year_cache.clear()
        _year_cache[key] = result
    return result


def zone_of(calendar: Calendar | None = None) -> ZoneInfo:
    """The calendar's time zone (the default calendar's when none is given)."""
    return _zone(_resolve(calendar).time_zone)


def clear_cache() -> None:
    """Forget every cached year table (tests; a calendar edit bumps the version instead)."""
    with _cache_lock:
        _year_cache.clear()


# --- days -------------------------------------------------------------------------------


def is_working_day(day: date, calendar: Calendar | None = None) -> bool:
    """Whether ``day`` is a working day of ``calendar`` (the default calendar when None)."""
    calendar = _resolve(calendar)
    if calendar.always_open:
        return True
    return day in _working_days_of_year(calendar, day.year)


def _step(day: date, direction: int, calendar: Calendar) -> date:
    for _ in range(_MAX_SCAN_DAYS):
        day += direction * ONE_DAY
        if is_working_day(day, calendar):
            return day
    raise CalendarError(f"No working day within {_MAX_SCAN_DAYS} days of {day}.")


def next_working_day(day: date, calendar: Calendar | None = None) -> date:
    """The first working day strictly after ``day``."""
    return _step(day, 1, _resolve(calendar))


def working_day_on_or_after(day: date, calendar: Calendar | None = None) -> date:
    """``day`` itself if it is a working day, else the next one (如遇节假日顺延)."""
    calendar = _resolve(calendar)
    return day if is_working_day(day, calendar) else _step(day, 1, calendar)


def add_working_days(day: date, n: int, calendar: Calendar | None = None) -> date:
    """The date ``n`` working days after ``day`` (before it when ``n`` is negative).

    ``day`` itself is not counted: 2 working days after Wed 2026-09-30 is Fri 2026-10-09.
    """
    calendar = _resolve(calendar)
    direction = 1 if n >= 0 else -1
    for _ in range(abs(n)):
        day = _step(day, direction, calendar)
    return day


# --- moments ----------------------------------------------------------------------------


def _local(moment: datetime, calendar: Calendar) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("Working-time arithmetic needs an aware datetime.")
    return moment.astimezone(_zone(calendar.time_zone))


def _window(day: date, calendar: Calendar) -> tuple[datetime, datetime]:
    tz = _zone(calendar.time_zone)
    return (
        datetime.combine(day, calendar.work_start, tzinfo=tz),
        datetime.combine(day, calendar.work_end, tzinfo=tz),
    )


def is_working_moment(moment: datetime, calendar: Calendar | None = None) -> bool:
    """Whether ``moment`` falls inside the calendar's working hours on a working day."""
    calendar = _resolve(calendar)
    local = _local(moment, calendar)  # refuses a naive moment on every calendar
    if calendar.always_open:
        return True
    if not is_working_day(local.date(), calendar):
        return False
    start, end = _window(local.date(), calendar)
    return start <= local < end


def next_working_moment(moment: datetime, calendar: Calendar | None = None) -> datetime:
    """``moment`` if it is working time, else the start of the next working period.

    This is when non-urgent mail queued at ``moment`` may go out.
    """
    calendar = _resolve(calendar)
    local = _local(moment, calendar)
    if calendar.always_open:
        return local
    day = local.date()
    if is_working_day(day, calendar):
        start, end = _window(day, calendar)
        if local < start:
            return start
        if local < end:
            return local
    return _window(_step(day, 1, calendar), calendar)[0]


def add_working_time(moment: datetime, duration: timedelta, calendar: Calendar | None = None) -> datetime:
    """The moment ``duration`` of working time after ``moment``.

    Time outside working hours does not count: 4 working hours from Friday 16:00 on a
    09:00–18:00 calendar is Monday 11:00 (or later, past holidays). A result landing exactly
    on the end of a working day stays on that day (18:00), not the next morning.
    """
    calendar = _resolve(calendar)
    if duration < timedelta(0):
        raise ValueError("add_working_time takes a non-negative duration.")
    local = _local(moment, calendar)
    if calendar.always_open:
        # Add in UTC: aware arithmetic within one zone is wall-clock time, which is an hour
        # off across a DST change (and can land in the hour that does not exist).
        return (local.astimezone(UTC) + duration).astimezone(local.tzinfo)
    current = next_working_moment(local, calendar)
    remaining = duration
    while True:
        _start, end = _window(current.date(), calendar)
        available = end - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = _window(_step(current.date(), 1, calendar), calendar)[0]


def working_time_between(start: datetime, end: datetime, calendar: Calendar | None = None) -> timedelta:
    """Working time from ``start`` to ``end`` (negative when ``end`` is before ``start``)."""
    calendar = _resolve(calendar)
    # Convert first: comparing a naive with an aware datetime would raise TypeError.
    local_start, local_end = _local(start, calendar), _local(end, calendar)
    if local_end.astimezone(UTC) < local_start.astimezone(UTC):  # by instant, also in a DST fold
        return -working_time_between(end, start, calendar)
    if calendar.always_open:
        # Elapsed time, not the wall-clock difference (they differ across a DST change).
        return local_end.astimezone(UTC) - local_start.astimezone(UTC)
    total = timedelta(0)
    day = local_start.date()
    while day <= local_end.date():
        if is_working_day(day, calendar):
            window_start, window_end = _window(day, calendar)
            overlap = min(window_end, local_end) - max(window_start, local_start)
            if overlap > timedelta(0):
                total += overlap
        day += ONE_DAY
    return total


def working_day_length(calendar: Calendar | None = None) -> timedelta:
    """The working time in one working day (24 h on a 24×7 calendar)."""
    calendar = _resolve(calendar)
    if calendar.always_open:
        return ONE_DAY
    start, end = _window(date(2000, 1, 3), calendar)
    return end - start


def working_days_between(start: datetime, end: datetime, calendar: Calendar | None = None) -> float:
    """Working time from ``start`` to ``end`` expressed in working days (e.g. reply time)."""
    calendar = _resolve(calendar)
    return working_time_between(start, end, calendar) / working_day_length(calendar)
