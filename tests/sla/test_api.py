"""The service catalogue API (SPEC §9, issue 5 item 7): who may do what on ``services``,
``agreements``, ``targets`` and ``measurements`` (the role matrix read from the roles table),
the methods each resource lacks, constant queries on every list, and the OpenAPI schema.

Workflow moves, versions and underpinning: ``test_api_agreements.py``; target writes and links:
``test_api_targets.py``; measurement recording: ``test_api_measurements.py``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.core.choices import OrganisationKind
from itsm.core.roles import Role
from itsm.core.testing import (
    ANONYMOUS,
    NO_ROLE,
    Resource,
    api_matrix,
    assert_constant_queries,
    assert_nothing_written,
    check_api_access,
    user_with_role,
)
from sla.choices import AgreementKind, AgreementStatus, Metric, Priority, TargetUnit
from sla.models import Agreement, AgreementEvent, Measurement, Service, ServiceEvent, ServiceLevelTarget
from tests.factories import OrganisationFactory
from tests.sla.factories import AgreementFactory, MeasurementFactory, ServiceFactory, TargetFactory

pytestmark = pytest.mark.django_db

SLM = Role.SERVICE_LEVEL_MANAGER.value
ROLES = {role.value for role in Role}
# Sunday 15 November 2026, 10:00 in Shanghai: October is the last full month.
NOW = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)
_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


# --- payloads (fresh, valid) --------------------------------------------------------------------


def service_payload() -> dict:
    n = next(_n)
    return {"code": f"api-svc-{n}", "name": f"API service {n}", "category": "Network"}


def agreement_payload() -> dict:
    customer = OrganisationFactory(kind=OrganisationKind.CUSTOMER)
    return {"kind": "sla", "title": f"API SLA {next(_n)}", "counterparty": customer.pk}


def agreement_edit_payload() -> dict:
    customer = OrganisationFactory(kind=OrganisationKind.CUSTOMER)
    return {"title": f"Edited SLA {next(_n)}", "counterparty": customer.pk}


def target_payload() -> dict:
    return {"agreement": AgreementFactory().pk, "metric": "resolution", "priority": "P1", "value": "2", "unit": "hours"}


def target_edit_payload() -> dict:
    return {"metric": "resolution", "priority": "P1", "value": "3", "unit": "hours"}


def measurement_payload() -> dict:
    return {"target": TargetFactory().pk, "period": "2026-10", "actual": "1.5"}


SERVICES = Resource.for_model(Service, ServiceFactory, pages=(), api_payload=service_payload)
AGREEMENTS = Resource.for_model(Agreement, AgreementFactory, pages=(), api_payload=agreement_payload)
AGREEMENT_EDITS = Resource.for_model(Agreement, AgreementFactory, pages=(), api_payload=agreement_edit_payload)
TARGETS = Resource.for_model(
    ServiceLevelTarget, TargetFactory, pages=(), api_basename="target", api_payload=target_payload
)
TARGET_EDITS = Resource.for_model(
    ServiceLevelTarget, TargetFactory, pages=(), api_basename="target", api_payload=target_edit_payload
)
MEASUREMENTS = Resource.for_model(Measurement, MeasurementFactory, pages=(), api_payload=measurement_payload)

READS_AND_CREATE = ("list", "retrieve", "create")
EDITS = ("update", "partial_update")
MATRIX = [
    *(c for c in api_matrix(SERVICES) if c.action in (*READS_AND_CREATE, *EDITS)),
    *(c for c in api_matrix(AGREEMENTS) if c.action in READS_AND_CREATE),
    *(c for c in api_matrix(AGREEMENT_EDITS) if c.action in EDITS),
    *(c for c in api_matrix(TARGETS) if c.action in (*READS_AND_CREATE, "destroy")),
    *(c for c in api_matrix(TARGET_EDITS) if c.action in EDITS),
    *(c for c in api_matrix(MEASUREMENTS) if c.action in READS_AND_CREATE),
]


def test_resource_urls_are_the_documented_ones():
    assert SERVICES.api_url() == "/api/v1/services/"
    assert AGREEMENTS.api_url(7) == "/api/v1/agreements/7/"
    assert TARGETS.api_url() == "/api/v1/targets/"
    assert MEASUREMENTS.api_url(3) == "/api/v1/measurements/3/"


@pytest.mark.parametrize("case", MATRIX, ids=str)
def test_api_access(api_client, case):
    check_api_access(api_client, case)


def test_the_matrix_expects_what_the_roles_table_says():
    allowed = {(c.resource.name, c.action, c.role) for c in MATRIX if c.allowed}
    for resource in ("service", "agreement", "serviceleveltarget", "measurement"):
        assert {r for n, a, r in allowed if n == resource and a == "create"} == {SLM}, resource
        assert not {r for n, _a, r in allowed if n == resource and r in (NO_ROLE, ANONYMOUS)}
    for resource in ("service", "agreement", "serviceleveltarget"):
        assert {r for n, a, r in allowed if n == resource and a == "list"} == ROLES, resource
        assert {r for n, a, r in allowed if n == resource and a == "update"} == {SLM}, resource
    assert {r for n, a, r in allowed if n == "serviceleveltarget" and a == "destroy"} == {SLM}
    # The service desk reads the catalogue, the agreements and their targets, not the figures.
    assert {r for n, a, r in allowed if n == "measurement" and a == "list"} == ROLES - {Role.SERVICE_DESK.value}


@pytest.mark.parametrize(
    ("url", "methods", "model", "factory"),
    [
        ("/api/v1/services/{pk}/", ("delete",), Service, ServiceFactory),
        ("/api/v1/agreements/{pk}/", ("delete",), Agreement, AgreementFactory),
        ("/api/v1/measurements/{pk}/", ("put", "patch", "delete"), Measurement, MeasurementFactory),
    ],
)
@pytest.mark.parametrize("role", [SLM, Role.PROCESS_OWNER.value, Role.AUDITOR.value])
def test_a_method_the_resource_lacks_is_a_405_for_everyone(api_client, url, methods, model, factory, role):
    row = factory()
    api_client.force_authenticate(user_with_role(role))
    for method in methods:
        with assert_nothing_written(model):
            response = getattr(api_client, method)(url.format(pk=row.pk), {"actual": "1"}, format="json")
        assert response.status_code == 405, (method, response.content)
        assert response.json()["message"]


def test_anonymous_calls_are_refused_everywhere(api_client):
    agreement = AgreementFactory()
    target = TargetFactory(agreement=agreement)
    service = ServiceFactory()
    for url in [
        "/api/v1/services/",
        f"/api/v1/services/{service.pk}/transitions/",
        f"/api/v1/services/{service.pk}/events/",
        "/api/v1/agreements/",
        f"/api/v1/agreements/{agreement.pk}/transitions/",
        f"/api/v1/agreements/{agreement.pk}/versions/",
        f"/api/v1/agreements/{agreement.pk}/underpinning/",
        f"/api/v1/agreements/{agreement.pk}/events/",
        "/api/v1/targets/",
        f"/api/v1/targets/{target.pk}/underpinning/",
        "/api/v1/measurements/",
    ]:
        response = api_client.get(url)
        assert response.status_code == 401, url
        assert response.json()["message"], url


def test_no_role_is_403_on_every_sub_resource(api_client):
    agreement = AgreementFactory()
    target = TargetFactory(agreement=agreement)
    service = ServiceFactory()
    api_client.force_authenticate(user_with_role(NO_ROLE))
    for url in [
        f"/api/v1/services/{service.pk}/transitions/",
        f"/api/v1/services/{service.pk}/events/",
        f"/api/v1/agreements/{agreement.pk}/transitions/",
        f"/api/v1/agreements/{agreement.pk}/versions/",
        f"/api/v1/agreements/{agreement.pk}/versions/1/",
        f"/api/v1/agreements/{agreement.pk}/compare/?a=1&b=2",
        f"/api/v1/agreements/{agreement.pk}/underpinning/",
        f"/api/v1/agreements/{agreement.pk}/events/",
        f"/api/v1/targets/{target.pk}/underpinning/",
    ]:
        assert api_client.get(url).status_code == 403, url


def test_a_missing_row_is_a_json_404_on_every_sub_resource(api_client):
    api_client.force_authenticate(user_with_role(SLM))
    for url in [
        "/api/v1/services/999999/transitions/",
        "/api/v1/services/999999/events/",
        "/api/v1/agreements/999999/transitions/",
        "/api/v1/agreements/999999/versions/",
        "/api/v1/agreements/999999/versions/1/",
        "/api/v1/agreements/999999/underpinning/",
        "/api/v1/agreements/999999/events/",
        "/api/v1/targets/999999/underpinning/",
        "/api/v1/measurements/999999/",
    ]:
        response = api_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["message"], url


def test_the_service_desk_reads_agreements_but_not_their_history_or_versions(api_client):
    agreement = AgreementFactory()
    api_client.force_authenticate(user_with_role(Role.SERVICE_DESK.value))
    assert api_client.get(f"/api/v1/agreements/{agreement.pk}/").status_code == 200
    assert api_client.get(f"/api/v1/agreements/{agreement.pk}/underpinning/").status_code == 200
    for suffix in ("events/", "versions/", "versions/1/"):
        response = api_client.get(f"/api/v1/agreements/{agreement.pk}/{suffix}")
        assert response.status_code == 403, suffix
    assert api_client.get(f"/api/v1/services/{ServiceFactory().pk}/events/").status_code == 403


# --- query counts -------------------------------------------------------------------------------


def _services(n: int) -> None:
    for service in ServiceFactory.create_batch(n, owner=user_with_role(SLM)):
        AgreementFactory().services.add(service)
        ServiceEvent.objects.create(service=service, action="created", to_status=service.status)


def _agreements(n: int) -> None:
    owner = user_with_role(SLM)
    for _ in range(n):
        agreement = AgreementFactory(owner=owner, status=AgreementStatus.NEGOTIATING)
        agreement.services.add(*ServiceFactory.create_batch(2))
        TargetFactory(agreement=agreement)


def _targets(n: int) -> None:
    uc = AgreementFactory(kind=AgreementKind.UC)
    for _ in range(n):
        agreement = AgreementFactory()
        TargetFactory(agreement=agreement, metric=Metric.RESPONSE, value=Decimal(30), unit=TargetUnit.MINUTES)
        target = TargetFactory(agreement=agreement)
        target.supported_by.add(TargetFactory(agreement=uc, priority=Priority.P2, name=f"uc-{next(_n)}"))


def _measurements(n: int) -> None:
    recorder = user_with_role(SLM)
    for _ in range(n):
        MeasurementFactory(recorded_by=recorder)


def _events(agreement: Agreement):
    def make(n: int) -> None:
        actor = user_with_role(SLM)
        for _ in range(n):
            AgreementEvent.objects.create(agreement=agreement, action="edited", actor=actor)

    return make


def test_list_endpoints_run_a_constant_number_of_queries(api_client):
    api_client.force_authenticate(user_with_role(SLM))
    agreement = AgreementFactory()
    counts = {
        "services": assert_constant_queries(api_client, "/api/v1/services/", _services),
        "agreements": assert_constant_queries(api_client, "/api/v1/agreements/", _agreements),
        "targets": assert_constant_queries(api_client, "/api/v1/targets/", _targets),
        "measurements": assert_constant_queries(api_client, "/api/v1/measurements/", _measurements),
        "events": assert_constant_queries(api_client, f"/api/v1/agreements/{agreement.pk}/events/", _events(agreement)),
    }
    print("sla API list queries:", counts)


def test_an_agreement_and_its_underpinning_read_in_a_constant_number_of_queries(api_client):
    api_client.force_authenticate(user_with_role(Role.AUDITOR.value))
    agreement = AgreementFactory(status=AgreementStatus.ACTIVE)
    uc = AgreementFactory(kind=AgreementKind.UC)

    def grow(priority: str) -> None:
        target = TargetFactory(agreement=agreement, priority=priority)
        target.supported_by.add(TargetFactory(agreement=uc, priority=priority, value=Decimal(3)))
        agreement.services.add(ServiceFactory())

    counts = []
    for priorities in (["P1"], ["P2", "P3", "P4"]):
        for priority in priorities:
            grow(priority)
        for url in (f"/api/v1/agreements/{agreement.pk}/", f"/api/v1/agreements/{agreement.pk}/underpinning/"):
            api_client.get(url)  # warm per-process caches
        with CaptureQueriesContext(connection) as detail:
            assert api_client.get(f"/api/v1/agreements/{agreement.pk}/").status_code == 200
        with CaptureQueriesContext(connection) as rows:
            assert api_client.get(f"/api/v1/agreements/{agreement.pk}/underpinning/").status_code == 200
        counts.append((len(detail), len(rows)))
    assert counts[0] == counts[1], counts


# --- schema -------------------------------------------------------------------------------------


def test_schema_generates_without_warnings_and_documents_every_endpoint(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/services/",
        "/api/v1/services/{id}/transitions/",
        "/api/v1/services/{id}/events/",
        "/api/v1/agreements/",
        "/api/v1/agreements/{id}/",
        "/api/v1/agreements/{id}/transitions/",
        "/api/v1/agreements/{id}/versions/",
        "/api/v1/agreements/{id}/versions/{number}/",
        "/api/v1/agreements/{id}/compare/",
        "/api/v1/agreements/{id}/document/",
        "/api/v1/agreements/{id}/underpinning/",
        "/api/v1/agreements/{id}/standard-targets/",
        "/api/v1/agreements/{id}/events/",
        "/api/v1/targets/",
        "/api/v1/targets/{id}/",
        "/api/v1/targets/{id}/underpinning/",
        "/api/v1/measurements/",
        "/api/v1/measurements/{id}/",
    ):
        assert f"  {path}:" in schema, path
    for component in ("AgreementStatusEnum", "ServiceStatusEnum", "AgreementKindEnum", "UnderpinningStatusEnum"):
        assert f"    {component}:" in schema, component
