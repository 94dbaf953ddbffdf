"""Periodic checks (itsm.core.periodic): the registry, runs, the command and the beat schedule."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command

from itsm.core import periodic
from itsm.core.models import Notification, PeriodicCheckRun
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.periodic import periodic_check, registered_checks, run_all_checks, run_check
from itsm.core.tasks import run_periodic_check_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
RUN_TASK = "itsm.core.run_periodic_check"


@pytest.fixture
def registry():
    """Register test checks freely: the registry is put back afterwards."""
    saved = dict(periodic._registry)
    yield periodic._registry
    periodic._registry.clear()
    periodic._registry.update(saved)


@pytest.fixture
def counting_check(registry):
    calls = []

    @periodic_check("test.counting")
    def counting() -> str:
        """Counts its runs."""
        calls.append(1)
        return f"run {len(calls)}"

    return calls


# --- the registry -----------------------------------------------------------------------


def test_registering_a_check(counting_check):
    check = next(c for c in registered_checks() if c.name == "test.counting")
    assert check.description == "Counts its runs."
    assert check.func() == "run 1"


def test_registered_checks_are_sorted_and_include_core():
    names = [check.name for check in registered_checks()]
    assert "core.deliver_due_notifications" in names
    assert names == sorted(names)


def test_the_same_function_may_be_registered_again(registry):
    # Module re-import (autoreload) registers the same function object again.
    def check() -> str:
        return ""

    periodic_check("test.again")(check)
    periodic_check("test.again")(check)
    assert registry["test.again"].func is check


def test_a_name_registered_twice_is_an_error(counting_check):
    with pytest.raises(ValueError, match="test.counting"):

        @periodic_check("test.counting")
        def impostor() -> str:
            return ""


@pytest.mark.django_db
def test_run_check_records_the_run(counting_check):
    moment = datetime(2026, 9, 15, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        assert run_check("test.counting") == "run 1"
    run = PeriodicCheckRun.objects.get(name="test.counting")
    assert run.last_started_at == moment
    assert run.last_finished_at == moment
    assert run.last_result == "run 1"
    run_check("test.counting")
    assert PeriodicCheckRun.objects.get(name="test.counting").last_result == "run 2"
    assert PeriodicCheckRun.objects.filter(name="test.counting").count() == 1


@pytest.mark.django_db
def test_run_check_records_a_long_result_truncated(registry):
    periodic_check("test.chatty")(lambda: "x" * 1000)
    run_check("test.chatty")
    assert PeriodicCheckRun.objects.get(name="test.chatty").last_result == "x" * 300


@pytest.mark.django_db
def test_a_failing_check_raises(registry):
    def broken() -> str:
        raise RuntimeError("boom")

    periodic_check("test.broken")(broken)
    with pytest.raises(RuntimeError):  # Celery logs it and beat runs it again next time
        run_check("test.broken")


@pytest.mark.django_db
def test_run_all_checks_runs_each_once(counting_check):
    results = run_all_checks()
    assert results["test.counting"] == "run 1"
    assert set(results) == {check.name for check in registered_checks()}
    assert set(PeriodicCheckRun.objects.values_list("name", flat=True)) == set(results)


@pytest.mark.django_db
def test_the_celery_task_runs_a_check_by_name(counting_check):
    assert run_periodic_check_task.delay("test.counting").get() == "run 1"
    assert PeriodicCheckRun.objects.filter(name="test.counting").exists()


# --- the command ------------------------------------------------------------------------


@pytest.mark.django_db
def test_run_due_checks_runs_every_check(counting_check, capsys):
    call_command("run_due_checks")
    out = capsys.readouterr().out
    for check in registered_checks():
        assert f"{check.name}: " in out
    assert "test.counting: run 1" in out
    assert len(counting_check) == 1
    assert PeriodicCheckRun.objects.count() == len(registered_checks())


@pytest.mark.django_db
def test_run_due_checks_runs_only_the_named_checks(counting_check, capsys):
    call_command("run_due_checks", "test.counting")
    assert capsys.readouterr().out.strip() == "test.counting: run 1"
    assert list(PeriodicCheckRun.objects.values_list("name", flat=True)) == ["test.counting"]


@pytest.mark.django_db
def test_run_due_checks_list(counting_check, capsys):
    call_command("run_due_checks", "--list")
    lines = capsys.readouterr().out.splitlines()
    assert "test.counting\tCounts its runs." in lines
    assert len(lines) == len(registered_checks())
    assert counting_check == []  # listed, not run
    assert not PeriodicCheckRun.objects.exists()


@pytest.mark.django_db
def test_run_due_checks_unknown_name(counting_check):
    with pytest.raises(CommandError, match="no.such.check"):
        call_command("run_due_checks", "test.counting", "no.such.check")
    assert counting_check == []  # nothing runs when one name is wrong


# --- idempotence ------------------------------------------------------------------------


@pytest.mark.django_db
def test_held_mail_is_sent_by_the_first_run_only(django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2026, 9, 11, 22, 0, tzinfo=SHANGHAI), tick=False):  # Friday night
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(3):
                notification_queue(
                    key=f"held-{n}",
                    template="core/email/test_message",
                    recipient=Recipient(email=f"c{n}@customer.example", language="en"),
                    context={"sent_at": datetime(2026, 9, 11, 22, 0, tzinfo=SHANGHAI)},
                )
        assert run_check("core.deliver_due_notifications") == "0 queued, 0 stale claims released"
    assert mail.outbox == []
    with time_machine.travel(datetime(2026, 9, 14, 9, 5, tzinfo=SHANGHAI), tick=False):  # Monday morning
        assert run_check("core.deliver_due_notifications") == "3 queued, 0 stale claims released"
        assert len(mail.outbox) == 3
        assert run_check("core.deliver_due_notifications") == "0 queued, 0 stale claims released"
    assert len(mail.outbox) == 3
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_every_check_run_twice_sends_nothing_the_second_time():
    """The contract of every app's checks: beat, cron and an operator may overlap."""
    with time_machine.travel(datetime(2026, 9, 14, 10, 0, tzinfo=SHANGHAI), tick=False):
        run_all_checks()
        sent, recorded = len(mail.outbox), Notification.objects.count()
        run_all_checks()
    assert len(mail.outbox) == sent
    assert Notification.objects.count() == recorded


# --- the beat schedule ------------------------------------------------------------------


def _beat_entries_for_checks():
    return {key: entry for key, entry in settings.CELERY_BEAT_SCHEDULE.items() if entry["task"] == RUN_TASK}


@pytest.mark.parametrize("check", registered_checks(), ids=lambda c: c.name)
def test_every_registered_check_is_on_the_beat_schedule(check):
    entries = [e for e in _beat_entries_for_checks().values() if tuple(e.get("args", ())) == (check.name,)]
    assert len(entries) == 1, f"{check.name} needs exactly one CELERY_BEAT_SCHEDULE entry"
    (entry,) = entries
    assert isinstance(entry["schedule"], crontab)
    assert entry.get("options", {}).get("expires"), "a beat entry needs an expires option"


@pytest.mark.parametrize("key", sorted(_beat_entries_for_checks()))
def test_every_beat_entry_names_a_registered_check(key):
    entry = settings.CELERY_BEAT_SCHEDULE[key]
    (name,) = entry["args"]
    assert name in {check.name for check in registered_checks()}
    assert isinstance(entry["schedule"], crontab)
    assert entry["options"]["expires"] > 0
