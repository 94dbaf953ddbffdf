"""The business calendar (itsm.core.calendar): working days, working time, overrides, zones.

Dates are chosen around the 2026 National Day holiday as published by the State Council and
shipped in the ``holidays`` package: Thu 10-01 to Wed 10-07 off, Sun 09-20 and Sat 10-10 are
make-up working days (调休).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from itsm.core import calendar as cal
from itsm.core.models import Calendar
from itsm.core.services import calendar_override_create, calendar_override_delete, calendar_override_update
from tests.factories import CalendarFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)

# An unsaved calendar with the product defaults: CN, Asia/Shanghai, 09:00–18:00. No database.
CN = Calendar(name="cn")


def sh(*args) -> datetime:
    """An aware moment in Asia/Shanghai."""
    return datetime(*args, tzinfo=SHANGHAI)


# --- working days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 9, 30), 2, date(2026, 10, 9)),  # SPEC §2: over the National Day holiday
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # SPEC §2: the make-up Saturday counts
        (date(2026, 10, 10), 1, date(2026, 10, 12)),  # Sunday 10-11 does not
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Sat 09-19 off, Sun 09-20 make-up working day
        (date(2026, 9, 7), 5, date(2026, 9, 14)),  # an ordinary week
        (date(2026, 9, 30), 0, date(2026, 9, 30)),
        (date(2026, 10, 3), 0, date(2026, 10, 3)),  # zero days: the day itself, working or not
        (date(2026, 10, 9), -2, date(2026, 9, 30)),  # backwards over the holiday
        (date(2026, 10, 12), -1, date(2026, 10, 10)),  # backwards onto the make-up Saturday
        (date(2026, 10, 4), -1, date(2026, 9, 30)),  # from inside the holiday
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # New Year's Day, then the weekend
    ],
)
def test_add_working_days(day, n, expected):
    assert cal.add_working_days(day, n, CN) == expected


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 10, 5), False),  # National Day (observed), a Monday
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),  # Wednesday, day off swapped from 10-10
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 9, 20), True),  # make-up Sunday
        (date(2026, 9, 12), False),  # an ordinary Saturday
        (date(2026, 9, 13), False),  # an ordinary Sunday
        (date(2026, 9, 14), True),  # an ordinary Monday
        (date(2026, 2, 17), False),  # Spring Festival
    ],
)
def test_is_working_day(day, working):
    assert cal.is_working_day(day, CN) is working


def test_next_working_day_is_strictly_after():
    assert cal.next_working_day(date(2026, 9, 29), CN) == date(2026, 9, 30)
    assert cal.next_working_day(date(2026, 9, 30), CN) == date(2026, 10, 8)
    assert cal.next_working_day(date(2026, 10, 9), CN) == date(2026, 10, 10)


def test_working_day_on_or_after_shifts_only_non_working_days():
    assert cal.working_day_on_or_after(date(2026, 9, 30), CN) == date(2026, 9, 30)
    assert cal.working_day_on_or_after(date(2026, 10, 1), CN) == date(2026, 10, 8)
    assert cal.working_day_on_or_after(date(2026, 10, 10), CN) == date(2026, 10, 10)
    assert cal.working_day_on_or_after(date(2026, 10, 11), CN) == date(2026, 10, 12)


@pytest.mark.parametrize("year", [2027, 2035, 2099, 2100, 2101, 2150, 2400])
def test_years_without_special_data_never_raise(year):
    """No 调休 data (the State Council publishes a year at a time): weekends and fixed holidays still apply."""
    new_year = date(year, 1, 1)
    national_day = date(year, 10, 1)
    assert not cal.is_working_day(new_year, CN)
    assert not cal.is_working_day(national_day, CN)
    assert cal.add_working_days(date(year, 9, 30), 1, CN) > date(year, 10, 3)
    first_saturday = next(date(year, 6, d) for d in range(1, 8) if date(year, 6, d).weekday() == 5)
    assert not cal.is_working_day(first_saturday, CN)
    assert not cal.is_working_day(first_saturday + timedelta(days=1), CN)
    assert cal.is_working_day(first_saturday + timedelta(days=3), CN)  # Tuesday


def test_year_without_make_up_days_uses_the_package_rules():
    # 2099: 10-01 Thu, 10-02 Fri, 10-03 Sat, 10-05 Mon (observed); no make-up weekend days known.
    assert cal.add_working_days(date(2099, 9, 30), 1, CN) == date(2099, 10, 6)
    assert not cal.is_working_day(date(2099, 10, 10), CN)  # a plain Saturday


def test_unknown_country_falls_back_to_monday_to_friday():
    nowhere = Calendar(name="nowhere", country="ZZ")
    assert cal.is_working_day(date(2026, 10, 1), nowhere)  # Thursday, no holidays known
    assert cal.is_working_day(date(2026, 10, 5), nowhere)
    assert not cal.is_working_day(date(2026, 10, 10), nowhere)  # Saturday, no make-up days
    assert not cal.is_working_day(date(2026, 10, 11), nowhere)
    assert cal.add_working_days(date(2026, 10, 9), 1, nowhere) == date(2026, 10, 12)


def test_unknown_subdivision_falls_back_to_monday_to_friday():
    odd = Calendar(name="odd", country="CN", subdivision="XX")
    assert cal.is_working_day(date(2026, 10, 1), odd)
    assert not cal.is_working_day(date(2026, 10, 10), odd)


def test_other_country_uses_its_own_holidays():
    england = Calendar(name="england", country="GB", subdivision="ENG", time_zone="Europe/London")
    assert not cal.is_working_day(date(2026, 12, 25), england)
    assert cal.is_working_day(date(2026, 10, 1), england)
    assert not cal.is_working_day(date(2026, 10, 10), england)


def test_24x7_calendar_works_every_day():
    always = Calendar(name="24x7", always_open=True)
    assert cal.is_working_day(date(2026, 10, 1), always)
    assert cal.is_working_day(date(2026, 10, 11), always)
    assert cal.add_working_days(date(2026, 9, 30), 2, always) == date(2026, 10, 2)


# --- overrides --------------------------------------------------------------------------


@pytest.fixture
def owner(make_user):
    return make_user("process_owner")


@pytest.mark.django_db
def test_default_calendar_is_created_by_migration():
    default = cal.default_calendar()
    assert default.pk is not None
    assert (default.country, default.time_zone) == ("CN", "Asia/Shanghai")
    assert (default.work_start, default.work_end) == (time(9), time(18))
    assert cal.add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)


@pytest.mark.django_db
def test_override_makes_a_working_day_off_and_removing_it_restores_it(owner):
    assert cal.is_working_day(date(2026, 10, 10))  # computed (and cached) first
    assert cal.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)

    override = calendar_override_create(
        actor=owner, calendar=cal.default_calendar(), date=date(2026, 10, 10), is_working_day=False, reason="move"
    )
    assert not cal.is_working_day(date(2026, 10, 10))
    assert cal.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 12)

    calendar_override_delete(override=override, actor=owner)
    assert cal.is_working_day(date(2026, 10, 10))
    assert cal.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)


@pytest.mark.django_db
def test_override_makes_a_holiday_and_a_weekend_day_working(owner):
    calendar = CalendarFactory()
    assert not cal.is_working_day(date(2026, 10, 5), calendar)
    assert not cal.is_working_day(date(2026, 9, 12), calendar)

    for day in (date(2026, 10, 5), date(2026, 9, 12)):
        calendar_override_create(actor=owner, calendar=calendar, date=day, is_working_day=True, reason="release")
    assert cal.is_working_day(date(2026, 10, 5), calendar)
    assert cal.is_working_day(date(2026, 9, 12), calendar)
    assert cal.add_working_days(date(2026, 9, 30), 2, calendar) == date(2026, 10, 8)
    # The default calendar is untouched.
    assert not cal.is_working_day(date(2026, 10, 5))


@pytest.mark.django_db
def test_override_update_refreshes_the_cache(owner):
    calendar = CalendarFactory()
    override = calendar_override_create(
        actor=owner, calendar=calendar, date=date(2026, 9, 14), is_working_day=False, reason="office move"
    )
    assert not cal.is_working_day(date(2026, 9, 14), calendar)
    calendar_override_update(override=override, actor=owner, is_working_day=True)
    assert cal.is_working_day(date(2026, 9, 14), calendar)


@pytest.mark.django_db
def test_override_in_a_year_without_package_data(owner):
    # A new year's official schedule typed in before the package knows it.
    calendar = CalendarFactory()
    calendar_override_create(
        actor=owner, calendar=calendar, date=date(2150, 10, 9), is_working_day=False, reason="2150 schedule"
    )
    calendar_override_create(
        actor=owner, calendar=calendar, date=date(2150, 10, 11), is_working_day=True, reason="2150 schedule"
    )
    assert cal.next_working_day(date(2150, 10, 8), calendar) == date(2150, 10, 11)


# --- working time -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (sh(2026, 9, 29, 10), 2 * H, sh(2026, 9, 29, 12)),  # within a day
        (sh(2026, 9, 29, 17), 2 * H, sh(2026, 9, 30, 10)),  # over the night
        (sh(2026, 9, 11, 16), 4 * H, sh(2026, 9, 14, 11)),  # Friday afternoon to Monday
        (sh(2026, 9, 18, 16), 4 * H, sh(2026, 9, 20, 11)),  # Friday to the make-up Sunday
        (sh(2026, 9, 30, 16), 4 * H, sh(2026, 10, 8, 11)),  # over National Day
        (sh(2026, 10, 8, 7), H, sh(2026, 10, 8, 10)),  # before 09:00
        (sh(2026, 10, 8, 19), H, sh(2026, 10, 9, 10)),  # after 18:00
        (sh(2026, 10, 8, 18), H, sh(2026, 10, 9, 10)),  # at 18:00 exactly
        (sh(2026, 10, 3, 10), H, sh(2026, 10, 8, 10)),  # on a holiday
        (sh(2026, 10, 8, 17), H, sh(2026, 10, 8, 18)),  # ends at 18:00: stays that day
        (sh(2026, 10, 8, 9), 9 * H, sh(2026, 10, 8, 18)),  # a whole working day
        (sh(2026, 10, 8, 9), 9 * H + timedelta(minutes=1), sh(2026, 10, 9, 9, 1)),
        (sh(2026, 12, 31, 17), 2 * H, sh(2027, 1, 4, 10)),  # year end, New Year's Day, weekend
        (sh(2026, 10, 8, 10, 15), timedelta(0), sh(2026, 10, 8, 10, 15)),
        (sh(2026, 10, 3, 10), timedelta(0), sh(2026, 10, 8, 9)),  # zero from off-hours: next start
        (sh(2026, 9, 28, 9), 6 * 9 * H, sh(2026, 10, 10, 18)),  # 6 working days: Mon-Wed, Thu-Sat
    ],
)
def test_add_working_time(start, duration, expected):
    result = cal.add_working_time(start, duration, CN)
    assert result == expected
    assert result.utcoffset() == timedelta(hours=8)


def test_add_working_time_refuses_negative_duration():
    with pytest.raises(ValueError):
        cal.add_working_time(sh(2026, 10, 8, 10), -H, CN)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (sh(2026, 10, 8, 10), sh(2026, 10, 8, 12, 30), timedelta(hours=2, minutes=30)),
        (sh(2026, 10, 8, 7), sh(2026, 10, 8, 20), 9 * H),  # off-hours ends do not count
        (sh(2026, 9, 29, 17), sh(2026, 9, 30, 10), 2 * H),  # over a night
        (sh(2026, 9, 11, 17), sh(2026, 9, 14, 10), 2 * H),  # over a weekend
        (sh(2026, 9, 30, 16), sh(2026, 10, 8, 11), 4 * H),  # over the holiday
        (sh(2026, 10, 9, 17), sh(2026, 10, 12, 10), 11 * H),  # over the make-up Saturday
        (sh(2026, 10, 3, 9), sh(2026, 10, 4, 18), timedelta(0)),  # holiday only
        (sh(2026, 10, 8, 10), sh(2026, 10, 8, 10), timedelta(0)),
        (sh(2026, 10, 8, 12), sh(2026, 10, 8, 10), -2 * H),  # reversed: negative
        (sh(2026, 10, 8, 11), sh(2026, 9, 30, 16), -4 * H),
        (sh(2026, 12, 31, 17), sh(2027, 1, 4, 10), 2 * H),
    ],
)
def test_working_time_between(start, end, expected):
    assert cal.working_time_between(start, end, CN) == expected


@pytest.mark.parametrize(
    "start",
    [
        sh(2026, 9, 30, 16),
        sh(2026, 9, 30, 16, 59, 59),
        sh(2026, 10, 9, 22),  # Friday night before the make-up Saturday
        sh(2026, 10, 3, 12),  # holiday
        sh(2026, 10, 8, 6),  # before hours
        sh(2026, 12, 31, 17, 30),
    ],
)
@pytest.mark.parametrize(
    "duration",
    [timedelta(0), timedelta(seconds=1), timedelta(minutes=30), 4 * H, 9 * H, 27 * H + timedelta(minutes=7), 200 * H],
)
def test_working_time_round_trip(start, duration):
    end = cal.add_working_time(start, duration, CN)
    assert end >= start
    assert cal.working_time_between(start, end, CN) == duration


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (sh(2026, 10, 8, 9), True),  # opening time counts
        (sh(2026, 10, 8, 8, 59, 59), False),
        (sh(2026, 10, 8, 17, 59, 59), True),
        (sh(2026, 10, 8, 18), False),  # closing time does not
        (sh(2026, 10, 10, 10), True),  # make-up Saturday
        (sh(2026, 10, 5, 10), False),  # holiday Monday
        (sh(2026, 9, 12, 10), False),  # ordinary Saturday
        (datetime(2026, 10, 8, 1, 30, tzinfo=UTC), True),  # 09:30 in Shanghai
        (datetime(2026, 10, 8, 10, 0, tzinfo=UTC), False),  # 18:00 in Shanghai
    ],
)
def test_is_working_moment(moment, working):
    assert cal.is_working_moment(moment, CN) is working


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (sh(2026, 10, 8, 10, 5), sh(2026, 10, 8, 10, 5)),  # already working time
        (sh(2026, 10, 8, 7), sh(2026, 10, 8, 9)),
        (sh(2026, 10, 8, 18), sh(2026, 10, 9, 9)),
        (sh(2026, 10, 9, 22), sh(2026, 10, 10, 9)),  # Friday night → make-up Saturday
        (sh(2026, 9, 11, 22), sh(2026, 9, 14, 9)),  # Friday night → Monday
        (sh(2026, 9, 30, 18, 30), sh(2026, 10, 8, 9)),  # eve of the holiday
        (datetime(2026, 10, 8, 14, 0, tzinfo=UTC), sh(2026, 10, 9, 9)),  # 22:00 in Shanghai
    ],
)
def test_next_working_moment(moment, expected):
    result = cal.next_working_moment(moment, CN)
    assert result == expected
    assert result.utcoffset() == timedelta(hours=8)


def test_working_days_between():
    assert cal.working_days_between(sh(2026, 9, 30, 9), sh(2026, 10, 9, 9), CN) == 2.0
    assert cal.working_days_between(sh(2026, 10, 8, 9), sh(2026, 10, 8, 13, 30), CN) == 0.5
    assert cal.working_days_between(sh(2026, 10, 9, 9), sh(2026, 9, 30, 9), CN) == -2.0
    assert cal.working_days_between(sh(2026, 10, 3, 9), sh(2026, 10, 3, 17), CN) == 0.0


def test_working_hours_of_a_custom_calendar():
    early = Calendar(name="early", work_start=time(8, 30), work_end=time(17, 30))
    assert cal.add_working_time(sh(2026, 10, 8, 17), H, early) == sh(2026, 10, 9, 9)
    assert cal.working_days_between(sh(2026, 10, 8, 8, 30), sh(2026, 10, 9, 8, 30), early) == 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda c: cal.add_working_time(datetime(2026, 10, 8, 10), H, c),  # noqa: DTZ001
        lambda c: cal.is_working_moment(datetime(2026, 10, 8, 10), c),  # noqa: DTZ001
        lambda c: cal.next_working_moment(datetime(2026, 10, 8, 10), c),  # noqa: DTZ001
        lambda c: cal.working_time_between(datetime(2026, 10, 8, 10), datetime(2026, 10, 8, 12), c),  # noqa: DTZ001
        lambda c: cal.working_time_between(datetime(2026, 10, 8, 10), sh(2026, 10, 8, 12), c),  # noqa: DTZ001
        lambda c: cal.working_days_between(sh(2026, 10, 8, 10), datetime(2026, 10, 9, 10), c),  # noqa: DTZ001
    ],
)
@pytest.mark.parametrize("calendar", [CN, Calendar(name="24x7", always_open=True)], ids=["cn", "24x7"])
def test_naive_datetimes_are_refused(call, calendar):
    with pytest.raises(ValueError, match="aware"):
        call(calendar)


# --- 24×7 and other time zones ----------------------------------------------------------


def test_24x7_calendar_counts_every_hour():
    always = Calendar(name="24x7", always_open=True)
    assert cal.is_working_moment(sh(2026, 10, 3, 3), always)
    assert cal.next_working_moment(sh(2026, 10, 3, 3), always) == sh(2026, 10, 3, 3)
    assert cal.add_working_time(sh(2026, 9, 30, 16), 4 * H, always) == sh(2026, 9, 30, 20)
    assert cal.working_time_between(sh(2026, 10, 1), sh(2026, 10, 8), always) == timedelta(days=7)
    assert cal.working_days_between(sh(2026, 10, 1), sh(2026, 10, 8), always) == 7.0


def test_24x7_calendar_counts_real_time_over_a_dst_change():
    """On the night clocks go forward (London, 2026-03-29 01:00 GMT) 00:00→03:00 local is 2 hours."""
    always = Calendar(name="24x7 london", always_open=True, time_zone="Europe/London")
    midnight = datetime(2026, 3, 29, 0, 0, tzinfo=LONDON)
    three = datetime(2026, 3, 29, 3, 0, tzinfo=LONDON)
    assert cal.working_time_between(midnight, three, always) == 2 * H
    end = cal.add_working_time(midnight, 2 * H, always)
    assert end == three
    assert (end.hour, end.utcoffset()) == (3, H)  # a real wall-clock time, not 02:00 in the gap
    # Clocks go back on 2026-10-25: 00:00→03:00 local is 4 hours.
    assert cal.working_time_between(
        datetime(2026, 10, 25, 0, 0, tzinfo=LONDON), datetime(2026, 10, 25, 3, 0, tzinfo=LONDON), always
    ) == (4 * H)


def test_calendar_in_another_time_zone_takes_utc_input():
    london = Calendar(name="london", country="GB", subdivision="ENG", time_zone="Europe/London")
    # 2026-07-01 is a Wednesday; London is on BST (UTC+1).
    assert cal.is_working_moment(datetime(2026, 7, 1, 8, 30, tzinfo=UTC), london)  # 09:30 BST
    assert not cal.is_working_moment(datetime(2026, 7, 1, 7, 30, tzinfo=UTC), london)  # 08:30 BST
    # The same UTC instant is 16:30 in Shanghai: working time there too, but only until 18:00.
    result = cal.add_working_time(datetime(2026, 7, 1, 16, 0, tzinfo=UTC), 2 * H, london)
    assert result == datetime(2026, 7, 2, 10, 0, tzinfo=LONDON)
    assert result.tzinfo.key == "Europe/London"
    assert cal.next_working_moment(datetime(2026, 7, 1, 20, 0, tzinfo=UTC), london) == datetime(
        2026, 7, 2, 9, 0, tzinfo=LONDON
    )
    assert cal.working_time_between(
        datetime(2026, 7, 1, 8, 0, tzinfo=UTC), datetime(2026, 7, 1, 17, 0, tzinfo=UTC), london
    ) == (9 * H)  # 08:00–17:00 UTC is the whole 09:00–18:00 BST day
    # 2026-12-25/26 are Christmas and Boxing Day (Boxing Day observed on Mon 12-28).
    assert cal.add_working_time(datetime(2026, 12, 24, 17, 0, tzinfo=UTC), 2 * H, london) == datetime(
        2026, 12, 29, 10, 0, tzinfo=LONDON
    )


def test_results_are_in_the_calendar_zone_for_other_zone_input():
    result = cal.add_working_time(datetime(2026, 10, 8, 1, 0, tzinfo=UTC), H, CN)  # 09:00 Shanghai
    assert result == sh(2026, 10, 8, 10)
    assert result.tzinfo.key == "Asia/Shanghai"


# --- the cache ----------------------------------------------------------------------------


def test_calendar_error_when_no_working_day_is_near(monkeypatch):
    monkeypatch.setattr(cal, "_MAX_SCAN_DAYS", 3)
    with pytest.raises(cal.CalendarError):
        cal.next_working_day(date(2026, 9, 30), CN)  # 10-01 … 10-03 are off
