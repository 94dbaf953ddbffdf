"""The targets API: create / update / delete through the target services (the same rules as
the pages: a response never longer than the resolution, % at most 100, one target per metric
and priority, only before the agreement is in force), filters, and the underpinning links
(``POST {id}/underpinning/`` with ``supporting`` / ``unlink``) with the status and gap they
leave. Every test starts in zh-hans; English messages are read with ``english(client)``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import translation

from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written, user_with_role
from sla.choices import AgreementKind, AgreementStatus, Metric, Priority, TargetUnit
from sla.models import AgreementEvent, ServiceLevelTarget
from tests.factories import CalendarFactory
from tests.sla.factories import AgreementFactory, MeasurementFactory, TargetFactory

pytestmark = pytest.mark.django_db

A = AgreementStatus
SLM = Role.SERVICE_LEVEL_MANAGER.value
URL = "/api/v1/targets/"


@pytest.fixture
def slm():
    return user_with_role(SLM)


@pytest.fixture
def api(api_client, slm):
    api_client.force_authenticate(slm)
    return api_client


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


def payload(agreement, **changes) -> dict:
    return {
        "agreement": agreement.pk,
        "metric": "resolution",
        "priority": "P1",
        "value": "2",
        "unit": "hours",
        **changes,
    }


# --- writes -------------------------------------------------------------------------------------


def test_a_target_is_added_changed_and_removed_on_a_draft(api, slm):
    agreement = AgreementFactory()
    calendar = CalendarFactory()
    response = api.post(URL, payload(agreement, calendar=calendar.pk), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["agreement"], body["agreement_number"], body["value"], body["calendar"]) == (
        agreement.pk,
        agreement.number,
        "2.00",
        calendar.pk,
    )
    assert body["supported_by"] == [] and body["label"]
    url = f"{URL}{body['id']}/"
    response = api.patch(url, {"value": "3"}, format="json")
    assert response.status_code == 200 and response.json()["value"] == "3.00"
    response = api.put(url, {"metric": "resolution", "priority": "P2", "value": "12", "unit": "hours"}, format="json")
    assert response.status_code == 200 and response.json()["priority"] == "P2"
    assert api.delete(url).status_code == 204
    assert not ServiceLevelTarget.objects.exists()
    actions = list(AgreementEvent.objects.filter(agreement=agreement).values_list("action", flat=True))
    assert actions == ["target_added", "target_changed", "target_changed", "target_removed"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"metric": "response", "priority": "P1", "value": "3"}, "value"),  # longer than the 2 h P1 resolution
        ({"metric": "availability", "priority": "", "value": "100.5", "unit": "percent"}, "value"),
        ({"metric": "availability", "priority": "", "value": "99", "unit": "minutes"}, "unit"),
        ({"metric": "custom", "priority": "", "value": "90", "unit": "percent"}, "name"),
        ({"priority": ""}, "priority"),
        ({"value": "0"}, "value"),
        ({"value": "-1"}, "value"),
        ({"value": "many"}, "value"),
        ({"priority": "P9"}, "priority"),
        ({"unit": "days"}, "unit"),
        ({"calendar": 999999}, "calendar"),
        ({"agreement": 999999}, "agreement"),
        ({"priority": "P1", "value": "2"}, "metric"),  # a second P1 resolution target
        ({"supported_by": [1]}, "supported_by"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_target_input_is_a_400_per_field_and_writes_nothing(api, changes, field):
    agreement = AgreementFactory()
    TargetFactory(agreement=agreement, metric=Metric.RESOLUTION, priority=Priority.P1, value=Decimal(2))
    body = {**payload(agreement, priority="P2", value="12"), **changes}
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        assert_invalid(api.post(URL, body, format="json"), field)


def test_a_response_target_longer_than_the_resolution_is_refused_with_a_clear_message(api):
    agreement = AgreementFactory()
    TargetFactory(agreement=agreement, metric=Metric.RESOLUTION, priority=Priority.P1, value=Decimal(2))
    with english(api):
        body = assert_invalid(api.post(URL, payload(agreement, metric="response", value="3"), format="json"), "value")
    assert "longer than the P1 resolution target" in body["errors"]["value"][0]


def test_an_active_agreements_targets_change_only_with_a_new_version(api):
    target = TargetFactory(agreement=AgreementFactory(status=A.ACTIVE))
    url = f"{URL}{target.pk}/"
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        assert_invalid(api.post(URL, payload(target.agreement, priority="P2"), format="json"), "non_field_errors")
        assert_invalid(api.patch(url, {"value": "1"}, format="json"), "non_field_errors")
        assert_invalid(api.delete(url), "non_field_errors")
    target.refresh_from_db()
    assert target.value == Decimal(2)


def test_a_targets_agreement_does_not_change(api):
    target, other = TargetFactory(), AgreementFactory()
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        assert_invalid(api.patch(f"{URL}{target.pk}/", {"agreement": other.pk}, format="json"), "agreement")


def test_a_measured_target_is_not_removed(api):
    target = MeasurementFactory().target
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        assert_invalid(api.delete(f"{URL}{target.pk}/"), "non_field_errors")


def test_target_filters(api):
    sla = AgreementFactory()
    uc = AgreementFactory(kind=AgreementKind.UC)
    p1 = TargetFactory(agreement=sla, priority=Priority.P1)
    p2 = TargetFactory(agreement=sla, priority=Priority.P2, metric=Metric.RESPONSE, value=Decimal(4))
    other = TargetFactory(agreement=uc, priority=Priority.P1)
    assert ids(api.get(URL, {"agreement": sla.pk, "ordering": "priority"})) == [p1.pk, p2.pk]
    assert ids(api.get(URL, {"metric": "response"})) == [p2.pk]
    assert set(ids(api.get(URL, {"priority": "P1"}))) == {p1.pk, other.pk}
    assert ids(api.get(URL, {"kind": "uc"})) == [other.pk]
    assert_invalid(api.get(URL, {"priority": "P7"}), "priority")
    assert_invalid(api.get(URL, {"agreement": 999999}), "agreement")


# --- underpinning links -------------------------------------------------------------------------


@pytest.fixture
def sla_target():
    sla = AgreementFactory(kind=AgreementKind.SLA, number="SLA-2026-011", status=A.ACTIVE)
    return TargetFactory(agreement=sla, metric=Metric.RESOLUTION, priority=Priority.P1, value=Decimal(2))


@pytest.fixture
def uc():
    return AgreementFactory(kind=AgreementKind.UC, number="UC-2026-003", status=A.ACTIVE)


def underpinning(target) -> str:
    return f"{URL}{target.pk}/underpinning/"


def test_linking_a_weaker_then_a_stronger_target(api, slm, sla_target, uc):
    four_hours = TargetFactory(agreement=uc, priority=Priority.P1, value=Decimal(4))
    before = api.get(underpinning(sla_target)).json()
    assert before["row"]["status"] == "missing"
    assert [c["target"] for c in before["candidates"]] == [four_hours.pk]

    with english(api):
        response = api.post(underpinning(sla_target), {"supporting": [four_hours.pk]}, format="json")
    assert response.status_code == 200, response.content
    row = response.json()["row"]
    assert row["status"] == "weak"
    assert row["gap"] == "UC-2026-003 resolves P1 in 4 h; SLA-2026-011 promises 2 h."
    assert api.get(f"{URL}{sla_target.pk}/").json()["supported_by"] == [four_hours.pk]

    ola = AgreementFactory(kind=AgreementKind.OLA, status=A.ACTIVE)
    ninety_minutes = TargetFactory(agreement=ola, priority=Priority.P1, value=Decimal(90), unit=TargetUnit.MINUTES)
    # One transaction: link the stronger one, drop the weaker one.
    response = api.post(
        underpinning(sla_target), {"supporting": [ninety_minutes.pk], "unlink": [four_hours.pk]}, format="json"
    )
    assert response.json()["row"]["status"] == "supported" and response.json()["row"]["gap"] == ""
    assert list(sla_target.supported_by.all()) == [ninety_minutes]
    actions = AgreementEvent.objects.filter(agreement=sla_target.agreement).values_list("action", flat=True)
    assert list(actions) == ["underpinning_linked", "underpinning_linked", "underpinning_unlinked"]
    assert all(event.actor == slm for event in AgreementEvent.objects.all())


def test_linking_twice_or_unlinking_a_stranger_changes_nothing(api, sla_target, uc):
    support = TargetFactory(agreement=uc, priority=Priority.P1, value=Decimal(1))
    stranger = TargetFactory(agreement=uc, priority=Priority.P2, value=Decimal(1))
    api.post(underpinning(sla_target), {"supporting": [support.pk]}, format="json")
    with assert_nothing_written(AgreementEvent):
        assert api.post(underpinning(sla_target), {"supporting": [support.pk]}, format="json").status_code == 200
        assert api.post(underpinning(sla_target), {"unlink": [stranger.pk]}, format="json").status_code == 200
    assert list(sla_target.supported_by.all()) == [support]


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        ("nothing_sent", "supporting"),
        ("unknown_id", "supporting"),
        ("not_a_list", "supporting"),
        ("another_sla", "supporting"),
        ("other_priority", "supporting"),
        ("other_metric", "supporting"),
        ("percent_against_time", "supporting"),
        ("ended_uc", "supporting"),
        ("unknown_key", "weight"),
    ],
)
def test_bad_links_are_a_400_and_link_nothing(api, sla_target, uc, scenario, field):
    good = TargetFactory(agreement=uc, priority=Priority.P1, value=Decimal(1))
    body: dict = {"supporting": [good.pk]}
    if scenario == "nothing_sent":
        body = {}
    elif scenario == "unknown_id":
        body["supporting"].append(999999)
    elif scenario == "not_a_list":
        body["supporting"] = "all"
    elif scenario == "another_sla":
        body["supporting"].append(TargetFactory(agreement=AgreementFactory(), priority=Priority.P1).pk)
    elif scenario == "other_priority":
        body["supporting"].append(TargetFactory(agreement=uc, priority=Priority.P2).pk)
    elif scenario == "other_metric":
        body["supporting"].append(
            TargetFactory(agreement=uc, metric=Metric.RESPONSE, priority=Priority.P1, value=Decimal(1)).pk
        )
    elif scenario == "percent_against_time":
        percent = TargetFactory(
            agreement=uc, priority=Priority.P1, name="uptime", value=Decimal(99), unit=TargetUnit.PERCENT
        )
        body["supporting"].append(percent.pk)
    elif scenario == "ended_uc":
        ended = AgreementFactory(kind=AgreementKind.UC, status=A.TERMINATED)
        body["supporting"].append(TargetFactory(agreement=ended, priority=Priority.P1).pk)
    else:
        body["weight"] = 3
    with assert_nothing_written(AgreementEvent):
        assert_invalid(api.post(underpinning(sla_target), body, format="json"), field)
    assert not sla_target.supported_by.exists()


def test_only_an_sla_target_of_a_live_sla_is_underpinned(api, uc):
    uc_target = TargetFactory(agreement=uc, priority=Priority.P1)
    assert api.get(underpinning(uc_target)).json() == {"row": None, "candidates": []}
    other = TargetFactory(agreement=AgreementFactory(kind=AgreementKind.OLA), priority=Priority.P1)
    with assert_nothing_written(AgreementEvent):
        assert_invalid(api.post(underpinning(uc_target), {"supporting": [other.pk]}, format="json"), "non_field_errors")
    ended = TargetFactory(agreement=AgreementFactory(status=A.EXPIRED), priority=Priority.P1)
    with assert_nothing_written(AgreementEvent):
        assert_invalid(api.post(underpinning(ended), {"supporting": [other.pk]}, format="json"), "non_field_errors")


@pytest.mark.parametrize("role", [Role.AUDITOR.value, Role.BR_MANAGER.value, Role.PROCESS_OWNER.value])
def test_readers_see_the_underpinning_but_may_not_link(api_client, sla_target, uc, role):
    support = TargetFactory(agreement=uc, priority=Priority.P1, value=Decimal(1))
    api_client.force_authenticate(user_with_role(role))
    assert api_client.get(underpinning(sla_target)).status_code == 200
    with assert_nothing_written(AgreementEvent):
        response = api_client.post(underpinning(sla_target), {"supporting": [support.pk]}, format="json")
    assert response.status_code == 403
    assert not sla_target.supported_by.exists()
