"""Complaint changes made by the system and the customer reach the audit trail too."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry

from complaints.services import complaint_record_feedback
from itsm.core.periodic import run_check
from tests.complaints.factories import make_complaint

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _changes(complaint):
    return [entry.changes for entry in LogEntry.objects.get_for_object(complaint).order_by("pk")]


def test_an_automatic_escalation_is_in_the_audit_trail(django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI), tick=False):
        complaint = make_complaint()
    later = time_machine.travel(datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI), tick=False)
    with later, django_capture_on_commit_callbacks(execute=True):
        run_check("complaints.check_deadlines")
    escalations = [c for c in _changes(complaint) if c and "escalation_level" in c]
    assert escalations and escalations[-1]["escalation_level"] == ["0", "1"]
    entry = LogEntry.objects.get_for_object(complaint).latest("pk")
    assert entry.actor is None  # the system did it


def test_the_customers_rating_is_in_the_audit_trail(django_capture_on_commit_callbacks):
    import re

    from itsm.core.mail_links import unseal
    from itsm.core.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        complaint = make_complaint("resolved")
    from django.core import mail

    # The result mail may be held until working hours (its link waits encrypted in the row)
    # or sent (the link is in the outbox, no longer in the row).
    row = Notification.objects.filter(template="complaints/email/result").latest("pk")
    held = unseal(row.secret_context).get("link", "")
    body = held + "".join(message.body for message in mail.outbox)
    token = re.search(r"/complaint-feedback/([^/\s]+)/", body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_record_feedback(raw_token=token, satisfaction=5, settled=True, comment="ok")
    assert any(c and c.get("result_satisfaction") == ["None", "5"] for c in _changes(complaint))


def test_the_timeline_cannot_be_changed_or_deleted_even_in_bulk():
    from django.db import DatabaseError, transaction

    from complaints.models import ComplaintEvent

    complaint = make_complaint("accepted")
    events = ComplaintEvent.objects.filter(complaint=complaint)
    with pytest.raises(DatabaseError), transaction.atomic():
        events.update(note="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        events._raw_delete(events.db)
    assert events.count() == 2 and not events.filter(note="rewritten").exists()
