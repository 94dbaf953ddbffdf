"""The service catalogue: proposing and changing services (an RFC for an accepted one, nothing
for a retired one), every move of ``SERVICE_TRANSITIONS`` allowed and refused (state, role,
inputs), and the pages: access per role, the catalogue grouped by category with search and
filters in a constant number of queries, forms that answer bad input with a 400 and write
nothing, the actions on the service page."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    ANONYMOUS,
    NO_ROLE,
    Resource,
    assert_constant_queries,
    assert_nothing_written,
    check_page_access,
    page_matrix,
    role_may,
    user_with_role,
)
from itsm.core.workflow import TransitionRefused
from sla.choices import ServiceStatus
from sla.models import Service, ServiceEvent
from sla.services.catalogue import (
    service_allowed_actions,
    service_create,
    service_transition,
    service_update,
)
from sla.workflow import SERVICE_TRANSITIONS
from tests.factories import CalendarFactory
from tests.sla.factories import AgreementFactory, ServiceFactory

pytestmark = pytest.mark.django_db

S = ServiceStatus
SLM = Role.SERVICE_LEVEL_MANAGER.value
ROLES = [role.value for role in Role]
INPUTS = {"accept": {"rfc_ref": "RFC-2026-014"}, "retire": {"rfc_ref": "RFC-2026-099", "note": "replaced by M365"}}
SOURCE = {"accept": S.PROPOSED, "retire": S.ACCEPTED}


def manager():
    return user_with_role(SLM)


def propose(**fields) -> Service:
    fields.setdefault("code", "desktop")
    fields.setdefault("name", "Managed desktop")
    fields.setdefault("category", "Workplace")
    return service_create(actor=manager(), **fields)


def make_service(status: str = S.PROPOSED, **fields) -> Service:
    service = propose(**fields)
    if status in (S.ACCEPTED, S.RETIRED):
        service = service_transition(service=service, action="accept", actor=manager(), **INPUTS["accept"])
    if status == S.RETIRED:
        service = service_transition(service=service, action="retire", actor=manager(), **INPUTS["retire"])
    return service


# --- create and change ------------------------------------------------------------------------


def test_a_proposed_service_has_every_field_of_the_spec():
    owner = manager()
    calendar = CalendarFactory()
    service = propose(
        description="Desktops for HQ staff",
        owner=owner,
        standards="ISO 20000",
        contact_interface="desk@example.com, 400-100",
        calendar=calendar,
        exceptions="Closed on company days",
        security="Disk encryption",
    )
    assert service.status == S.PROPOSED
    assert (service.owner, service.calendar) == (owner, calendar)
    event = service.events.get()
    assert (event.action, event.to_status) == ("created", S.PROPOSED)


def test_create_refuses_a_duplicate_code_and_missing_fields_writing_nothing():
    propose()
    actor = manager()
    with assert_nothing_written(Service, ServiceEvent), pytest.raises(ValidationError) as error:
        service_create(actor=actor, code="desktop", name="", category="Workplace")
    assert {"code", "name"} <= set(error.value.message_dict)


def test_create_needs_the_permission_and_known_fields():
    actor = user_with_role(Role.AUDITOR)
    with assert_nothing_written(Service), pytest.raises(PermissionDenied):
        service_create(actor=actor, code="x", name="X", category="C")
    with pytest.raises(ValidationError) as error:
        propose(status=S.ACCEPTED)
    assert "status" in error.value.message_dict


def test_a_proposed_service_changes_freely():
    service = propose()
    changed = service_update(service=service, actor=manager(), name="Managed desktop (HQ)", security="TPM")
    assert changed.name == "Managed desktop (HQ)"
    event = changed.events.get(action="changed")
    assert event.rfc_ref == "" and event.note == "name, security"


def test_an_accepted_service_changes_only_with_an_rfc():
    service = make_service(S.ACCEPTED)
    actor = manager()
    with assert_nothing_written(ServiceEvent), translation.override("en"), pytest.raises(ValidationError) as error:
        service_update(service=service, actor=actor, name="Renamed")
    assert "RFC" in error.value.message_dict["rfc_ref"][0]
    assert Service.objects.get(pk=service.pk).name == "Managed desktop"
    changed = service_update(service=service, actor=actor, rfc_ref="RFC-2026-020", name="Renamed")
    assert (changed.name, changed.rfc_ref, changed.status) == ("Renamed", "RFC-2026-020", S.ACCEPTED)
    event = changed.events.get(action="changed")
    assert event.rfc_ref == "RFC-2026-020"


def test_an_edit_changing_nothing_writes_nothing():
    service = make_service(S.ACCEPTED)
    actor = manager()
    with assert_nothing_written(ServiceEvent):
        service_update(service=service, actor=actor, name="Managed desktop")


def test_a_retired_service_does_not_change():
    service = make_service(S.RETIRED)
    with pytest.raises(ValidationError):
        service_update(service=service, actor=manager(), rfc_ref="RFC-1", name="Back")


def test_update_needs_the_permission():
    service = propose()
    actor = user_with_role(Role.SERVICE_DESK)
    with assert_nothing_written(ServiceEvent), pytest.raises(PermissionDenied):
        service_update(service=service, actor=actor, name="x")


# --- the workflow -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(SERVICE_TRANSITIONS))
def test_each_move_is_allowed_to_the_service_level_manager(action):
    service = make_service(SOURCE[action])
    moved = service_transition(service=service, action=action, actor=manager(), **INPUTS[action])
    assert moved.status == SERVICE_TRANSITIONS[action].target
    assert moved.rfc_ref == INPUTS[action]["rfc_ref"]
    event = moved.events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status, event.rfc_ref) == (
        action,
        SOURCE[action],
        moved.status,
        INPUTS[action]["rfc_ref"],
    )
    assert event.note == INPUTS[action].get("note", "")


@pytest.mark.parametrize("action", list(SERVICE_TRANSITIONS))
@pytest.mark.parametrize("role", [r for r in ROLES if r != SLM])
def test_each_move_is_refused_to_every_other_role(action, role):
    service = make_service(SOURCE[action])
    actor = user_with_role(role)
    with assert_nothing_written(ServiceEvent), pytest.raises(PermissionDenied):
        service_transition(service=service, action=action, actor=actor, **INPUTS[action])


@pytest.mark.parametrize("action", list(SERVICE_TRANSITIONS))
@pytest.mark.parametrize("status", list(S))
def test_each_move_is_refused_from_every_other_state(action, status):
    if status == SOURCE[action]:
        return
    service = make_service(status)
    actor = manager()
    with assert_nothing_written(ServiceEvent), translation.override("en"), pytest.raises(TransitionRefused) as error:
        service_transition(service=service, action=action, actor=actor, **INPUTS[action])
    assert "not possible while the service is" in error.value.message_dict["action"][0]


@pytest.mark.parametrize("action", list(SERVICE_TRANSITIONS))
def test_each_move_needs_its_inputs(action):
    service = make_service(SOURCE[action])
    actor = manager()
    with assert_nothing_written(ServiceEvent), pytest.raises(ValidationError) as error:
        service_transition(service=service, action=action, actor=actor, rfc_ref=" ", note="")
    assert set(error.value.message_dict) == set(SERVICE_TRANSITIONS[action].requires)


def test_no_catalogue_move_is_the_systems_and_unknown_ones_are_refused():
    service = make_service()
    with pytest.raises(PermissionDenied):
        service_transition(service=service, action="accept", actor=None, rfc_ref="RFC-1")
    with pytest.raises(TransitionRefused):
        service_transition(service=service, action="publish", actor=manager())


def test_allowed_actions_follow_state_and_role():
    assert [t.action for t in service_allowed_actions(make_service(), manager())] == ["accept"]
    assert service_allowed_actions(make_service(code="x"), user_with_role(Role.AUDITOR)) == []
    assert service_allowed_actions(make_service(S.RETIRED, code="y"), manager()) == []


# --- pages ------------------------------------------------------------------------------------

SERVICES = Resource.for_model(Service, ServiceFactory)
READERS = [r for r in ALL_ROLES if r not in (ANONYMOUS, NO_ROLE) and role_may(r, ["view"], Service)]


@pytest.fixture
def en(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def login(client, role: str = SLM):
    user = user_with_role(role)
    client.force_login(user)
    return user


def test_every_staff_role_reads_the_catalogue_and_only_the_manager_keeps_it():
    assert set(READERS) == set(ROLES)
    assert [r for r in ROLES if role_may(r, ["add", "change"], Service)] == [SLM]


@pytest.mark.parametrize("case", page_matrix(SERVICES), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_service_page(client, role):
    service = make_service(S.ACCEPTED)
    agreement = AgreementFactory()
    agreement.services.add(service)
    login(client, role)
    response = client.get(service.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert agreement.number in page
    assert ("/actions/retire/" in page) == (role == SLM)
    assert ('data-testid="edit-link"' in page) == (role == SLM)


def test_the_catalogue_is_grouped_by_category_searchable_and_filtered(en):
    login(en, Role.SERVICE_DESK)
    mail = make_service(code="mail", name="Email", category="Collaboration", description="Exchange Online")
    desk = make_service(S.ACCEPTED, code="desk", name="Service desk", category="Support")
    old = make_service(S.RETIRED, code="fax", name="Fax", category="Collaboration")

    def listed(query: str = "") -> tuple[list[str], set[int]]:
        page = en.get(reverse("service_list") + query).content.decode()
        return re.findall(r'data-category="([^"]+)"', page), {int(p) for p in re.findall(r'data-service="(\d+)"', page)}

    assert listed() == (["Collaboration", "Support"], {mail.pk, desk.pk, old.pk})
    assert listed("?q=exchange") == (["Collaboration"], {mail.pk})
    assert listed("?q=DESK")[1] == {desk.pk}
    assert listed("?status=retired")[1] == {old.pk}
    assert listed("?status=proposed&status=accepted")[1] == {mail.pk, desk.pk}
    assert listed("?category=support")[1] == {desk.pk}
    assert listed("?status=bogus")[1] == set()


def test_the_catalogue_runs_a_constant_number_of_queries(client):
    login(client, Role.AUDITOR)
    owner = manager()
    calendar = CalendarFactory()
    categories = iter(range(1000))

    def grow(n: int) -> None:
        for _ in range(n):
            service = ServiceFactory(category=f"Category {next(categories) % 4}", owner=owner, calendar=calendar)
            AgreementFactory().services.add(service)

    assert_constant_queries(client, reverse("service_list"), grow, few=3, many=25)


def test_the_service_page_runs_a_constant_number_of_queries(client):
    service = make_service(S.ACCEPTED)
    login(client)

    def grow(n: int) -> None:
        for i in range(n):
            AgreementFactory().services.add(service)
            service_update(service=service, actor=manager(), rfc_ref=f"RFC-{i}", description=f"v{service.pk}-{i}-{n}")

    assert_constant_queries(client, service.get_absolute_url(), grow, few=2, many=10)


def test_the_manager_proposes_a_service_from_the_page(en):
    user = login(en)
    response = en.post(
        reverse("service_create"),
        {"code": "vpn", "name": "Remote access", "category": "Network", "owner": user.pk, "status": "retired"},
    )
    service = Service.objects.get(code="vpn")
    assert response.status_code == 302 and response["Location"] == service.get_absolute_url()
    assert service.status == S.PROPOSED and service.calendar is None


def test_a_bad_service_form_is_a_400_with_messages_and_nothing_written(en):
    login(en)
    propose()
    with assert_nothing_written(Service, ServiceEvent):
        response = en.post(reverse("service_create"), {"code": "desktop", "name": "", "category": "x"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert "Service with this Code already exists." in page


def test_the_edit_page_asks_for_the_rfc_of_an_accepted_service(en):
    login(en)
    service = make_service(S.ACCEPTED)
    data = {"code": service.code, "name": "Desktop 2", "category": service.category}
    with assert_nothing_written(ServiceEvent):
        response = en.post(reverse("service_edit", args=[service.pk]), data)
    assert response.status_code == 400
    assert 'id="id_change_rfc_error"' in response.content.decode()
    response = en.post(reverse("service_edit", args=[service.pk]), {**data, "change_rfc": "RFC-77"})
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.name, service.rfc_ref) == ("Desktop 2", "RFC-77")


def test_the_edit_page_of_a_proposed_service_asks_no_rfc(en):
    login(en)
    service = make_service()
    response = en.get(reverse("service_edit", args=[service.pk]))
    assert "change_rfc" not in response.content.decode()
    response = en.post(
        reverse("service_edit", args=[service.pk]), {"code": "desktop", "name": "Desk", "category": "Workplace"}
    )
    assert response.status_code == 302
    assert Service.objects.get(pk=service.pk).name == "Desk"


def test_a_retired_service_cannot_be_edited_from_the_page(en):
    login(en)
    service = make_service(S.RETIRED)
    with assert_nothing_written(ServiceEvent):
        response = en.post(
            reverse("service_edit", args=[service.pk]),
            {"code": "desktop", "name": "Back", "category": "Workplace", "change_rfc": "RFC-1"},
        )
    assert response.status_code == 400
    assert "A retired service can no longer be changed." in response.content.decode()


def test_the_actions_from_the_service_page(en):
    login(en)
    service = make_service()
    with assert_nothing_written(ServiceEvent):
        response = en.post(reverse("service_transition", args=[service.pk, "accept"]), {})
    assert response.status_code == 400
    assert 'id="id_accept-rfc_ref_error"' in response.content.decode()
    response = en.post(reverse("service_transition", args=[service.pk, "accept"]), {"accept-rfc_ref": "RFC-5"})
    assert response.status_code == 302
    assert Service.objects.get(pk=service.pk).status == S.ACCEPTED
    with assert_nothing_written(ServiceEvent):
        response = en.post(reverse("service_transition", args=[service.pk, "accept"]), {"accept-rfc_ref": "RFC-6"})
    assert response.status_code == 400
    assert "not possible while the service is Accepted" in response.content.decode()
    assert en.post(reverse("service_transition", args=[service.pk, "promote"])).status_code == 404


@pytest.mark.parametrize("role", [r for r in ROLES if r != SLM])
def test_other_roles_cannot_move_a_service_from_the_page(client, role):
    service = make_service()
    login(client, role)
    with assert_nothing_written(ServiceEvent):
        response = client.post(reverse("service_transition", args=[service.pk, "accept"]), {"accept-rfc_ref": "R"})
    assert response.status_code == 403
