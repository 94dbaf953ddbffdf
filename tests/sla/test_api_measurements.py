"""The measurements API: one object or a list (≤ 1000), all or nothing, idempotent by target +
month (a repeat updates: 200; new: 201), targets by id or by agreement / metric / priority,
errors keyed ``<index>.<field>``, closed and future months refused, filters, the integration
account with a token. Time is frozen on 15 November 2026 (October is the last full month).
Every test starts in zh-hans; English messages are read with ``english(client)``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.utils import translation
from knox.models import AuthToken

from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written, user_with_role
from sla.api.measurements import MAX_BULK
from sla.choices import AgreementKind, AgreementStatus, MeasurementSource, Metric, Priority, ReportStatus, TargetUnit
from sla.models import Measurement, SlaReport
from tests.sla.factories import AgreementFactory, MeasurementFactory, TargetFactory

pytestmark = pytest.mark.django_db

SLM = Role.SERVICE_LEVEL_MANAGER.value
URL = "/api/v1/measurements/"
NOW = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def slm():
    return user_with_role(SLM)


@pytest.fixture
def api(api_client, slm):
    api_client.force_authenticate(slm)
    return api_client


@pytest.fixture
def agreement():
    return AgreementFactory(kind=AgreementKind.SLA, number="SLA-2026-011", status=AgreementStatus.ACTIVE)


@pytest.fixture
def resolution(agreement):
    """P1 resolution within 2 h."""
    return TargetFactory(agreement=agreement, metric=Metric.RESOLUTION, priority=Priority.P1, value=Decimal(2))


@pytest.fixture
def availability(agreement):
    return TargetFactory(
        agreement=agreement, metric=Metric.AVAILABILITY, priority="", value=Decimal("99.5"), unit=TargetUnit.PERCENT
    )


@contextmanager
def english(client) -> Iterator[None]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    try:
        with translation.override("en"):
            yield
    finally:
        del client.cookies[settings.LANGUAGE_COOKIE_NAME]


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


# --- recording ----------------------------------------------------------------------------------


def test_one_measurement_is_recorded_and_a_repeat_updates_it(api, slm, resolution):
    body = {"target": resolution.pk, "period": "2026-10", "actual": "1.5", "sample_size": 42, "note": "ok"}
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    first = response.json()
    assert (first["outcome"], first["period"], first["actual"], first["met"]) == ("created", "2026-10-01", "1.50", True)
    assert (first["source"], first["recorded_by"], first["sample_size"], first["agreement_number"]) == (
        "api",
        slm.pk,
        42,
        "SLA-2026-011",
    )
    response = api.post(URL, {**body, "period": "2026-10-31", "actual": "2.5"}, format="json")
    assert response.status_code == 200, response.content
    again = response.json()
    assert (again["id"], again["outcome"], again["actual"], again["met"]) == (first["id"], "updated", "2.50", False)
    with assert_nothing_written(Measurement):
        response = api.post(URL, {**body, "actual": "2.50"}, format="json")
    assert (response.status_code, response.json()["outcome"]) == (200, "unchanged")
    assert Measurement.objects.count() == 1


def test_a_list_posted_twice_keeps_one_row_per_target_and_month(api, resolution, availability):
    rows = [
        {"target": resolution.pk, "period": "2026-09", "actual": "1.5"},
        {"target": resolution.pk, "period": "2026-10", "actual": "2.5"},
        {"target": availability.pk, "period": "2026-10", "actual": "99.9"},
    ]
    response = api.post(URL, rows, format="json")
    assert response.status_code == 201, response.content
    assert [(r["outcome"], r["met"]) for r in response.json()] == [
        ("created", True),
        ("created", False),
        ("created", True),
    ]

    rows[1]["actual"] = "1.75"
    response = api.post(URL, rows, format="json")
    assert response.status_code == 200, response.content
    assert [r["outcome"] for r in response.json()] == ["unchanged", "updated", "unchanged"]
    assert response.json()[1]["met"] is True
    assert Measurement.objects.count() == 3
    assert Measurement.objects.get(target=resolution, period=date(2026, 10, 1)).actual == Decimal("1.75")

    rows.append({"target": availability.pk, "period": "2026-09", "actual": "98"})
    response = api.post(URL, rows, format="json")
    assert response.status_code == 201  # one new among repeats
    assert [r["outcome"] for r in response.json()] == ["unchanged", "unchanged", "unchanged", "created"]


def test_a_target_is_named_by_agreement_metric_and_priority(api, agreement, resolution, availability):
    custom = TargetFactory(
        agreement=agreement, metric=Metric.CUSTOM, priority="", name="Satisfaction", value=Decimal(90), unit="percent"
    )
    rows = [
        {
            "target": {"agreement": "SLA-2026-011", "metric": "resolution", "priority": "P1"},
            "period": "2026-10",
            "actual": 1,
        },
        {"target": {"agreement": "sla-2026-011", "metric": "availability"}, "period": "2026-10", "actual": 99.95},
        {
            "target": {"agreement": "SLA-2026-011", "metric": "custom", "name": "satisfaction"},
            "period": "2026-10",
            "actual": 93,
        },
    ]
    response = api.post(URL, rows, format="json")
    assert response.status_code == 201, response.content
    assert [r["target"] for r in response.json()] == [resolution.pk, availability.pk, custom.pk]


@pytest.mark.parametrize(
    ("reference", "field", "fragment"),
    [
        (
            {"agreement": "SLA-1999-001", "metric": "resolution", "priority": "P1"},
            "0.target.agreement",
            "Unknown agreement",
        ),
        ({"metric": "resolution", "priority": "P1"}, "0.target.agreement", "agreement number"),
        ({"agreement": "SLA-2026-011", "metric": "speed", "priority": "P1"}, "0.target.metric", "Unknown metric"),
        ({"agreement": "SLA-2026-011", "metric": "resolution", "priority": "P9"}, "0.target.priority", "P1 to P4"),
        ({"agreement": "SLA-2026-011", "metric": "resolution", "priority": "P2"}, "0.target", "has no"),
        ({"agreement": "SLA-2026-011", "metric": "custom"}, "0.target", "several"),
        ({"agreement": "SLA-2026-011", "metric": "resolution", "colour": "red"}, "0.target.colour", "Unknown field"),
    ],
)
def test_a_bad_target_reference_is_a_400_naming_it(api, agreement, resolution, reference, field, fragment):
    for name in ("One", "Two"):
        TargetFactory(
            agreement=agreement, metric=Metric.CUSTOM, priority="", name=name, value=Decimal(90), unit="percent"
        )
    rows = [{"target": reference, "period": "2026-10", "actual": "1"}]
    with assert_nothing_written(Measurement), english(api):
        body = assert_invalid(api.post(URL, rows, format="json"), field)
    assert fragment in body["errors"][field][0], body


def test_every_bad_item_is_reported_by_index_and_field_and_nothing_is_written(api, resolution, availability):
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 8, 1), status=ReportStatus.APPROVED)
    rows = [
        {"target": resolution.pk, "period": "2026-10", "actual": "1.5"},  # fine
        {"target": resolution.pk, "period": "2026-09", "actual": "abc"},
        {"target": resolution.pk, "period": "2026-13", "actual": "1"},
        {"target": availability.pk, "period": "2026-10", "actual": "100.5"},
        {"target": resolution.pk, "period": "2026-08", "actual": "1"},  # closed: the report is approved
        {"target": resolution.pk, "period": "2026-12", "actual": "1"},  # future
        {"target": 999999, "period": "2026-10", "actual": "1"},
        {"target": resolution.pk, "period": "2026-10-05", "actual": "1"},  # the same month as row 0
        {"target": resolution.pk, "period": "2026-07", "actual": "-1", "sample_size": "many"},
    ]
    with assert_nothing_written(Measurement), english(api):
        body = assert_invalid(api.post(URL, rows, format="json"))
    errors = body["errors"]
    assert set(errors) == {
        "1.actual",
        "2.period",
        "3.actual",
        "4.period",
        "5.period",
        "6.target",
        "7.period",
        "8.actual",
        "8.sample_size",
    }
    assert "closed" in errors["4.period"][0]
    assert "future" in errors["5.period"][0]
    assert "Duplicate" in errors["7.period"][0]
    assert all(isinstance(messages, list) and messages for messages in errors.values())


def test_a_single_objects_errors_carry_no_index(api, resolution):
    with assert_nothing_written(Measurement):
        assert_invalid(
            api.post(URL, {"target": resolution.pk, "period": "2026-10", "actual": "x"}, format="json"), "actual"
        )


def test_a_closed_month_is_refused_and_keeps_its_figures(api, resolution):
    kept = MeasurementFactory(target=resolution, period=date(2026, 9, 1), actual=Decimal(1), met=True)
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 9, 1), status=ReportStatus.SENT)
    with assert_nothing_written(Measurement), english(api):
        body = assert_invalid(
            api.post(URL, [{"target": resolution.pk, "period": "2026-09", "actual": "5"}], format="json"), "0.period"
        )
    assert "the month is closed" in body["errors"]["0.period"][0]
    kept.refresh_from_db()
    assert kept.actual == Decimal(1)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"period": "2026-10", "actual": "1"}, "0.target"),
        ({"target": "{target}", "actual": "1"}, "0.period"),
        ({"target": "{target}", "period": "2026-10"}, "0.actual"),
        ({"target": "{target}", "period": "2026-10", "actual": "1", "met": True}, "0.met"),
        ({"target": "{target}", "period": "2026-10", "actual": "1", "colour": "red"}, "0.colour"),
        ({"target": "{target}", "period": "2026-10", "actual": "1", "note": ["a"]}, "0.note"),
        ({"target": "{target}", "period": "2026-10", "actual": "1", "note": "x" * 301}, "0.note"),
        ({"target": True, "period": "2026-10", "actual": "1"}, "0.target"),
        ({"target": "{target}", "period": "2026-10", "actual": True}, "0.actual"),
        ("not an object", "0.non_field_errors"),
    ],
)
def test_a_malformed_item_is_a_400_naming_the_field(api, resolution, item, field):
    if isinstance(item, dict):
        item = {key: resolution.pk if value == "{target}" else value for key, value in item.items()}
    with assert_nothing_written(Measurement):
        assert_invalid(api.post(URL, [item], format="json"), field)


@pytest.mark.parametrize("body", [[], "text", 42])
def test_a_body_without_measurements_is_a_400(api, body):
    with assert_nothing_written(Measurement):
        assert_invalid(api.post(URL, body, format="json"), "non_field_errors")


def test_at_most_a_thousand_measurements_at_once(api, resolution):
    rows = [{"target": resolution.pk, "period": "2026-10", "actual": "1"}] * (MAX_BULK + 1)
    with assert_nothing_written(Measurement), english(api):
        body = assert_invalid(api.post(URL, rows, format="json"), "non_field_errors")
    assert "1000" in body["errors"]["non_field_errors"][0]


def test_a_thousand_targets_in_one_post(api, agreement):
    targets = [
        TargetFactory(
            agreement=agreement, metric=Metric.CUSTOM, priority="", name=f"m{i}", value=Decimal(90), unit="percent"
        )
        for i in range(MAX_BULK)
    ]
    rows = [{"target": t.pk, "period": "2026-10", "actual": "95"} for t in targets]
    response = api.post(URL, rows, format="json")
    assert response.status_code == 201, response.content[:500]
    assert len(response.json()) == MAX_BULK and Measurement.objects.count() == MAX_BULK


# --- who may record -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUDITOR.value, Role.PROCESS_OWNER.value, Role.SERVICE_DESK.value])
def test_other_roles_may_not_record(api_client, resolution, role):
    api_client.force_authenticate(user_with_role(role))
    with assert_nothing_written(Measurement):
        response = api_client.post(URL, {"target": resolution.pk, "period": "2026-10", "actual": "1"}, format="json")
    assert response.status_code == 403 and response.json()["message"]


def test_the_integration_account_records_with_a_token(api_client, resolution):
    account = user_with_role(SLM, username="itsm-integration")
    _instance, token = AuthToken.objects.create(user=account)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api_client.post(URL, [{"target": resolution.pk, "period": "2026-10", "actual": "1"}], format="json")
    assert response.status_code == 201, response.content
    measurement = Measurement.objects.get()
    assert (measurement.recorded_by, measurement.source) == (account, MeasurementSource.API)


# --- reading ------------------------------------------------------------------------------------


def test_measurement_filters(api, agreement, resolution, availability):
    other = TargetFactory(agreement=AgreementFactory(), priority=Priority.P2, value=Decimal(12))
    september = MeasurementFactory(target=resolution, period=date(2026, 9, 1), actual=Decimal(3), met=False)
    october = MeasurementFactory(target=resolution, period=date(2026, 10, 1))
    uptime = MeasurementFactory(target=availability, period=date(2026, 10, 1), actual=Decimal("99.9"))
    elsewhere = MeasurementFactory(target=other, period=date(2026, 8, 1))

    assert set(ids(api.get(URL, {"target": resolution.pk}))) == {september.pk, october.pk}
    assert set(ids(api.get(URL, {"agreement": agreement.pk}))) == {september.pk, october.pk, uptime.pk}
    assert set(ids(api.get(URL, {"period": "2026-10"}))) == {october.pk, uptime.pk}
    assert set(ids(api.get(URL, {"period_from": "2026-09", "period_to": "2026-09-30"}))) == {september.pk}
    assert ids(api.get(URL, {"met": "false"})) == [september.pk]
    assert ids(api.get(URL, {"metric": "availability"})) == [uptime.pk]
    assert ids(api.get(URL, {"priority": "P2"})) == [elsewhere.pk]
    assert ids(api.get(URL, {"ordering": "period"}))[0] == elsewhere.pk
    row = api.get(f"{URL}{october.pk}/").json()
    assert (row["target_value"], row["unit"], row["metric"], row["priority"]) == ("2.00", "hours", "resolution", "P1")
    for params, field in [
        ({"period": "October"}, "period"),
        ({"period_from": "2026-13"}, "period_from"),
        ({"target": "x"}, "target"),
        ({"metric": "speed"}, "metric"),
    ]:
        assert_invalid(api.get(URL, params), field)
