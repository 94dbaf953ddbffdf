"""What schemathesis found the schema hiding (issue 10, item 6), pinned as quick checks.

The fuzz test (test_api_schema_fuzz.py) proves the whole API answers as documented; these
say which rule of ``itsm.core.api.schema`` each finding rests on.
"""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from itsm.core.roles import Role

pytestmark = pytest.mark.django_db

ERROR = {"$ref": "#/components/schemas/ApiError"}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _body_schema(response):
    return response["content"]["application/json"]["schema"]


def test_every_operation_documents_the_errors_it_can_give(schema):
    operations = list(_operations(schema))
    assert len(operations) >= 90
    for path, method, operation in operations:
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert {"401", "403"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where
        if method in ("post", "put", "patch"):
            assert "400" in responses, where
        for code, response in responses.items():
            if code >= "400":
                assert _body_schema(response) == ERROR, f"{where} {code}"


def test_a_paginated_list_documents_the_404_of_a_page_that_does_not_exist_and_its_filters_400(schema):
    complaints = schema["paths"]["/api/v1/complaints/"]["get"]
    assert {"400", "404"} <= set(complaints["responses"])
    assert "page" in {parameter["name"] for parameter in complaints["parameters"]}


def test_a_delete_that_a_reference_can_refuse_documents_409(schema):
    assert "409" in schema["paths"]["/api/v1/organisations/{id}/"]["delete"]["responses"]
    assert "409" in schema["paths"]["/api/v1/contacts/{id}/"]["delete"]["responses"]
    # A section's questions may hold answers (PROTECT), through the cascade.
    assert "409" in schema["paths"]["/api/v1/questionnaires/{id}/sections/{section_id}/"]["delete"]["responses"]
    # Nothing protects a target: no 409 promised.
    assert "409" not in schema["paths"]["/api/v1/targets/{id}/"]["delete"]["responses"]


@pytest.mark.parametrize(
    ("path", "one"), [("/api/v1/tickets/", "Ticket"), ("/api/v1/measurements/", "RecordedMeasurement")]
)
def test_a_bulk_ingestion_answers_one_object_or_a_list_never_a_page(schema, path, one):
    operation = schema["paths"][path]["post"]
    assert not [p for p in operation.get("parameters", []) if p["in"] == "query"]
    components = schema["components"]["schemas"]
    for code in ("200", "201"):
        ref = _body_schema(operation["responses"][code])["$ref"]
        assert components[ref.rsplit("/", 1)[1]] == {
            "oneOf": [
                {"$ref": f"#/components/schemas/{one}"},
                {"type": "array", "items": {"$ref": f"#/components/schemas/{one}"}},
            ]
        }


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Complaint", "category"),
        ("Target", "priority"),
        ("AgreementEvent", "from_status"),
        ("ServiceEvent", "to_status"),
    ],
)
def test_a_read_only_choice_that_may_be_blank_declares_blank(schema, component, field):
    options = schema["components"]["schemas"][component]["properties"][field]["oneOf"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in options


def test_an_api_url_no_route_matches_is_a_404_in_the_api_error_body(api_as, client):
    response = api_as(Role.AUDITOR.value).get("/api/v1/complaints/1.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"message"}
    # Pages keep the HTML 404 page.
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("moment", ["0203-01-01T09:00:00+08:00", "1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z"])
def test_a_reported_moment_outside_1970_to_2099_is_refused(api_as, moment):
    """Before 1901 Asia/Shanghai's offset has seconds (+08:05:43): the answer's date-time
    would not be one."""
    response = api_as(Role.SERVICE_DESK.value).post("/api/v1/complaints/", {"received_at": moment}, format="json")
    assert response.status_code == 400
    assert "received_at" in response.json()["errors"]
