"""Every link a role can reach on the demo data answers without a server error (issue 9,
item 9), and the audit trail renders every entry the demo writes (item 1).

The demo data is loaded once for the module (the ``demo`` fixture of tests/conftest.py);
each test runs in a savepoint on top of it. The crawl follows the navigation and the home
page of each role, three URLs per pattern at most, so it stays fast in CI.
"""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from itsm.core.history import AUDITED
from itsm.core.models import User
from itsm.core.roles import Role
from itsm.core.testing import crawl

# The mark matters beyond each test's savepoint: pytest-django creates the test database only
# for a session holding marked tests, and the module fixture below must never reach another.
pytestmark = pytest.mark.django_db

DEMO_USERS = {
    Role.SERVICE_DESK: "desk",
    Role.SATISFACTION_OWNER: "satisfaction",
    Role.BR_MANAGER: "brm",
    Role.DEPARTMENT_HEAD: "head",
    Role.MANAGEMENT_REP: "mrep",
    Role.PROCESS_OWNER: "owner",
    Role.SERVICE_LEVEL_MANAGER: "slm",
    Role.QUALITY_MANAGER: "quality",
    Role.AUDITOR: "auditor",
    "superuser": "admin",
}


def _admin_or_api(path: str) -> bool:
    # The admin's and the browsable API's own pages are Django's and DRF's: crawled by the
    # superuser below, not by every role.
    return path.startswith(("/admin/", "/api/"))


def _admin_variants(path: str) -> bool:
    # The superuser walks every admin and API page once, not each of their sortings, filters
    # and formats (Django's and DRF's own links, thousands of them).
    return path.startswith(("/admin/", "/api/")) and "?" in path


def _ok(url: str, status: int) -> bool:
    # 200, or a redirect (a download's format switch, a login-protected helper). Never a
    # server error, never a page a role's own links lead to that refuses it or is missing.
    return status in (200, 301, 302)


@pytest.mark.parametrize("role", list(DEMO_USERS), ids=str)
def test_every_link_a_role_can_reach_answers(demo, client, role):
    client.force_login(User.objects.get(username=DEMO_USERS[role]))
    result = crawl(client, ["/"], skip=_admin_variants if role == "superuser" else _admin_or_api, per_pattern=3)
    failures = result.failures(allowed=_ok)
    assert not failures, f"{len(failures)} of {len(result.visited)} links failed:\n" + "\n".join(failures)
    assert len(result.visited) > 20  # the crawl really walked the product


def test_every_page_of_the_audit_trail_over_the_demo_data_renders(demo, client):
    client.force_login(User.objects.get(username="auditor"))
    url = reverse("audit_list")
    pages = -(-LogEntry.objects.count() // 50)
    assert pages > 5
    for page in range(1, pages + 1):
        assert client.get(url, {"page": page}).status_code == 200, page
    for model in AUDITED:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        response = client.get(url, {"model": label})
        assert response.status_code == 200, label
        assert b"None" not in response.content.split(b"<tbody>", 1)[-1], label
    for fmt in ("csv", "xlsx"):
        response = client.get(url, {"format": fmt})
        assert response.status_code == 200
        b"".join(response.streaming_content)


def test_every_history_page_of_the_demo_records_renders(demo, client):
    """One history page per audited kind of record that has one (complaints, campaigns,
    agreements, services, organisations, contacts, calendars)."""
    client.force_login(User.objects.get(username="auditor"))
    from complaints.models import Complaint
    from itsm.core.models import Calendar, Contact, Organisation
    from sla.models import Agreement, Service
    from surveys.models import Campaign

    for model, name in (
        (Complaint, "complaint_history"),
        (Campaign, "campaign_history"),
        (Agreement, "agreement_history"),
        (Service, "service_history"),
        (Organisation, "organisation_history"),
        (Contact, "contact_history"),
        (Calendar, "calendar_history"),
    ):
        for pk in model.objects.values_list("pk", flat=True)[:20]:
            response = client.get(reverse(name, args=[pk]))
            assert response.status_code == 200, (name, pk)
