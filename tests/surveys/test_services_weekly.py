"""Weekly visit reports: create, carry-over, due moment, late submit, the Friday reminder."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from itsm.core.models import Notification
from itsm.core.periodic import run_check
from itsm.core.roles import Role
from surveys.choices import WeeklyItemKind
from surveys.models import WeeklyReport, WeeklyReportItem
from surveys.services import weekly as services
from tests.factories import DepartmentFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 2)

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_user):
    return make_user(Role.SERVICE_DESK)


def _report(department, week_start, desk, items=()):
    report = services.weekly_report_create(
        department=department,
        week_start=week_start,
        recorder=desk,
        recorded_at=datetime.combine(week_start, datetime.min.time(), tzinfo=SHANGHAI),
        actor=desk,
    )
    for kind, text, owner, resolved in items:
        services.weekly_item_add(report=report, kind=kind, text=text, owner=owner, resolved=resolved, actor=desk)
    return report


def test_create_needs_a_monday(desk):
    department = DepartmentFactory()
    with pytest.raises(ValidationError) as error:
        _report(department, MONDAY + timedelta(days=1), desk)
    assert "week_start" in error.value.message_dict
    assert not WeeklyReport.objects.exists()
    assert _report(department, MONDAY, desk).week_start == MONDAY


def test_a_second_report_for_the_same_week_is_refused(desk):
    department = DepartmentFactory()
    _report(department, MONDAY, desk)
    with pytest.raises(ValidationError):
        _report(department, MONDAY, desk)
    assert WeeklyReport.objects.count() == 1
    _report(DepartmentFactory(), MONDAY, desk)  # another department the same week is fine


def test_a_role_without_add_permission_is_refused(make_user):
    auditor = make_user(Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.weekly_report_create(
            department=DepartmentFactory(), week_start=MONDAY, recorder=auditor, actor=auditor
        )


def test_unresolved_items_carry_over_once_with_their_owner(desk, make_user):
    department = DepartmentFactory()
    owner = make_user(Role.BR_MANAGER)
    first = _report(
        department,
        MONDAY,
        desk,
        [
            (WeeklyItemKind.NEW_PROBLEM, "printer jams", owner, False),
            (WeeklyItemKind.SUGGESTION, "monthly report", None, True),
            (WeeklyItemKind.COMPLAINT, "slow answer", None, False),
        ],
    )
    _report(DepartmentFactory(), MONDAY, desk, [(WeeklyItemKind.NEW_PROBLEM, "other dept", None, False)])
    second = _report(department, MONDAY + timedelta(weeks=1), desk)

    carried = list(second.items.order_by("pk"))
    assert [item.text for item in carried] == ["printer jams", "slow answer"]
    assert {item.kind for item in carried} == {WeeklyItemKind.FOLLOW_UP}
    assert carried[0].owner == owner and carried[1].owner is None
    assert {item.carried_from_id for item in carried} == set(
        first.items.filter(resolved=False).values_list("pk", flat=True)
    )
    # Carrying again adds nothing: the unique constraint keeps one copy per item.
    assert services.weekly_report_carry_over(report=second, actor=desk) == 0
    assert second.items.count() == 2


def test_carry_over_skips_missing_weeks_and_takes_the_latest_report(desk):
    department = DepartmentFactory()
    _report(department, MONDAY, desk, [(WeeklyItemKind.NEW_PROBLEM, "old", None, False)])
    latest = _report(department, MONDAY + timedelta(weeks=1), desk)
    latest.items.update(resolved=True)
    _report(department, MONDAY + timedelta(weeks=1) - timedelta(weeks=3), desk)  # an earlier week, filed late
    third = _report(department, MONDAY + timedelta(weeks=3), desk)
    assert third.items.count() == 0  # the latest earlier report had everything resolved


def test_a_chain_over_three_weeks_counts_the_weeks_open(desk):
    department = DepartmentFactory()
    _report(department, MONDAY, desk, [(WeeklyItemKind.NEW_PROBLEM, "network drops", None, False)])
    _report(department, MONDAY + timedelta(weeks=1), desk, [(WeeklyItemKind.SUGGESTION, "new", None, False)])
    third = _report(department, MONDAY + timedelta(weeks=2), desk)
    items = list(third.items.select_related("report").order_by("pk"))
    open_weeks = services.weeks_open(items)
    by_text = {item.text: open_weeks[item.pk] for item in items}
    assert by_text == {"network drops": 3, "new": 2}


def test_due_before_the_monday_meeting():
    assert services.weekly_report_due(MONDAY) == datetime(2026, 11, 9, 9, 0, tzinfo=SHANGHAI)


def test_due_moves_to_the_next_working_day_when_monday_is_a_holiday():
    # 2026-10-05 is in the National Day holiday: the meeting is on Thursday 2026-10-08.
    assert services.weekly_report_due(date(2026, 9, 28)) == datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "late"),
    [(datetime(2026, 11, 9, 8, 59, tzinfo=SHANGHAI), False), (datetime(2026, 11, 9, 9, 1, tzinfo=SHANGHAI), True)],
)
def test_submit_on_time_or_late(desk, moment, late):
    report = _report(DepartmentFactory(), MONDAY, desk)
    with time_machine.travel(moment, tick=False):
        services.weekly_report_submit(report=report, actor=desk)
    assert report.submitted_at == moment
    assert services.weekly_report_is_late(report) is late
    with time_machine.travel(moment + timedelta(days=1), tick=False):
        services.weekly_report_submit(report=report, actor=desk)  # a second submit keeps the first moment
    report.refresh_from_db()
    assert report.submitted_at == moment


def test_items_update_and_confirm(desk, make_user):
    report = _report(DepartmentFactory(), MONDAY, desk, [(WeeklyItemKind.NEW_PROBLEM, "x", None, False)])
    item = report.items.get()
    owner = make_user(Role.SERVICE_DESK)
    services.weekly_item_update(weeklyreportitem=item, owner=owner, resolved=True, user_confirmed=True, actor=desk)
    item.refresh_from_db()
    assert (item.owner, item.resolved, item.user_confirmed) == (owner, True, True)
    with pytest.raises(ValidationError):
        services.weekly_item_add(report=report, kind="nonsense", text="x", actor=desk)
    assert WeeklyReportItem.objects.count() == 1
    services.weekly_report_confirm(report=report, actor=desk)
    report.refresh_from_db()
    assert report.user_confirmed


# --- the Friday reminder ------------------------------------------------------------------------

FRIDAY = datetime(2026, 11, 13, 15, 0, tzinfo=SHANGHAI)  # the week of Monday 2026-11-09


def _reminders() -> list[Notification]:
    return list(Notification.objects.filter(key__startswith="weekly_report:"))


def test_friday_reminder_goes_once_to_the_last_recorder(desk, make_user):
    recorder = make_user(Role.SERVICE_DESK)
    reported = DepartmentFactory()
    _report(reported, MONDAY, recorder)
    _report(DepartmentFactory(), MONDAY - timedelta(weeks=1), desk)  # not last week: no reminder
    with time_machine.travel(FRIDAY, tick=False):
        assert "1 reminders" in run_check("surveys.weekly_reminders")
        assert "0 reminders" in run_check("surveys.weekly_reminders")
    reminders = _reminders()
    assert [n.recipient_email for n in reminders] == [recorder.email]
    assert "2026-11-16 09:00" in reminders[0].body_text  # due before the next Monday meeting


def test_friday_reminder_also_for_an_unsubmitted_report_and_marks_it(desk):
    department = DepartmentFactory()
    _report(department, MONDAY, desk)
    this_week = _report(department, MONDAY + timedelta(weeks=1), desk)
    with time_machine.travel(FRIDAY, tick=False):
        assert services.weekly_reports_remind() == 1
        assert services.weekly_reports_remind() == 0
    this_week.refresh_from_db()
    assert this_week.reminder_sent_at == FRIDAY
    assert len(_reminders()) == 1


def test_no_reminder_when_this_weeks_report_is_submitted(desk):
    department = DepartmentFactory()
    _report(department, MONDAY, desk)
    this_week = _report(department, MONDAY + timedelta(weeks=1), desk)
    with time_machine.travel(FRIDAY - timedelta(hours=2), tick=False):
        services.weekly_report_submit(report=this_week, actor=desk)
    with time_machine.travel(FRIDAY, tick=False):
        assert services.weekly_reports_remind() == 0
    assert _reminders() == []


def test_the_beat_runs_the_reminder_on_friday_afternoon(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["surveys.weekly_reminders"]
    assert entry["args"] == ("surveys.weekly_reminders",)
    assert entry["schedule"].day_of_week == {5}
    assert entry["options"]["expires"]
