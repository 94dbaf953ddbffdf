"""Reporting periods and their due days (``itsm.core.periods``: reference 000 §10.4).

The days are those of the 2026 calendar as published by the State Council: New Year 1–3
January with Sunday 4 January worked; National Day 1–7 October with Saturday 10 October worked.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from itsm.core.periods import Cycle, Period, closed_periods, period_from_label, period_of, report_due, rule_day

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("cycle", "day", "start", "end", "label"),
    [
        (Cycle.WEEKLY, date(2026, 10, 1), date(2026, 9, 28), date(2026, 10, 4), "2026-W40"),
        (Cycle.MONTHLY, date(2026, 2, 28), date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        (Cycle.QUARTERLY, date(2026, 11, 30), date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        (Cycle.HALF_YEARLY, date(2026, 7, 1), date(2026, 7, 1), date(2026, 12, 31), "2026-H2"),
        (Cycle.HALF_YEARLY, date(2026, 6, 30), date(2026, 1, 1), date(2026, 6, 30), "2026-H1"),
        (Cycle.YEARLY, date(2026, 12, 31), date(2026, 1, 1), date(2026, 12, 31), "2026"),
    ],
)
def test_a_day_belongs_to_one_period_of_each_cycle_with_its_label(cycle, day, start, end, label):
    period = period_of(cycle, day)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period_from_label(cycle, label) == period
    assert period.next().previous() == period and period.next().start == end + timedelta(days=1)


def test_the_next_and_previous_periods_run_on_without_gaps():
    period = period_of(Cycle.MONTHLY, date(2026, 12, 15))
    assert period.next().label == "2027-01" and period.previous().label == "2026-11"
    assert period_of(Cycle.HALF_YEARLY, date(2026, 1, 5)).previous().label == "2025-H2"


@pytest.mark.parametrize("label", ["2026-13", "2026-Q5", "2026-H3", "26", "2026-W54", "x"])
def test_a_label_that_names_no_period_is_refused(label):
    cycle = {"Q": Cycle.QUARTERLY, "H": Cycle.HALF_YEARLY, "W": Cycle.WEEKLY}.get(label[5:6], Cycle.MONTHLY)
    with pytest.raises(ValueError, match="not a"):
        period_from_label(cycle if label not in ("26", "x") else Cycle.YEARLY, label)


@pytest.mark.parametrize(
    ("cycle", "day", "rule", "due"),
    [
        # the 10th of the next month, a working day: as it stands
        (Cycle.MONTHLY, date(2026, 5, 1), date(2026, 6, 10), date(2026, 6, 10)),
        # Saturday 10 January 2026 is no working day: Monday the 12th
        (Cycle.MONTHLY, date(2025, 12, 1), date(2026, 1, 10), date(2026, 1, 12)),
        # Saturday 10 October 2026 is worked (调休): the 10th stands
        (Cycle.MONTHLY, date(2026, 9, 1), date(2026, 10, 10), date(2026, 10, 10)),
        (Cycle.QUARTERLY, date(2026, 8, 1), date(2026, 10, 10), date(2026, 10, 10)),
        # the 15th of the first month of the next half-year
        (Cycle.HALF_YEARLY, date(2026, 3, 1), date(2026, 7, 15), date(2026, 7, 15)),
        # the 20th of January of the next year
        (Cycle.YEARLY, date(2025, 6, 1), date(2026, 1, 20), date(2026, 1, 20)),
        # the week of 28 September: Monday 5 October is a holiday, Thursday the 8th the first working day
        (Cycle.WEEKLY, date(2026, 9, 30), date(2026, 10, 5), date(2026, 10, 8)),
    ],
)
def test_a_report_falls_due_by_the_rule_moved_past_holidays_but_not_past_a_worked_saturday(cycle, day, rule, due):
    period = period_of(cycle, day)
    assert rule_day(period) == rule
    assert report_due(period) == due


def test_the_closed_periods_are_those_whose_report_has_fallen_due():
    # On 9 October 2026 September's report is not yet due (the 10th): August is the last closed.
    assert [p.label for p in closed_periods(Cycle.MONTHLY, date(2026, 10, 9), count=3)] == [
        "2026-06",
        "2026-07",
        "2026-08",
    ]
    assert closed_periods(Cycle.MONTHLY, date(2026, 10, 10), count=1)[0].label == "2026-09"
    assert closed_periods(Cycle.HALF_YEARLY, date(2027, 1, 14), count=1)[0].label == "2026-H1"


def test_a_periods_bounds_are_the_calendars_local_midnights():
    start, end = Period(date(2026, 10, 1), date(2026, 10, 31), Cycle.MONTHLY).bounds()
    shanghai = ZoneInfo("Asia/Shanghai")
    assert start == datetime(2026, 10, 1, tzinfo=shanghai) and end == datetime(2026, 11, 1, tzinfo=shanghai)
    assert start.utcoffset().total_seconds() == 8 * 3600
