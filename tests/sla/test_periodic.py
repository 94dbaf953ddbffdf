"""The periodic checks of the sla app: expiring agreements, drafting monthly reports, review
reminders — each run by name as beat runs it, each doing nothing the second time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab

from itsm.core.models import Notification
from itsm.core.periodic import registered_checks, run_check
from itsm.core.roles import Role
from sla.choices import AgreementKind, AgreementStatus
from sla.models import AgreementEvent, SlaReport
from tests.sla.factories import AgreementFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHECKS = ("sla.expire_agreements", "sla.draft_reports", "sla.review_reminders")


def at(year: int, month: int, day: int, hour: int = 7):
    return time_machine.travel(datetime(year, month, day, hour, 0, tzinfo=SHANGHAI), tick=False)


@pytest.mark.parametrize("name", CHECKS)
def test_each_check_is_registered_and_runs_daily_on_the_beat(settings, name):
    assert name in {check.name for check in registered_checks()}
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    assert entry["task"] == "itsm.core.run_periodic_check"
    assert entry["args"] == (name,)
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].day_of_month == set(range(1, 32))
    assert entry["schedule"].day_of_week == set(range(7))
    assert len(entry["schedule"].hour) == 1
    assert 0 < entry["options"]["expires"] <= 24 * 3600


def test_expire_check_expires_agreements_past_their_validity_once():
    past = AgreementFactory(status=AgreementStatus.ACTIVE, valid_to=date(2026, 12, 30))
    last_day = AgreementFactory(status=AgreementStatus.ACTIVE, valid_to=date(2026, 12, 31))
    open_ended = AgreementFactory(status=AgreementStatus.ACTIVE, valid_to=None)
    terminated = AgreementFactory(status=AgreementStatus.TERMINATED, valid_to=date(2026, 6, 30))
    with at(2026, 12, 31, 0):
        assert run_check("sla.expire_agreements") == "1 agreements expired"
        assert run_check("sla.expire_agreements") == "0 agreements expired"
    for agreement in (past, last_day, open_ended, terminated):
        agreement.refresh_from_db()
    assert past.status == AgreementStatus.EXPIRED
    assert past.ended_at == datetime(2026, 12, 31, 0, 0, tzinfo=SHANGHAI)
    assert (last_day.status, open_ended.status) == (AgreementStatus.ACTIVE, AgreementStatus.ACTIVE)
    assert terminated.status == AgreementStatus.TERMINATED
    event = AgreementEvent.objects.get(agreement=past)
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "expire",
        AgreementStatus.ACTIVE,
        AgreementStatus.EXPIRED,
        None,
    )
    with at(2027, 1, 1, 0):
        assert run_check("sla.expire_agreements") == "1 agreements expired"
    last_day.refresh_from_db()
    assert last_day.status == AgreementStatus.EXPIRED


def test_draft_check_drafts_last_months_reports_from_the_first_working_day():
    sla = AgreementFactory(kind=AgreementKind.SLA, status=AgreementStatus.ACTIVE)
    AgreementFactory(kind=AgreementKind.OLA, status=AgreementStatus.ACTIVE)
    with at(2026, 10, 7):  # the last day of the National Day holidays
        assert run_check("sla.draft_reports") == "0 reports drafted"
    with at(2026, 10, 8):  # the first working day of October
        assert run_check("sla.draft_reports") == "1 reports drafted"
        assert run_check("sla.draft_reports") == "0 reports drafted"
    report = SlaReport.objects.get()
    assert (report.agreement, report.period) == (sla, date(2026, 9, 1))
    with at(2026, 11, 2):  # Monday: October's
        assert run_check("sla.draft_reports") == "1 reports drafted"
    assert sorted(SlaReport.objects.values_list("period", flat=True)) == [date(2026, 9, 1), date(2026, 10, 1)]


def test_review_check_reminds_once_per_stage(make_user):
    owner = make_user(Role.SERVICE_LEVEL_MANAGER)
    agreement = AgreementFactory(status=AgreementStatus.ACTIVE, owner=owner, next_review_on=date(2026, 12, 31))
    with at(2026, 12, 1, 8):
        assert run_check("sla.review_reminders") == "1 review reminders"
        assert run_check("sla.review_reminders") == "0 review reminders"
    with at(2026, 12, 24, 8):
        assert run_check("sla.review_reminders") == "1 review reminders"
    with at(2027, 1, 4, 8):
        assert run_check("sla.review_reminders") == "1 review reminders"
        assert run_check("sla.review_reminders") == "0 review reminders"
    keys = sorted(Notification.objects.values_list("key", flat=True))
    assert keys == [f"agreement:{agreement.pk}:review:2026-12-31:{stage}" for stage in ("30", "7", "overdue")]
