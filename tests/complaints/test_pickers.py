"""Complaint pages with type-ahead pickers: the list's filters and the registration, edit and
action forms hold only the chosen organisation / contact / user, so the page does not grow
with those tables; a pk that does not fit (or is out of reach) is a form error that writes
nothing."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.choices import ComplaintStatus, Severity
from complaints.models import Complaint, ComplaintEvent
from itsm.core.models import Contact
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from tests.complaints.factories import make_complaint, role_user
from tests.factories import ContactFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select is not None, name
    return re.findall(r'<option value="([^"]*)"', select.group(0))


@pytest.fixture
def desk(client):
    client.force_login(role_user(Role.SERVICE_DESK))
    return client


def registration(**overrides) -> dict:
    return {
        "channel": "phone",
        "organisation": "",
        "contact": "",
        "new_contact_language": "zh-hans",
        "title": "VPN down",
        "description": "Since 9:00.",
        "severity": Severity.NORMAL,
        "category": "",
        "handler": "",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        **overrides,
    }


def test_the_list_filters_hold_only_the_chosen_organisation_and_owner(desk):
    complaint = make_complaint()
    chosen, owner = complaint.organisation, complaint.owner
    small = desk.get(reverse("complaint_list"), {"organisation": chosen.pk, "owner": owner.pk}).content.decode()
    for _ in range(300):
        OrganisationFactory()
    UserFactory.create_batch(30)
    response = desk.get(reverse("complaint_list"), {"organisation": chosen.pk, "owner": owner.pk})
    large = response.content.decode()
    assert response.status_code == 200 and complaint.reference in large
    assert options(large, "organisation") == ["", str(chosen.pk)]
    assert options(large, "owner") == ["", str(owner.pk)]
    assert large.count("<option") == small.count("<option")
    # The page's size does not follow the tables (a few bytes: the CSRF token, timings).
    assert abs(len(large) - len(small)) < 200
    assert f'data-picker-url="{reverse("pick_organisations")}?kind=customer"' in large


def test_the_list_refuses_an_organisation_that_is_not_a_customer(desk):
    make_complaint()
    supplier = OrganisationFactory(kind="supplier")
    response = desk.get(reverse("complaint_list"), {"organisation": supplier.pk})
    assert response.status_code == 200
    assert response.context["rows"] == [] and "organisation" in response.context["filterset"].errors
    assert options(response.content.decode(), "organisation") == [""]  # nothing drawn for it


def test_the_registration_page_does_not_grow_with_organisations_contacts_or_staff(desk):
    small = desk.get(reverse("complaint_create")).content.decode()
    for _ in range(300):
        ContactFactory()
    for _ in range(20):
        role_user(Role.SERVICE_DESK)
        UserFactory()
    large = desk.get(reverse("complaint_create")).content.decode()
    for name in ("organisation", "contact", "handler"):
        assert options(large, name) == [""], name
    assert large.count("<option") == small.count("<option")
    assert abs(len(large) - len(small)) < 200


def test_the_registration_page_runs_a_constant_number_of_queries(desk):
    contact = ContactFactory(name="Aaron First")  # among the organisation's first contacts
    url = reverse("complaint_create") + f"?contact={contact.pk}"
    desk.get(url)
    with CaptureQueriesContext(connection) as few:
        desk.get(url)
    for index in range(100):
        ContactFactory(organisation=contact.organisation, name=f"Zhang {index:03d}")
    with CaptureQueriesContext(connection) as many:
        page = desk.get(url).content.decode()
    assert len(few) == len(many)
    # The chosen contact and its organisation, plus the organisation's first 20 contacts.
    assert options(page, "organisation") == ["", str(contact.organisation_id)]
    assert str(contact.pk) in options(page, "contact") and len(options(page, "contact")) == 21


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("organisation", lambda: OrganisationFactory(kind="supplier").pk),  # not a customer
        ("organisation", lambda: OrganisationFactory(is_active=False).pk),  # no longer active
        ("organisation", lambda: "999999"),  # no such row
        ("organisation", lambda: "abc"),
        ("contact", lambda: ContactFactory(organisation=OrganisationFactory(kind="supplier")).pk),
        ("contact", lambda: ContactFactory(is_active=False).pk),
        ("handler", lambda: role_user(Role.BR_MANAGER).pk),  # not on the service desk
        ("handler", lambda: UserFactory(is_active=False).pk),
    ],
)
def test_a_pick_that_does_not_fit_is_an_error_at_the_field(desk, field, value):
    organisation = OrganisationFactory()
    data = registration(organisation=organisation.pk, contact=ContactFactory(organisation=organisation).pk)
    data[field] = value()
    if field == "contact":
        data["organisation"] = ""
    with assert_nothing_written(Complaint, Contact, ComplaintEvent):
        response = desk.post(reverse("complaint_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()


def test_registration_is_out_of_reach_without_the_role(client):
    """The pickers are scoped to the user; without the right to register, the page is 403."""
    client.force_login(UserFactory())
    organisation = OrganisationFactory()
    with assert_nothing_written(Complaint, Contact):
        response = client.post(reverse("complaint_create"), registration(organisation=organisation.pk))
    assert response.status_code == 403


def test_inline_contact_creation_still_works_with_the_picker(desk):
    organisation = OrganisationFactory()
    data = registration(organisation=organisation.pk, new_contact_name="陈静", new_contact_phone="13800000009")
    response = desk.post(reverse("complaint_create"), data)
    assert response.status_code == 302
    assert Complaint.objects.get().contact == Contact.objects.get(name="陈静", organisation=organisation)


def test_the_edit_form_draws_only_the_current_handler(desk):
    complaint = make_complaint(ComplaintStatus.ACCEPTED)
    for _ in range(10):
        role_user(Role.SERVICE_DESK)
        UserFactory()
    page = desk.get(reverse("complaint_edit", args=[complaint.pk])).content.decode()
    assert options(page, "handler") == ["", str(complaint.handler_id)]
    stranger = role_user(Role.DEPARTMENT_HEAD)
    data = {
        "title": complaint.title,
        "description": complaint.description,
        "severity": complaint.severity,
        "category": complaint.category,
        "related_service": "",
        "external_ticket_ref": "",
        "handler": stranger.pk,
        "root_cause": "",
    }
    data["channel"] = complaint.channel
    with assert_nothing_written(Complaint, ComplaintEvent):
        response = desk.post(reverse("complaint_edit", args=[complaint.pk]), data)
    assert response.status_code == 200 and list(response.context["form"].errors) == ["handler"]
    data["handler"] = role_user(Role.SERVICE_DESK).pk  # one of the desk: saved
    assert desk.post(reverse("complaint_edit", args=[complaint.pk]), data).status_code == 302


def test_the_escalation_owner_is_a_picker_of_the_target_role(desk):
    complaint = make_complaint(ComplaintStatus.INVESTIGATING)
    page = desk.get(complaint.get_absolute_url()).content.decode()
    owner = re.search(r'<select name="escalate-owner"[^>]*>', page)
    assert owner is not None and "/pick/escalation_owners/?level=1" in owner.group(0)
    assert options(page, "escalate-owner") == [""]
