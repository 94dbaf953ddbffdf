"""The API of the core records, its error format, schema, docs, and /healthz."""

import itertools
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from itsm.celery import app as celery_app
from itsm.core.models import Contact, Organisation
from itsm.core.testing import (
    Resource,
    api_matrix,
    assert_constant_queries,
    assert_nothing_written,
    check_api_access,
)
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

_n = itertools.count(1)


def organisation_payload() -> dict:
    n = next(_n)
    return {"name": f"API Org {n}", "code": f"api-org-{n}", "kind": "supplier"}


def contact_payload() -> dict:
    return {"organisation": OrganisationFactory().pk, "name": "API Contact", "email": f"c{next(_n)}@example.com"}


ORGANISATIONS = Resource.for_model(Organisation, OrganisationFactory, pages=(), api_payload=organisation_payload)
CONTACTS = Resource.for_model(Contact, ContactFactory, pages=(), api_payload=contact_payload)

ORG_URL = "/api/v1/organisations/"
CONTACT_URL = "/api/v1/contacts/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_resource_urls_are_the_documented_ones():
    assert ORGANISATIONS.api_url() == ORG_URL and CONTACTS.api_url(7) == f"{CONTACT_URL}7/"


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", api_matrix(ORGANISATIONS, CONTACTS), ids=str)
def test_api_access(api_client, case):
    check_api_access(api_client, case)


def test_token_authentication(api_client, make_user):
    _instance, token = AuthToken.objects.create(user=make_user("auditor"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get(ORG_URL).status_code == 200
    with assert_nothing_written(Organisation):
        assert api_client.post(ORG_URL, organisation_payload(), format="json").status_code == 403

    _instance, writer = AuthToken.objects.create(user=make_user("service_desk"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {writer}")
    assert api_client.post(ORG_URL, organisation_payload(), format="json").status_code == 201

    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get(ORG_URL)
    assert response.status_code == 401 and "message" in response.json()
    assert response["WWW-Authenticate"] == "Token"

    _instance, no_role = AuthToken.objects.create(user=make_user(None))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {no_role}")
    assert api_client.get(ORG_URL).status_code == 403


def test_tokens_are_stored_hashed(make_user):
    instance, token = AuthToken.objects.create(user=make_user("auditor"))
    stored = AuthToken.objects.get(pk=instance.pk)
    assert token not in (stored.digest, stored.token_key)
    assert not AuthToken.objects.filter(digest=token).exists()


def test_create_api_token_command_prints_a_working_token_once(api_client, make_user):
    from io import StringIO

    from django.core.management import call_command

    user = make_user("auditor", username="itsm-integration")
    out = StringIO()
    call_command("create_api_token", "itsm-integration", "--days", "30", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert AuthToken.objects.filter(user=user).count() == 1
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get(ORG_URL).status_code == 200


def test_session_authentication_needs_the_csrf_token_for_writes(make_user):
    user = make_user("service_desk")
    client = APIClient(enforce_csrf_checks=True)
    client.get(reverse("login"))  # sets the CSRF cookie
    credentials = {"username": user.username, "password": "pw-for-tests-123"}
    response = client.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302
    assert client.get(ORG_URL).status_code == 200
    with assert_nothing_written(Organisation):
        response = client.post(ORG_URL, organisation_payload(), format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["message"]
    token = client.cookies["csrftoken"].value  # rotated at log-in
    assert client.post(ORG_URL, organisation_payload(), format="json", HTTP_X_CSRFTOKEN=token).status_code == 201


# --- filtering and pagination ----------------------------------------------------------------


def test_organisation_filters(api_as):
    client = api_as("auditor")
    key = OrganisationFactory(name="Key Bank", code="key-bank", is_key_customer=True)
    plain = OrganisationFactory(name="Plain Shop", code="shop")
    supplier = OrganisationFactory(name="Cable Supplier", code="cables", kind="supplier")

    assert ids(client.get(ORG_URL)) == [supplier.pk, key.pk, plain.pk]
    assert ids(client.get(ORG_URL, {"kind": "supplier"})) == [supplier.pk]
    assert ids(client.get(ORG_URL, {"is_key_customer": "true"})) == [key.pk]
    assert ids(client.get(ORG_URL, {"search": "bank"})) == [key.pk]
    assert ids(client.get(ORG_URL, {"q": "cables"})) == [supplier.pk]
    assert ids(client.get(ORG_URL, {"ordering": "-name"})) == [plain.pk, key.pk, supplier.pk]
    assert ids(client.get(ORG_URL, {"ordering": "no_such_field"})) == [supplier.pk, key.pk, plain.pk]


def test_contact_filters(api_as):
    client = api_as("auditor")
    org, other = OrganisationFactory(), OrganisationFactory()
    mine = ContactFactory(organisation=org, name="Zhang Wei", email="zw@bank.example", is_vip=True)
    theirs = ContactFactory(organisation=other, name="Li Na")

    assert ids(client.get(CONTACT_URL, {"organisation": org.pk})) == [mine.pk]
    assert ids(client.get(CONTACT_URL, {"organisation": other.pk})) == [theirs.pk]
    assert ids(client.get(CONTACT_URL, {"search": "bank.example"})) == [mine.pk]
    assert ids(client.get(CONTACT_URL, {"is_vip": "true"})) == [mine.pk]
    row = client.get(f"{CONTACT_URL}{mine.pk}/").json()
    assert row["organisation"] == org.pk and row["organisation_name"] == org.name


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (ORG_URL, {"kind": "bogus"}, "kind"),
        (CONTACT_URL, {"organisation": "abc"}, "organisation"),
        (CONTACT_URL, {"organisation": "999999"}, "organisation"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_field(api_as, url, params, field):
    response = api_as("auditor").get(url, params)
    assert response.status_code == 400
    body = response.json()
    assert body["message"] and field in body["errors"]


def test_pagination(api_as):
    client = api_as("auditor")
    OrganisationFactory.create_batch(7)
    first = client.get(ORG_URL, {"page_size": 5}).json()
    assert first["count"] == 7 and len(first["results"]) == 5
    assert "page=2" in first["next"] and "page_size=5" in first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    response = client.get(ORG_URL, {"page": 9})
    assert response.status_code == 404 and response.json()["message"]


def test_default_page_size_is_fifty(api_as):
    OrganisationFactory.create_batch(51)
    body = api_as("auditor").get(ORG_URL).json()
    assert body["count"] == 51 and len(body["results"]) == 50 and body["next"]


# --- bad input -------------------------------------------------------------------------------


def assert_invalid(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"][field], list) and body["errors"][field], body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"code": "taken"}, "code"),
        ({"code": "not a slug!"}, "code"),
        ({"kind": "partner"}, "kind"),
        ({"is_key_customer": "perhaps"}, "is_key_customer"),
        ({"name": ["a", "list"]}, "name"),
        ({"kind": "supplier", "is_key_customer": True}, "is_key_customer"),  # a check constraint, on its field
    ],
)
def test_bad_organisation_input_is_a_400_per_field_and_writes_nothing(api_as, changes, field):
    OrganisationFactory(code="taken")
    client = api_as("service_desk")
    data = {**organisation_payload(), "kind": "customer", **changes}
    data = {key: value for key, value in data.items() if value is not None}
    with assert_nothing_written(Organisation):
        assert_invalid(client.post(ORG_URL, data, format="json"), field)


def test_bad_update_leaves_the_row_unchanged(api_as):
    OrganisationFactory(code="taken")
    org = OrganisationFactory(name="Unchanged", code="mine")
    client = api_as("service_desk")
    with assert_nothing_written(Organisation):
        assert_invalid(client.patch(f"{ORG_URL}{org.pk}/", {"name": "Changed", "code": "taken"}, format="json"), "code")
        assert_invalid(client.put(f"{ORG_URL}{org.pk}/", {"code": "mine"}, format="json"), "name")
    org.refresh_from_db()
    assert (org.name, org.code) == ("Unchanged", "mine")


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        ("department_of_another_organisation", "department"),
        ("neither_email_nor_phone", "email"),
        ("bad_email", "email"),
        ("organisation_is_not_an_id", "organisation"),
        ("organisation_does_not_exist", "organisation"),
        ("bad_language", "preferred_language"),
    ],
)
def test_bad_contact_input_is_a_400_per_field_and_writes_nothing(api_as, scenario, field):
    client = api_as("service_desk")
    data = contact_payload()
    if scenario == "department_of_another_organisation":
        data["department"] = DepartmentFactory().pk
    elif scenario == "neither_email_nor_phone":
        data["email"] = ""
    elif scenario == "bad_email":
        data["email"] = "not-an-email"
    elif scenario == "organisation_is_not_an_id":
        data["organisation"] = "abc"
    elif scenario == "organisation_does_not_exist":
        data["organisation"] = 999999
    else:
        data["preferred_language"] = "fr"
    with assert_nothing_written(Contact):
        assert_invalid(client.post(CONTACT_URL, data, format="json"), field)


def test_moving_a_contact_to_another_organisation_must_drop_its_department(api_as):
    department = DepartmentFactory()
    contact = ContactFactory(organisation=department.organisation, department=department)
    client, elsewhere = api_as("service_desk"), OrganisationFactory()
    with assert_nothing_written(Contact):
        response = client.patch(f"{CONTACT_URL}{contact.pk}/", {"organisation": elsewhere.pk}, format="json")
    assert_invalid(response, "department")
    contact.refresh_from_db()
    assert contact.organisation == department.organisation


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"name": "Broken", ', "application/json"),
        ("not json at all", "application/json"),
        ('["a", "list"]', "application/json"),
        ("", "application/json"),
        ("name=x", "text/plain"),
    ],
    ids=["truncated", "garbage", "list", "empty", "unsupported-type"],
)
def test_malformed_bodies_are_a_4xx_json_message_and_write_nothing(api_as, body, content_type):
    client = api_as("service_desk")
    with assert_nothing_written(Organisation):
        response = client.generic("POST", ORG_URL, body, content_type=content_type)
    assert response.status_code in (400, 415), response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"]


def test_a_missing_id_is_a_json_404(api_as):
    client = api_as("process_owner")
    for url in [f"{ORG_URL}999999/", f"{CONTACT_URL}999999/"]:
        for method in ("get", "patch", "delete"):
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 404, (method, url)
            assert response.json()["message"], (method, url)


def test_deleting_a_referenced_organisation_is_a_409_not_a_500(api_as):
    contact, client = ContactFactory(), api_as("process_owner")
    with assert_nothing_written(Organisation, Contact):
        response = client.delete(f"{ORG_URL}{contact.organisation_id}/")
    assert response.status_code == 409 and response.json()["message"]


def test_writes_are_audited_with_the_api_user(api_as):
    from auditlog.models import LogEntry

    client = api_as("service_desk")
    response = client.post(ORG_URL, organisation_payload(), format="json")
    org = Organisation.objects.get(pk=response.json()["id"])
    client.patch(f"{ORG_URL}{org.pk}/", {"notes": "via API"}, format="json")
    entries = LogEntry.objects.get_for_object(org).order_by("pk")
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert {e.actor for e in entries} == {client.user}


# --- query counts ----------------------------------------------------------------------------


def test_list_endpoints_run_a_constant_number_of_queries(api_as):
    client = api_as("auditor")

    def organisations(n):
        for _ in range(n):
            DepartmentFactory.create_batch(2, organisation=OrganisationFactory())

    def contacts(n):
        for _ in range(n):
            department = DepartmentFactory()
            ContactFactory(organisation=department.organisation, department=department)

    counts = {
        "organisations": assert_constant_queries(client, ORG_URL, organisations),
        "contacts": assert_constant_queries(client, CONTACT_URL, contacts),
    }
    print("API list queries:", counts)


# --- schema and docs -------------------------------------------------------------------------


def test_schema_generates_without_warnings_or_errors(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns every warning and error of the generator into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/v1/organisations/", "/api/v1/organisations/{id}/", "/api/v1/contacts/"):
        assert f"  {path}:" in schema, path


def test_schema_endpoint(api_as):
    response = api_as("auditor").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/contacts/{id}/" in schema["paths"]
    assert {"cookieAuth", "knoxApiToken"} <= set(schema["components"]["securitySchemes"])


def test_docs_render_from_local_static_files_only(client_as):
    response = client_as("auditor").get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert not re.search(r"https?://", page), re.findall(r"https?://\S+", page)
    assets = re.findall(r'"/static/([^"?]+)', page)
    assert any(a.startswith("drf_spectacular_sidecar/swagger-ui-dist/") for a in assets), assets
    for asset in assets:
        assert finders.find(asset), f"{asset} is not a static file we ship"


# --- health ----------------------------------------------------------------------------------


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_broker_is_unreachable(client, monkeypatch):
    # Nobody listens on port 1; monkeypatch restores the real broker afterwards.
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok" and body["broker"].startswith("error")
