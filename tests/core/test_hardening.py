"""No input gives a 500 (issue 10, item 1): what the attacker's probe found, kept as tests.

* JSON nested 2,000 levels deep (8 KB) on every JSON write operation of the API: a 400 that
  says so, never a 500; an oversized body likewise; depth 20 still parses.
* ``1e309`` / ``1e308`` as a measurement's actual, as a JSON number, a string, in a bulk and
  in a CSV import: a 400 naming the field (and the row).
* NUL and other control characters: in searches and filters of every list page and API
  list (``?q=%00`` was a 500 on PostgreSQL), in form fields and JSON strings — removed, the
  rest of the text kept.

The demo data is loaded once for the module, so every operation has a real row to act on.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from itsm.core.api.parsers import depth_of
from itsm.core.models import Contact, Organisation, User
from itsm.core.roles import Role
from itsm.core.sanitize import clean_data, clean_text
from itsm.core.testing import assert_nothing_written, user_with_role
from sla.choices import AgreementKind, AgreementStatus, Metric, Priority
from sla.models import Measurement
from sla.services.measurements import measurements_import_csv
from tests.sla.factories import AgreementFactory, TargetFactory

pytestmark = pytest.mark.django_db

DEEP = 2000


def _deep_body(depth: int = DEEP) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _json_write_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in schema["paths"].items():
        for method in ("post", "put", "patch"):
            operation = item.get(method)
            if operation and "application/json" in operation.get("requestBody", {}).get("content", {}):
                operations.append((method, path))
    return operations


def _model_of(view) -> type | None:
    cls = getattr(view, "cls", None)
    queryset = getattr(cls, "queryset", None)
    if queryset is not None:
        return queryset.model
    # Viewsets that build their queryset per request: the model their router basename names.
    basename = (getattr(view, "initkwargs", {}) or {}).get("basename", "").replace("-", "")
    names = {model._meta.model_name: model for model in apps.get_models()}
    return names.get(basename) or names.get(f"servicelevel{basename}")


def _fill(path: str) -> str:
    """``path`` with its parameters replaced by the pk of a real row of the view's model."""
    if "{" not in path:
        return path
    probe = re.sub(r"\{[^}]+\}", "1", path)
    model = _model_of(resolve(probe).func)
    assert model is not None, path
    pk = model.objects.order_by("pk").values_list("pk", flat=True).first()
    assert pk is not None, (path, model)
    return re.sub(r"\{[^}]+\}", str(pk), path)


def test_every_json_write_operation_refuses_deep_nesting_with_a_400(demo, api_client):
    admin = User.objects.get(username="admin")
    api_client.force_authenticate(admin)
    operations = _json_write_operations()
    assert len(operations) >= 30
    answers: dict[tuple[str, str], int] = {}
    for method, path in operations:
        url = _fill(path)
        response = getattr(api_client, method)(url, data=_deep_body(), content_type="application/json")
        answers[(method, url)] = response.status_code
        assert response.status_code < 500, (method, url, response.status_code)
        if response.status_code == 400:
            assert "nested more than 20 levels" in response.json()["message"] or "嵌套" in response.json()["message"]
    refused = [key for key, status in answers.items() if status == 400]
    # Every operation that reads its body says why; the rest refused earlier (405 for an
    # action not open to this record, 404, 409) without reading it.
    others = {key: status for key, status in answers.items() if status != 400}
    print(f"deep JSON: {len(operations)} operations, {len(refused)} refused with 400, others {others}")
    assert len(refused) >= len(operations) * 0.8, others


def test_a_deep_body_is_refused_whatever_its_depth_and_a_normal_one_parses(api_as):
    api = api_as(Role.SERVICE_LEVEL_MANAGER.value)
    for depth in (21, 500, 999, 1001, 5000):
        response = api.post("/api/v1/measurements/", data=_deep_body(depth), content_type="application/json")
        assert response.status_code == 400, depth
    nested = {"target": 0}
    for _ in range(18):
        nested = {"note": nested}
    response = api.post("/api/v1/measurements/", data=json.dumps(nested), content_type="application/json")
    assert response.status_code == 400
    assert "nested" not in response.json()["message"]


def test_an_oversized_body_and_bad_json_are_a_400(api_as, settings):
    settings.API_JSON_MAX_BYTES = 1024
    api = api_as(Role.SERVICE_LEVEL_MANAGER.value)
    response = api.post("/api/v1/measurements/", data=json.dumps({"note": "x" * 2000}), content_type="application/json")
    assert response.status_code == 400
    assert "1 KB" in response.json()["message"]
    for body in (b"{", b'{"actual": NaN}', b'{"actual": Infinity}', b"\xff\xfe"):
        response = api.post("/api/v1/measurements/", data=body, content_type="application/json")
        assert response.status_code == 400, body


def test_depth_is_counted_without_recursion():
    assert depth_of(1, 5) == 0
    assert depth_of([], 5) == 1
    assert depth_of({"a": [{"b": []}]}, 10) == 4
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert depth_of(deep, 20) == 21  # stops counting once past the limit


# --- numbers too large -----------------------------------------------------------------------


@pytest.fixture
def target():
    agreement = AgreementFactory(kind=AgreementKind.SLA, status=AgreementStatus.ACTIVE)
    return TargetFactory(agreement=agreement, metric=Metric.RESOLUTION, priority=Priority.P1, value=Decimal(2))


@pytest.fixture(autouse=False)
def november():
    with time_machine.travel(datetime(2026, 11, 15, 2, 0, tzinfo=UTC), tick=False):
        yield


@pytest.mark.parametrize("actual", ["1e309", "1e308", "-1e309", "1E+400", "123456789"])
def test_a_huge_actual_is_a_400_naming_the_field(november, target, api_as, actual):
    api = api_as(Role.SERVICE_LEVEL_MANAGER.value)
    for encoded in (actual, json.dumps(actual)):  # as a JSON number and as a string
        body = f'{{"target": {target.pk}, "period": "2026-10", "actual": {encoded}}}'
        with assert_nothing_written(Measurement):
            response = api.post("/api/v1/measurements/", data=body, content_type="application/json")
        assert response.status_code == 400, (encoded, response.content)
        assert list(response.json()["errors"]) == ["actual"], response.json()


def test_a_huge_actual_in_a_bulk_names_the_row(november, target, api_as):
    api = api_as(Role.SERVICE_LEVEL_MANAGER.value)
    body = (
        f'[{{"target": {target.pk}, "period": "2026-09", "actual": 1.5}},'
        f' {{"target": {target.pk}, "period": "2026-10", "actual": 1e309}}]'
    )
    with assert_nothing_written(Measurement):
        response = api.post("/api/v1/measurements/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "1.actual" in response.json()["errors"]


@pytest.mark.parametrize("actual", ["1e309", "1e308", "9" * 400])
def test_a_huge_actual_in_a_csv_import_names_row_and_column(november, target, actual):
    slm = user_with_role(Role.SERVICE_LEVEL_MANAGER.value)
    text = f"agreement,metric,priority,month,actual\n{target.agreement.number},resolution,P1,2026-10,{actual}\n"
    with assert_nothing_written(Measurement):
        result = measurements_import_csv(file=SimpleUploadedFile("m.csv", text.encode()), actor=slm)
    assert not result.ok
    [error] = result.errors
    assert (error.row, error.column) == (2, "actual")


def test_the_import_page_answers_a_huge_actual_with_the_row(november, target, client):
    slm = user_with_role(Role.SERVICE_LEVEL_MANAGER.value)
    client.force_login(slm)
    text = f"agreement,metric,priority,month,actual\n{target.agreement.number},resolution,P1,2026-10,1e308\n"
    with assert_nothing_written(Measurement):
        response = client.post(
            "/sla/measurements/import/", {"file": SimpleUploadedFile("m.csv", text.encode(), "text/csv")}
        )
    assert response.status_code == 400
    assert "2" in response.content.decode()


# --- control characters ----------------------------------------------------------------------


def test_clean_text_keeps_tabs_and_line_breaks_and_drops_the_rest():
    assert clean_text("VPN\x00 down\x07\x1b[31m\r\n\tok\x7f\x85\ud800") == "VPN down[31m\r\n\tok"
    assert clean_text("正常文本") == "正常文本"
    data = {"a\x00": ["x\x01", {"b": "y\x02"}], "n": 1}
    assert clean_data(data) == {"a": ["x", {"b": "y"}], "n": 1}


def test_nul_in_every_search_and_filter_is_not_an_error(demo, client, api_client):
    """Every list page and every API list, searched and filtered with NUL and control
    characters, answers as for the clean text."""
    admin = User.objects.get(username="admin")
    client.force_login(admin)
    api_client.force_authenticate(admin)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    dirty = "\x00VPN\x01\x1b"
    lists = [path for path, item in schema["paths"].items() if "get" in item and "{" not in path]
    assert len(lists) >= 14
    for path in lists:
        params = {"search": dirty, "q": dirty}
        for parameter in schema["paths"][path]["get"].get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] not in ("page", "format"):
                params[parameter["name"]] = dirty
        response = api_client.get(path, params)
        assert response.status_code in (200, 400), (path, response.status_code)
    pages = [
        "/complaints/",
        "/contacts/",
        "/organisations/",
        "/surveys/questionnaires/",
        "/surveys/campaigns/",
        "/surveys/callbacks/",
        "/sla/agreements/",
        "/sla/services/",
        "/audit/",
        "/notifications/",
        "/pick/organisations/",
        "/pick/contacts/",
    ]
    for page in pages:
        response = client.get(page, {"q": dirty, "status": dirty, "organisation": dirty, "page": "\x00"})
        assert response.status_code in (200, 302, 400), (page, response.status_code)
    response = client.get("/surveys/questionnaires/", {"q": "\x00"})
    assert response.status_code == 200


def test_control_characters_never_reach_a_stored_name(client, api_as):
    organisation = Organisation.objects.create(name="客户甲")
    api = api_as(Role.SERVICE_DESK.value)
    response = api.post(
        "/api/v1/contacts/",
        data=json.dumps({"name": "张\x00三\x07", "email": "z@example.com", "organisation": organisation.pk}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Contact.objects.get(email="z@example.com").name == "张三"
    desk = user_with_role(Role.SERVICE_DESK.value)
    client.force_login(desk)
    response = client.post(
        "/contacts/new/",
        {
            "name": "李\x1b四\x00",
            "email": "l@example.com",
            "organisation": organisation.pk,
            "notes": "一\r\n二\x08",
            "preferred_language": "zh-hans",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    contact = Contact.objects.get(email="l@example.com")
    assert (contact.name, contact.notes) == ("李四", "一\r\n二")


def test_control_characters_stored_earlier_are_cleaned_by_the_command():
    organisation = Organisation.objects.create(name="客户乙\x07", code="B-1")
    contact = Contact.objects.create(organisation=organisation, name="王\x1b五", email="w@example.com", notes="a\r\nb")
    out = io.StringIO()
    call_command("clean_control_characters", "--dry-run", stdout=out)
    assert "core.Contact.name: 1 row(s) would be cleaned" in out.getvalue()
    contact.refresh_from_db()
    assert contact.name == "王\x1b五"
    call_command("clean_control_characters", stdout=io.StringIO())
    contact.refresh_from_db()
    organisation.refresh_from_db()
    assert (contact.name, contact.notes, organisation.name) == ("王五", "a\r\nb", "客户乙")
    out = io.StringIO()
    call_command("clean_control_characters", stdout=out)
    assert out.getvalue().startswith("0 value(s) cleaned")
