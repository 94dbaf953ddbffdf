"""``manage.py load_demo``: complaints in every state, some overdue and major, and idempotent."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.management import call_command
from django.utils import timezone

from complaints.choices import OPEN_STATUSES, ComplaintStatus, Severity
from complaints.demo import COMPLAINTS
from complaints.models import Complaint, ComplaintEvent, ComplaintSequence
from itsm.core.models import AccessToken, Contact, Notification, User

pytestmark = pytest.mark.django_db

COUNTED = (Complaint, ComplaintEvent, ComplaintSequence, AccessToken, Notification, User, Contact, LogEntry)


def _counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in COUNTED}


@pytest.mark.parametrize(
    "today",
    [datetime(2026, 11, 20, 2, 0, tzinfo=UTC), datetime(2026, 10, 12, 2, 0, tzinfo=UTC)],
    ids=["november", "after-national-day"],
)
def test_load_demo_creates_complaints_in_every_state_and_twice_changes_nothing(
    django_capture_on_commit_callbacks, today
):
    with time_machine.travel(today, tick=False):
        _load_twice_and_check(django_capture_on_commit_callbacks)


def _load_twice_and_check(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    first = _counts()
    with django_capture_on_commit_callbacks(execute=True):
        out = io.StringIO()
        call_command("load_demo", stdout=out)
    assert _counts() == first
    assert "0 rows created" in out.getvalue()

    # The demo's own complaints (the KPI history adds closed ones of the past 18 months).
    assert Complaint.objects.filter(title__in=[c.title for c in COMPLAINTS]).count() == len(COMPLAINTS)
    assert set(Complaint.objects.values_list("status", flat=True)) == set(ComplaintStatus.values)
    now = timezone.now()
    open_complaints = Complaint.objects.filter(status__in=OPEN_STATUSES)
    assert open_complaints.filter(response_due_at__lt=now, status=ComplaintStatus.REGISTERED).exists()
    assert open_complaints.filter(resolution_due_at__lt=now, paused_at__isnull=True).count() >= 2  # overdue
    assert Complaint.objects.filter(severity=Severity.MAJOR).count() >= 2
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) >= {0, 1, 2, 3}
    for closed in Complaint.objects.filter(status=ComplaintStatus.CLOSED):
        assert closed.result_satisfaction and closed.result_settled
        assert closed.root_cause and closed.remedial_actions and closed.result
    assert Complaint.objects.filter(reopen_count__gt=0).exists()
    # Most name a service of the demo catalogue, a few keep it in words; each remedy has its diagnosis.
    assert Complaint.objects.filter(related_service__isnull=False).count() >= len(COMPLAINTS) // 2
    assert Complaint.objects.filter(related_service__isnull=True).exclude(related_service_text="").exists()
    remedied = Complaint.objects.filter(events__action="remedy").distinct()
    assert remedied.exists() and not remedied.filter(diagnosis="").exists()
    # every complaint went through the real services: a registration row and one per move
    for complaint in Complaint.objects.all():
        assert complaint.events.filter(action="register").count() == 1
        last_move = complaint.events.exclude(to_status="").order_by("-pk").first()
        assert last_move.to_status == complaint.status
