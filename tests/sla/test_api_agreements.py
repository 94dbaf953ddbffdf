"""The catalogue and agreement API beyond access: services (create, edit under an RFC, every
catalogue move allowed and refused), agreements (create and edit through the services,
read-only fields, bad input with nothing written, filters, every workflow move allowed and
refused, the signed document, versions and their comparison, the underpinning rows, the
standard targets, the history).

Everything goes through the real services; time is frozen (Monday 2 March 2026, 10:00 in
Shanghai) so numbers and validity are fixed. Every test starts in zh-hans: assertions on
English messages switch the language (the cookie the switcher sets, and
``translation.override("en")``) with ``english(client)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from itsm.core.choices import OrganisationKind
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written, user_with_role
from sla.choices import AgreementKind, AgreementStatus, Metric, Priority, ServiceStatus, TargetUnit
from sla.models import Agreement, AgreementEvent, AgreementVersion, Service, ServiceEvent, ServiceLevelTarget
from sla.services.agreements import agreement_create, agreement_transition, agreement_upload_document
from sla.services.catalogue import service_transition
from sla.services.targets import target_create
from sla.workflow import AGREEMENT_TRANSITIONS, SERVICE_TRANSITIONS
from tests.factories import CalendarFactory, OrganisationFactory
from tests.sla.factories import AgreementFactory, ServiceFactory, TargetFactory

pytestmark = pytest.mark.django_db

A = AgreementStatus
SLM = Role.SERVICE_LEVEL_MANAGER.value
AUDITOR = Role.AUDITOR.value
SERVICES = "/api/v1/services/"
AGREEMENTS = "/api/v1/agreements/"
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Shanghai
AFTER_VALIDITY = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
VALID_FROM, VALID_TO = date(2026, 1, 1), date(2026, 12, 31)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
COUNTERPARTY = {
    AgreementKind.SLA: OrganisationKind.CUSTOMER,
    AgreementKind.OLA: OrganisationKind.INTERNAL_TEAM,
    AgreementKind.UC: OrganisationKind.SUPPLIER,
}
_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def slm():
    return user_with_role(SLM)


@pytest.fixture
def api(api_client, slm):
    api_client.force_authenticate(slm)
    api_client.user = slm
    return api_client


@contextmanager
def english(client) -> Iterator[None]:
    """Requests (the language cookie, as the switcher sets it) and the test itself in English."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    try:
        with translation.override("en"):
            yield
    finally:
        del client.cookies[settings.LANGUAGE_COOKIE_NAME]


def pdf(name: str = "signed.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    for field in fields:
        assert isinstance(body["errors"].get(field), list) and body["errors"][field], body
    return body


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def detail(agreement: Agreement, suffix: str = "") -> str:
    return f"{AGREEMENTS}{agreement.pk}/{suffix}"


def agreement_in(status: str, actor, *, kind: str = AgreementKind.SLA, target: bool = True) -> Agreement:
    """An agreement brought to ``status`` by the real services."""
    agreement = agreement_create(
        actor=actor,
        kind=kind,
        title=f"Agreement {next(_n)}",
        counterparty=OrganisationFactory(kind=COUNTERPARTY[AgreementKind(kind)]),
        valid_from=VALID_FROM,
        valid_to=VALID_TO,
        service_description="Desktop support.",
    )
    if target:
        target_create(
            agreement=agreement,
            actor=actor,
            metric=Metric.RESOLUTION,
            priority=Priority.P1,
            value=Decimal(2),
            unit=TargetUnit.HOURS,
        )
    if status == A.DRAFT:
        return agreement
    agreement = agreement_transition(agreement=agreement, action="negotiate", actor=actor)
    if status == A.NEGOTIATING:
        return agreement
    agreement = agreement_upload_document(agreement=agreement, actor=actor, upload=pdf(), signed_on=date(2026, 2, 27))
    agreement = agreement_transition(agreement=agreement, action="activate", actor=actor)
    if status == A.ACTIVE:
        return agreement
    if status == A.TERMINATED:
        return agreement_transition(agreement=agreement, action="terminate", actor=actor, note="Contract ended.")
    with time_machine.travel(AFTER_VALIDITY, tick=False):
        return agreement_transition(agreement=agreement, action="expire", actor=None)


def agreement_payload(**changes) -> dict:
    data = {
        "kind": "sla",
        "title": f"Desktop SLA {next(_n)}",
        "counterparty": OrganisationFactory(kind=OrganisationKind.CUSTOMER).pk,
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "service_description": "Desktop support for **all** offices.",
    }
    return {**data, **changes}


# --- services -----------------------------------------------------------------------------------


def test_a_service_is_proposed_through_the_api(api, slm):
    calendar = CalendarFactory()
    payload = {
        "code": "desktop",
        "name": "Desktop support",
        "category": "End user",
        "owner": slm.pk,
        "calendar": calendar.pk,
        "security": "Remote sessions are recorded.",
    }
    response = api.post(SERVICES, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["status"], body["owner"], body["calendar"]) == (
        "desktop",
        "proposed",
        slm.pk,
        calendar.pk,
    )
    assert body["calendar_name"] == calendar.name and body["agreement_count"] == 0
    assert body["allowed_actions"] == ["accept"]
    service = Service.objects.get(pk=body["id"])
    assert list(service.events.values_list("action", flat=True)) == ["created"]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"status": "accepted"}, ["status"]),
        ({"created_at": "2026-01-01T00:00:00Z", "agreement_count": 3}, ["created_at", "agreement_count"]),
        ({"colour": "blue"}, ["colour"]),
        ({"code": "not a slug"}, ["code"]),
        ({"code": "taken"}, ["code"]),
        ({"name": ""}, ["name"]),
        ({"owner": 999999}, ["owner"]),
        ({"calendar": "x"}, ["calendar"]),
    ],
)
def test_bad_service_input_is_a_400_per_field_and_writes_nothing(api, changes, fields):
    ServiceFactory(code="taken")
    payload = {"code": f"svc-new-{next(_n)}", "name": "Backup", "category": "Infrastructure", **changes}
    with assert_nothing_written(Service, ServiceEvent):
        assert_invalid(api.post(SERVICES, payload, format="json"), *fields)


def test_the_status_of_a_service_changes_only_through_a_move(api):
    service = ServiceFactory()
    with assert_nothing_written(Service, ServiceEvent):
        body = assert_invalid(api.patch(f"{SERVICES}{service.pk}/", {"status": "retired"}, format="json"), "status")
        assert body["errors"]["status"] == ["状态只能通过流程操作变更（POST …/transitions/）。"]  # zh-hans by default
        with english(api):
            body = assert_invalid(api.patch(f"{SERVICES}{service.pk}/", {"status": "retired"}), "status")
    assert "workflow action" in body["errors"]["status"][0]
    service.refresh_from_db()
    assert service.status == ServiceStatus.PROPOSED


def test_an_accepted_service_changes_only_with_an_rfc(api, slm):
    service = service_transition(service=ServiceFactory(), action="accept", actor=slm, rfc_ref="RFC-1")
    url = f"{SERVICES}{service.pk}/"
    with assert_nothing_written(Service, ServiceEvent):
        assert_invalid(api.patch(url, {"name": "Renamed"}, format="json"), "rfc_ref")
    response = api.patch(url, {"name": "Renamed", "rfc_ref": "RFC-2"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["rfc_ref"]) == ("Renamed", "RFC-2")
    events = api.get(f"{url}events/").json()["results"]
    assert [(e["action"], e["rfc_ref"]) for e in events] == [("accept", "RFC-1"), ("changed", "RFC-2")]


def test_a_retired_service_no_longer_changes(api, slm):
    service = service_transition(service=ServiceFactory(), action="accept", actor=slm, rfc_ref="RFC-1")
    service = service_transition(service=service, action="retire", actor=slm, rfc_ref="RFC-2", note="Replaced.")
    with assert_nothing_written(Service, ServiceEvent):
        response = api.patch(f"{SERVICES}{service.pk}/", {"name": "X", "rfc_ref": "RFC-3"}, format="json")
    assert_invalid(response, "non_field_errors")


SERVICE_MOVES = [
    ("accept", ServiceStatus.PROPOSED, {"rfc_ref": "RFC-100"}, ServiceStatus.ACCEPTED),
    ("retire", ServiceStatus.ACCEPTED, {"rfc_ref": "RFC-101", "note": "Withdrawn."}, ServiceStatus.RETIRED),
]


def test_every_catalogue_move_is_tested():
    assert {move for move, *_rest in SERVICE_MOVES} == set(SERVICE_TRANSITIONS)


def _service_in(status: str, actor) -> Service:
    service = ServiceFactory()
    if status in (ServiceStatus.ACCEPTED, ServiceStatus.RETIRED):
        service = service_transition(service=service, action="accept", actor=actor, rfc_ref="RFC-0")
    if status == ServiceStatus.RETIRED:
        service = service_transition(service=service, action="retire", actor=actor, rfc_ref="RFC-0", note="Gone.")
    return service


@pytest.mark.parametrize(("action", "source", "inputs", "target"), SERVICE_MOVES)
def test_each_catalogue_move_is_allowed_from_its_source(api, slm, action, source, inputs, target):
    service = _service_in(source, slm)
    url = f"{SERVICES}{service.pk}/transitions/"
    assert action in [move["action"] for move in api.get(url).json()]
    response = api.post(url, {"action": action, **inputs}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == target
    assert ServiceEvent.objects.filter(service=service, action=action, to_status=target).count() == 1


@pytest.mark.parametrize(("action", "source", "inputs", "target"), SERVICE_MOVES)
def test_each_catalogue_move_is_refused_elsewhere_without_its_inputs_or_its_role(
    api_client, slm, action, source, inputs, target
):
    api_client.force_authenticate(slm)
    for other in set(ServiceStatus.values) - {source}:
        service = _service_in(other, slm)
        with assert_nothing_written(Service, ServiceEvent):
            response = api_client.post(f"{SERVICES}{service.pk}/transitions/", {"action": action, **inputs})
        assert_invalid(response, "action")
    service = _service_in(source, slm)
    url = f"{SERVICES}{service.pk}/transitions/"
    for missing in SERVICE_TRANSITIONS[action].requires:
        with assert_nothing_written(Service, ServiceEvent):
            assert_invalid(api_client.post(url, {**inputs, "action": action, missing: ""}, format="json"), missing)
    for role in (AUDITOR, Role.PROCESS_OWNER.value, Role.BR_MANAGER.value):
        api_client.force_authenticate(user_with_role(role))
        assert api_client.get(url).json() == []
        with assert_nothing_written(Service, ServiceEvent):
            assert api_client.post(url, {"action": action, **inputs}, format="json").status_code == 403
    service.refresh_from_db()
    assert service.status == source


def test_a_bad_move_body_is_a_400(api):
    url = f"{SERVICES}{ServiceFactory().pk}/transitions/"
    assert_invalid(api.post(url, {"action": "delete"}, format="json"), "action")
    assert_invalid(api.post(url, {"action": "accept", "rfc_ref": "R", "status": "accepted"}, format="json"), "status")
    assert_invalid(api.post(url, {}, format="json"), "action")


def test_service_filters(api):
    network = ServiceFactory(code="wan", name="WAN links", category="Network")
    desktop = ServiceFactory(code="desk", name="Desktop", category="End user")
    assert ids(api.get(SERVICES, {"category": "network"})) == [network.pk]
    assert ids(api.get(SERVICES, {"q": "desk"})) == [desktop.pk]
    assert ids(api.get(SERVICES, {"status": "retired"})) == []
    assert ids(api.get(SERVICES, {"ordering": "code"})) == [desktop.pk, network.pk]
    assert_invalid(api.get(SERVICES, {"status": "gone"}), "status")


# --- agreements: create and edit ----------------------------------------------------------------


def test_an_agreement_is_drafted_through_the_api(api, slm):
    service = ServiceFactory()
    response = api.post(AGREEMENTS, agreement_payload(services=[service.pk]), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == "SLA-2026-001"
    assert (body["status"], body["version"], body["owner"]) == ("draft", 1, slm.pk)
    assert body["services"] == [service.pk] and body["covered_services"][0]["code"] == service.code
    assert body["service_description"] == "Desktop support for **all** offices."
    assert body["targets"] == [] and body["underpinning"] == {"missing": 0, "weak": 0}
    assert body["allowed_actions"] == ["negotiate"] and body["has_signed_document"] is False
    assert api.post(AGREEMENTS, agreement_payload(), format="json").json()["number"] == "SLA-2026-002"
    ola = agreement_payload(kind="ola", counterparty=OrganisationFactory(kind=OrganisationKind.INTERNAL_TEAM).pk)
    assert api.post(AGREEMENTS, ola, format="json").json()["number"] == "OLA-2026-001"


@pytest.mark.parametrize("key", ["status", "number", "version", "activated_at", "target_count"])
def test_read_only_agreement_fields_are_a_400_on_create_and_edit(api, slm, key):
    value = {"status": "active", "number": "SLA-1999-999", "version": 7}.get(key, "2026-01-01T00:00:00Z")
    agreement = agreement_in(A.DRAFT, slm)
    payload = agreement_payload(**{key: value})
    with assert_nothing_written(Agreement, AgreementEvent), english(api):
        body = assert_invalid(api.post(AGREEMENTS, payload, format="json"), key)
        assert_invalid(api.patch(detail(agreement), {"title": "New", key: value}, format="json"), key)
    message = body["errors"][key][0]
    assert ("workflow action" in message) if key == "status" else ("read-only" in message)
    agreement.refresh_from_db()
    assert (agreement.status, agreement.version, agreement.title) != ("active", 7, "New")


def test_the_kind_is_chosen_at_creation_only(api, slm):
    agreement = agreement_in(A.DRAFT, slm)
    with assert_nothing_written(Agreement, AgreementEvent):
        assert_invalid(api.patch(detail(agreement), {"kind": "uc"}, format="json"), "kind")


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        ("supplier_for_an_sla", "counterparty"),
        ("inactive_counterparty", "counterparty"),
        ("missing_counterparty", "counterparty"),
        ("counterparty_not_an_id", "counterparty"),
        ("retired_service", "services"),
        ("unknown_service", "services"),
        ("validity_backwards", "valid_to"),
        ("bad_date", "valid_from"),
        ("bad_kind", "kind"),
        ("no_title", "title"),
        ("unknown_field", "colour"),
    ],
)
def test_bad_agreement_input_is_a_400_per_field_and_writes_nothing(api, slm, scenario, field):
    payload = agreement_payload()
    if scenario == "supplier_for_an_sla":
        payload["counterparty"] = OrganisationFactory(kind=OrganisationKind.SUPPLIER).pk
    elif scenario == "inactive_counterparty":
        payload["counterparty"] = OrganisationFactory(kind=OrganisationKind.CUSTOMER, is_active=False).pk
    elif scenario == "missing_counterparty":
        del payload["counterparty"]
    elif scenario == "counterparty_not_an_id":
        payload["counterparty"] = "acme"
    elif scenario == "retired_service":
        payload["services"] = [_service_in(ServiceStatus.RETIRED, slm).pk]
    elif scenario == "unknown_service":
        payload["services"] = [999999]
    elif scenario == "validity_backwards":
        payload["valid_to"] = "2025-12-31"
    elif scenario == "bad_date":
        payload["valid_from"] = "first of January"
    elif scenario == "bad_kind":
        payload["kind"] = "mou"
    elif scenario == "no_title":
        payload["title"] = ""
    else:
        payload["colour"] = "blue"
    with assert_nothing_written(Agreement, AgreementEvent):
        assert_invalid(api.post(AGREEMENTS, payload, format="json"), field)


def test_a_draft_is_edited_and_an_active_agreement_is_not(api, slm):
    draft = agreement_in(A.DRAFT, slm)
    service = ServiceFactory()
    response = api.patch(detail(draft), {"title": "Renamed", "services": [service.pk], "risks": "None."}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["title"], response.json()["services"], response.json()["risks"]) == (
        "Renamed",
        [service.pk],
        "None.",
    )
    assert AgreementEvent.objects.filter(agreement=draft, action="edited").count() == 1

    active = agreement_in(A.ACTIVE, slm)
    with assert_nothing_written(Agreement, AgreementEvent), english(api):
        body = assert_invalid(api.patch(detail(active), {"title": "Changed"}, format="json"), "non_field_errors")
    assert "new version" in body["errors"]["non_field_errors"][0]
    other = user_with_role(SLM)
    response = api.patch(detail(active), {"owner": other.pk}, format="json")  # bookkeeping only
    assert response.status_code == 200 and response.json()["owner"] == other.pk


def test_agreement_filters(api, slm):
    sla = AgreementFactory(kind=AgreementKind.SLA, number="SLA-2026-050", title="Mail")
    uc = AgreementFactory(kind=AgreementKind.UC, number="UC-2026-050", status=A.ACTIVE)
    ola = AgreementFactory(kind=AgreementKind.OLA, number="OLA-2026-050", status=A.NEGOTIATING)
    service = ServiceFactory()
    uc.services.add(service)
    assert ids(api.get(AGREEMENTS, {"kind": "uc"})) == [uc.pk]
    assert ids(api.get(AGREEMENTS, {"status": "negotiating"})) == [ola.pk]
    assert set(ids(api.get(AGREEMENTS, [("status", "active"), ("status", "draft")]))) == {uc.pk, sla.pk}
    assert ids(api.get(AGREEMENTS, {"counterparty": sla.counterparty_id})) == [sla.pk]
    assert ids(api.get(AGREEMENTS, {"service": service.pk})) == [uc.pk]
    assert ids(api.get(AGREEMENTS, {"q": "SLA-2026-050"})) == [sla.pk]
    assert ids(api.get(AGREEMENTS, {"ordering": "number"})) == [ola.pk, sla.pk, uc.pk]
    for params, field in [({"kind": "mou"}, "kind"), ({"counterparty": 999999}, "counterparty")]:
        assert_invalid(api.get(AGREEMENTS, params), field)


# --- agreements: the workflow -------------------------------------------------------------------

MOVES = [
    ("negotiate", A.DRAFT, {}, A.NEGOTIATING),
    ("return_to_draft", A.NEGOTIATING, {"note": "Rework the duties."}, A.DRAFT),
    ("activate", A.NEGOTIATING, {}, A.ACTIVE),
    ("terminate", A.ACTIVE, {"note": "The customer left."}, A.TERMINATED),
    ("expire", A.ACTIVE, {}, A.EXPIRED),
]


def test_every_agreement_move_is_tested():
    assert {move for move, *_rest in MOVES} == set(AGREEMENT_TRANSITIONS)


@pytest.mark.parametrize(("action", "source", "inputs", "target"), MOVES)
def test_each_agreement_move_is_allowed_through_the_api(api, slm, action, source, inputs, target):
    agreement = agreement_in(source, slm)
    if action == "activate":
        # The real path: the signed document arrives through the API too.
        response = api.post(detail(agreement, "document/"), {"file": pdf(), "signed_on": "2026-02-27"})
        assert response.status_code == 200, response.content
        assert response.json()["has_signed_document"] and response.json()["document_url"]
    moment = AFTER_VALIDITY if action == "expire" else NOW
    with time_machine.travel(moment, tick=False):
        url = detail(agreement, "transitions/")
        assert action in [move["action"] for move in api.get(url).json()]
        response = api.post(url, {"action": action, **inputs}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == target
    event = AgreementEvent.objects.get(agreement=agreement, action=action)
    assert (event.from_status, event.to_status, event.actor) == (source, target, slm)
    if action == "activate":
        assert body["activated_at"] and body["next_review_on"] == "2027-03-02"
        assert AgreementVersion.objects.filter(agreement=agreement, version=1).exists()


@pytest.mark.parametrize(("action", "source", "inputs", "target"), MOVES)
def test_each_agreement_move_is_refused_from_every_other_status(api, slm, action, source, inputs, target):
    for other in set(A.values) - {source}:
        agreement = agreement_in(other, slm)
        with assert_nothing_written(Agreement, AgreementEvent, AgreementVersion), english(api):
            body = assert_invalid(
                api.post(detail(agreement, "transitions/"), {"action": action, **inputs}, format="json"), "action"
            )
        assert "not possible" in body["errors"]["action"][0], (other, body)


@pytest.mark.parametrize("action", ["return_to_draft", "terminate"])
def test_a_move_needing_a_note_is_refused_without_one(api, slm, action):
    source = next(src for act, src, _inputs, _target in MOVES if act == action)
    agreement = agreement_in(source, slm)
    with assert_nothing_written(Agreement, AgreementEvent):
        assert_invalid(
            api.post(detail(agreement, "transitions/"), {"action": action, "note": " "}, format="json"), "note"
        )


def test_activation_names_every_missing_condition(api, slm):
    agreement = agreement_in(A.NEGOTIATING, slm, target=False)
    with assert_nothing_written(Agreement, AgreementEvent, AgreementVersion):
        assert_invalid(
            api.post(detail(agreement, "transitions/"), {"action": "activate"}, format="json"),
            "signed_document",
            "targets",
        )


def test_expiry_is_refused_while_the_agreement_is_valid(api, slm):
    agreement = agreement_in(A.ACTIVE, slm)
    assert "expire" not in [move["action"] for move in api.get(detail(agreement, "transitions/")).json()]
    with assert_nothing_written(Agreement, AgreementEvent):
        assert_invalid(api.post(detail(agreement, "transitions/"), {"action": "expire"}, format="json"), "action")


@pytest.mark.parametrize("role", [AUDITOR, Role.PROCESS_OWNER.value, Role.SERVICE_DESK.value, Role.BR_MANAGER.value])
def test_other_roles_may_not_move_an_agreement(api_client, slm, role):
    agreement = agreement_in(A.DRAFT, slm)
    api_client.force_authenticate(user_with_role(role))
    url = detail(agreement, "transitions/")
    assert api_client.get(url).json() == []
    with assert_nothing_written(Agreement, AgreementEvent):
        assert api_client.post(url, {"action": "negotiate"}, format="json").status_code == 403
        assert api_client.post(detail(agreement, "document/"), {"file": pdf()}).status_code == 403
        assert api_client.post(detail(agreement, "versions/"), {"reason": "x", "rfc_ref": "y"}).status_code == 403
        assert api_client.post(detail(agreement, "standard-targets/"), {}, format="json").status_code == 403


def test_a_bad_move_body_is_a_400_naming_the_key(api, slm):
    url = detail(agreement_in(A.DRAFT, slm), "transitions/")
    assert_invalid(api.post(url, {"action": "sign"}, format="json"), "action")
    assert_invalid(api.post(url, {"action": "negotiate", "rfc_ref": "RFC-1"}, format="json"), "rfc_ref")


# --- the signed document ------------------------------------------------------------------------


def test_a_bad_document_is_refused_and_nothing_is_stored(api, slm):
    agreement = agreement_in(A.NEGOTIATING, slm)
    with assert_nothing_written(Agreement, AgreementEvent):
        assert_invalid(
            api.post(detail(agreement, "document/"), {"file": SimpleUploadedFile("x.exe", b"MZ\x00")}), "file"
        )
        assert_invalid(api.post(detail(agreement, "document/"), {"signed_on": "2026-02-01"}), "file")
        assert_invalid(
            api.post(detail(agreement, "document/"), {"file": pdf(), "signed_on": "2026-04-01"}), "signed_on"
        )
    agreement.refresh_from_db()
    assert not agreement.signed_document


def test_an_active_agreements_document_is_replaced_only_with_a_new_version(api, slm):
    agreement = agreement_in(A.ACTIVE, slm)
    with assert_nothing_written(Agreement, AgreementEvent):
        assert_invalid(api.post(detail(agreement, "document/"), {"file": pdf("new.pdf")}), "file")


# --- versions -----------------------------------------------------------------------------------


def test_a_new_version_changes_an_active_agreement_and_both_stay_readable(api, slm):
    agreement = agreement_in(A.ACTIVE, slm)
    [p1_resolution] = agreement.targets.all()
    body = {
        "reason": "Faster P1 resolution agreed at the annual review.",
        "rfc_ref": "RFC-2026-031",
        "title": "Desktop SLA (2026 revision)",
        "risks": "Supplier capacity.",
        "targets": [
            {"id": p1_resolution.pk, "metric": "resolution", "priority": "P1", "value": "1.5", "unit": "hours"},
            {"metric": "response", "priority": "P1", "value": "15", "unit": "minutes"},
        ],
    }
    response = api.post(detail(agreement, "versions/"), body, format="json")
    assert response.status_code == 201, response.content
    version = response.json()
    assert (version["version"], version["rfc_ref"], version["created_by"]) == (2, "RFC-2026-031", slm.pk)
    assert version["content"]["title"] == "Desktop SLA (2026 revision)"
    assert version["content"]["sections"]["risks"] == "Supplier capacity."

    listed = api.get(detail(agreement, "versions/")).json()
    assert [v["version"] for v in listed] == [1, 2]
    first = api.get(detail(agreement, "versions/1/")).json()
    assert first["content"]["title"].startswith("Agreement ")
    assert [t["value"] for t in first["content"]["targets"]] == ["2"]
    current = api.get(detail(agreement)).json()
    assert (current["version"], current["status"], current["title"]) == (2, "active", "Desktop SLA (2026 revision)")

    with english(api):
        diff = api.get(detail(agreement, "compare/"), {"a": 1, "b": 2}).json()
    assert (diff["a"], diff["b"], diff["has_changes"]) == (1, 2, True)
    assert [f["label"] for f in diff["fields"]] == ["Title"]
    assert [s["name"] for s in diff["sections"]] == ["risks"]
    assert {t["kind"] for t in diff["targets"]} == {"added", "changed"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"title": "New"}, ["reason", "rfc_ref"]),
        ({"reason": "Because", "rfc_ref": "RFC-1", "title": ""}, ["title"]),
        ({"reason": "Because", "rfc_ref": "RFC-1", "status": "draft"}, ["status"]),
        ({"reason": "Because", "rfc_ref": "RFC-1", "counterparty": 1}, ["counterparty"]),
        ({"reason": "Because", "rfc_ref": "RFC-1"}, ["non_field_errors"]),  # nothing changes
        ({"reason": "Because", "rfc_ref": "RFC-1", "valid_to": "2025-01-01"}, ["valid_to"]),
        (
            {
                "reason": "Because",
                "rfc_ref": "RFC-1",
                "targets": [
                    {"metric": "response", "priority": "P1", "value": "3", "unit": "hours"},
                    {"metric": "resolution", "priority": "P1", "value": "2", "unit": "hours"},
                ],
            },
            ["targets"],
        ),
        ({"reason": "Because", "rfc_ref": "RFC-1", "targets": [{"metric": "response"}]}, ["targets.0.value"]),
    ],
)
def test_a_bad_new_version_is_a_400_and_writes_nothing(api, slm, body, fields):
    agreement = agreement_in(A.ACTIVE, slm)
    with assert_nothing_written(Agreement, AgreementEvent, AgreementVersion, ServiceLevelTarget):
        assert_invalid(api.post(detail(agreement, "versions/"), body, format="json"), *fields)


def test_versions_start_once_the_agreement_is_active(api, slm):
    agreement = agreement_in(A.NEGOTIATING, slm)
    assert api.get(detail(agreement, "versions/")).json() == []
    assert api.get(detail(agreement, "versions/1/")).status_code == 404
    with assert_nothing_written(Agreement, AgreementVersion):
        response = api.post(
            detail(agreement, "versions/"), {"reason": "x", "rfc_ref": "y", "title": "z"}, format="json"
        )
    assert_invalid(response, "non_field_errors")


def test_comparing_needs_two_versions_the_agreement_has(api, slm):
    agreement = agreement_in(A.ACTIVE, slm)
    assert_invalid(api.get(detail(agreement, "compare/"), {"a": 1, "b": 9}), "b")
    assert_invalid(api.get(detail(agreement, "compare/"), {"a": "one", "b": 1}), "a")
    assert_invalid(api.get(detail(agreement, "compare/")), "a", "b")
    same = api.get(detail(agreement, "compare/"), {"a": 1, "b": 1}).json()
    assert same["has_changes"] is False


# --- underpinning, standard targets, history ----------------------------------------------------


def test_the_underpinning_rows_of_an_sla(api):
    sla = AgreementFactory(kind=AgreementKind.SLA, number="SLA-2026-011", status=A.ACTIVE)
    uc = AgreementFactory(kind=AgreementKind.UC, number="UC-2026-003", status=A.ACTIVE)
    weak = TargetFactory(agreement=sla, priority=Priority.P1, value=Decimal(2))
    weak.supported_by.add(TargetFactory(agreement=uc, priority=Priority.P1, value=Decimal(4)))
    backed = TargetFactory(agreement=sla, priority=Priority.P2, value=Decimal(12))
    backed.supported_by.add(TargetFactory(agreement=uc, priority=Priority.P2, value=Decimal(8)))
    missing = TargetFactory(agreement=sla, priority=Priority.P3, value=Decimal(24))

    with english(api):
        rows = {row["target"]: row for row in api.get(detail(sla, "underpinning/")).json()}
    assert {pk: row["status"] for pk, row in rows.items()} == {
        weak.pk: "weak",
        backed.pk: "supported",
        missing.pk: "missing",
    }
    assert rows[weak.pk]["gap"] == "UC-2026-003 resolves P1 in 4 h; SLA-2026-011 promises 2 h."
    assert rows[weak.pk]["supporting"][0]["agreement_number"] == "UC-2026-003"
    assert rows[weak.pk]["supporting"][0]["supported"] is False
    assert rows[backed.pk]["gap"] == "" and rows[backed.pk]["weakest"] is not None
    assert api.get(detail(sla)).json()["underpinning"] == {"missing": 1, "weak": 1}
    assert api.get(detail(uc, "underpinning/")).json() == []
    assert api.get(detail(uc)).json()["underpinning"] == {"missing": 0, "weak": 0}


def test_the_standard_targets_are_added_once(api, slm):
    agreement = agreement_in(A.DRAFT, slm, target=False)
    calendar = CalendarFactory()
    response = api.post(detail(agreement, "standard-targets/"), {"calendar": calendar.pk}, format="json")
    assert response.status_code == 201, response.content
    added = response.json()
    assert len(added) == 8 and {t["calendar"] for t in added} == {calendar.pk}
    p1 = {t["metric"]: (t["value"], t["unit"]) for t in added if t["priority"] == "P1"}
    assert p1 == {"response": ("30.00", "minutes"), "resolution": ("2.00", "hours")}
    again = api.post(detail(agreement, "standard-targets/"), {}, format="json")
    assert (again.status_code, again.json()) == (200, [])
    active = agreement_in(A.ACTIVE, slm)
    with assert_nothing_written(ServiceLevelTarget):
        assert_invalid(api.post(detail(active, "standard-targets/"), {}, format="json"), "non_field_errors")


def test_the_history_lists_every_step_oldest_first(api, slm):
    agreement = agreement_in(A.ACTIVE, slm)
    events = api.get(detail(agreement, "events/")).json()["results"]
    assert [e["action"] for e in events] == ["created", "target_added", "negotiate", "document_uploaded", "activate"]
    assert events[-1]["actor"] == slm.pk and events[-1]["to_status"] == "active"
    expired = agreement_in(A.EXPIRED, slm)
    last = api.get(detail(expired, "events/")).json()["results"][-1]
    assert (last["action"], last["actor"], last["actor_label"]) == ("expire", None, "system")
