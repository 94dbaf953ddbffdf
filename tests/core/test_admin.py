"""The Django admin: calendar edits there have the same consequences as on the calendar page."""

import pytest
from django.urls import reverse

from itsm.core.models import Calendar
from itsm.core.signals import calendar_changed

pytestmark = pytest.mark.django_db


def test_editing_a_calendar_in_the_admin_bumps_its_version_and_signals(
    client, make_user, django_capture_on_commit_callbacks
):
    admin = make_user(None, is_staff=True, is_superuser=True)
    client.force_login(admin)
    calendar = Calendar.objects.get(is_default=True)
    received = []
    calendar_changed.connect(lambda sender, calendar, **kw: received.append(calendar.pk), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("admin:core_calendar_change", args=[calendar.pk]),
                {
                    "name": calendar.name,
                    "country": "CN",
                    "subdivision": "",
                    "time_zone": "Asia/Shanghai",
                    "work_start": "08:30",
                    "work_end": "17:30",
                    "is_default": "on",
                    "overrides-TOTAL_FORMS": "1",
                    "overrides-INITIAL_FORMS": "0",
                    "overrides-MIN_NUM_FORMS": "0",
                    "overrides-MAX_NUM_FORMS": "1000",
                    "overrides-0-date": "2026-12-31",
                    "overrides-0-is_working_day": "",
                    "overrides-0-reason": "company day off",
                },
            )
    finally:
        calendar_changed.disconnect(dispatch_uid="t")
    assert response.status_code == 302, response.content[:2000]
    stored = Calendar.objects.get(pk=calendar.pk)
    assert stored.version == calendar.version + 1
    assert stored.overrides.get().reason == "company day off"
    assert received == [calendar.pk]


def test_the_audit_trail_admin_offers_no_add_change_or_delete(client, make_user):
    from auditlog.models import LogEntry

    from itsm.core import services

    admin = make_user(None, is_staff=True, is_superuser=True)
    services.organisation_create(actor=admin, name="Logged", code="logged")
    entry = LogEntry.objects.latest("pk")
    client.force_login(admin)
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_delete", args=[entry.pk])).status_code == 403
    response = client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk]))
    assert response.status_code == 200 and b'name="_save"' not in response.content
