"""Service level targets: the rules (value, units per metric, priority, name, duplicates, a
response target never longer than the resolution target of its priority — across units, on a
business calendar's working day), "apply the standard targets" (SPEC §5 defaults, idempotent),
targets frozen once the agreement is active, and the target forms on the agreement page."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from itsm.core.models import Calendar
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written, user_with_role
from sla.choices import STANDARD_TARGETS, AgreementStatus, Metric, Priority, TargetUnit
from sla.models import AgreementEvent, ServiceLevelTarget
from sla.services.targets import (
    target_create,
    target_delete,
    target_duration,
    target_update,
    target_working_time,
    targets_apply_standard,
)
from tests.factories import CalendarFactory
from tests.sla.factories import MeasurementFactory
from tests.sla.test_agreements import _frozen_time, _media, make_agreement, manager  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

S = AgreementStatus
SLM = Role.SERVICE_LEVEL_MANAGER.value


def add(agreement, actor=None, **fields) -> ServiceLevelTarget:
    fields.setdefault("metric", Metric.RESOLUTION)
    fields.setdefault("priority", Priority.P1)
    fields.setdefault("value", Decimal("2"))
    fields.setdefault("unit", TargetUnit.HOURS)
    return target_create(agreement=agreement, actor=actor or manager(), **fields)


@pytest.fixture
def business_hours():
    """09:00–18:00: a working day is 9 hours."""
    return CalendarFactory(work_start=time(9), work_end=time(18))


# --- working time -----------------------------------------------------------------------------


def test_units_become_working_time_through_the_calendar(business_hours):
    assert target_working_time(30, TargetUnit.MINUTES, business_hours) == timedelta(minutes=30)
    assert target_working_time(4, TargetUnit.HOURS, business_hours) == timedelta(hours=4)
    assert target_working_time(2, TargetUnit.WORKING_DAYS, business_hours) == timedelta(hours=18)
    assert target_working_time(2, TargetUnit.WORKING_DAYS, None) == timedelta(hours=48)  # 24×7
    assert target_working_time(Decimal("99.5"), TargetUnit.PERCENT, None) is None


# --- the rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"value": Decimal("0")}, "value", "greater than zero"),
        ({"value": Decimal("-1")}, "value", ""),
        ({"metric": Metric.AVAILABILITY, "priority": "", "value": Decimal("100.5"), "unit": "percent"}, "value", "100"),
        ({"metric": Metric.RESPONSE, "unit": TargetUnit.PERCENT}, "unit", "minutes, hours or working days"),
        ({"metric": Metric.AVAILABILITY, "priority": "", "value": Decimal("99"), "unit": "hours"}, "unit", "%"),
        ({"metric": Metric.CUSTOM, "value": Decimal("90"), "unit": "percent"}, "name", "what this measure is"),
        ({"metric": Metric.CUSTOM, "name": "First call fix", "value": Decimal("3"), "unit": "hours"}, "unit", "%"),
        ({"priority": ""}, "priority", "priority"),
        ({"unit": "fortnights"}, "unit", ""),
    ],
)
def test_a_target_breaking_a_rule_is_refused_on_its_field(fields, field, message):
    agreement = make_agreement()
    actor = manager()
    values = {"metric": Metric.RESOLUTION, "priority": Priority.P1, "value": Decimal("2"), "unit": "hours", **fields}
    written = assert_nothing_written(ServiceLevelTarget, AgreementEvent)
    with written, translation.override("en"), pytest.raises(ValidationError) as error:
        target_create(agreement=agreement, actor=actor, **values)
    assert field in error.value.message_dict
    assert message in " ".join(error.value.message_dict[field])


def test_valid_targets_of_each_metric_are_accepted():
    agreement = make_agreement()
    add(agreement, metric=Metric.RESPONSE, value=Decimal("30"), unit=TargetUnit.MINUTES)
    add(agreement)
    add(agreement, metric=Metric.AVAILABILITY, priority="", value=Decimal("99.9"), unit=TargetUnit.PERCENT)
    add(agreement, metric=Metric.CUSTOM, priority="", name="First call fix", value=Decimal("70"), unit="percent")
    assert agreement.targets.count() == 4
    assert agreement.events.filter(action="target_added").count() == 4


def test_a_second_target_of_the_same_metric_and_priority_is_refused():
    agreement = make_agreement()
    add(agreement)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        add(agreement, value=Decimal("3"))
    assert "already has a P1 Resolution time target" in error.value.message_dict["metric"][0]


def test_a_response_target_longer_than_its_resolution_target_is_refused_naming_both():
    agreement = make_agreement()
    add(agreement)  # P1 resolution 2 h
    actor = manager()
    with (
        assert_nothing_written(ServiceLevelTarget),
        translation.override("en"),
        pytest.raises(ValidationError) as error,
    ):
        target_create(
            agreement=agreement, actor=actor, metric=Metric.RESPONSE, priority="P1", value=Decimal("3"), unit="hours"
        )
    message = error.value.message_dict["value"][0]
    assert "P1 response target (3 hours)" in message
    assert "P1 resolution target (2 hours)" in message
    # Equal is fine; another priority is not compared.
    add(agreement, metric=Metric.RESPONSE, value=Decimal("120"), unit=TargetUnit.MINUTES)
    add(agreement, metric=Metric.RESPONSE, priority=Priority.P2, value=Decimal("5"), unit=TargetUnit.HOURS)


def test_response_and_resolution_are_compared_across_units_on_the_working_day(business_hours):
    agreement = make_agreement()
    # P3: resolution in 1 working day of 9 h; a 10-hour response is longer, an 8-hour one is not.
    add(agreement, priority=Priority.P3, value=Decimal("1"), unit=TargetUnit.WORKING_DAYS, calendar=business_hours)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        add(agreement, metric=Metric.RESPONSE, priority=Priority.P3, value=Decimal("10"), unit="hours")
    assert "1 working days (9 h of working time)" in error.value.message_dict["value"][0]
    add(agreement, metric=Metric.RESPONSE, priority=Priority.P3, value=Decimal("8"), unit="hours")
    # Around the clock, the same working day is 24 hours: 10 hours fit.
    other = make_agreement()
    add(other, priority=Priority.P3, value=Decimal("1"), unit=TargetUnit.WORKING_DAYS)
    add(other, metric=Metric.RESPONSE, priority=Priority.P3, value=Decimal("10"), unit="hours")


def test_a_resolution_change_that_undercuts_the_response_is_refused():
    agreement = make_agreement()
    resolution = add(agreement, value=Decimal("4"))
    add(agreement, metric=Metric.RESPONSE, value=Decimal("3"), unit="hours")
    with pytest.raises(ValidationError) as error:
        target_update(target=resolution, actor=manager(), value=Decimal("2"))
    assert "value" in error.value.message_dict
    assert ServiceLevelTarget.objects.get(pk=resolution.pk).value == Decimal("4")
    changed = target_update(target=resolution, actor=manager(), value=Decimal("8"))
    assert changed.value == Decimal("8")
    event = agreement.events.get(action="target_changed")
    assert (event.data["before"]["value"], event.data["after"]["value"]) == ("4", "8")


def test_a_target_is_removed_unless_it_has_measurements():
    agreement = make_agreement()
    kept, gone = add(agreement), add(agreement, priority=Priority.P2)
    MeasurementFactory(target=kept)
    with pytest.raises(ValidationError):
        target_delete(target=kept, actor=manager())
    target_delete(target=gone, actor=manager())
    assert list(agreement.targets.all()) == [kept]
    assert agreement.events.filter(action="target_removed").count() == 1


@pytest.mark.parametrize("status", [S.ACTIVE, S.EXPIRED, S.TERMINATED])
def test_targets_of_an_agreement_in_force_or_ended_do_not_change_directly(status):
    agreement = make_agreement(status)
    target = agreement.targets.get()
    actor = manager()
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        for call in (
            lambda: add(agreement, actor, priority=Priority.P2),
            lambda: target_update(target=target, actor=actor, value=Decimal("1")),
            lambda: target_delete(target=target, actor=actor),
            lambda: targets_apply_standard(agreement=agreement, actor=actor),
        ):
            with pytest.raises(ValidationError):
                call()


def test_target_writes_need_the_permissions():
    agreement = make_agreement()
    target = add(agreement)
    for role in (Role.AUDITOR, Role.SERVICE_DESK, Role.BR_MANAGER):
        actor = user_with_role(role)
        with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
            for call in (
                lambda actor=actor: target_create(
                    agreement=agreement, actor=actor, metric="resolution", priority="P2", value=1, unit="hours"
                ),
                lambda actor=actor: target_update(target=target, actor=actor, value=Decimal("1")),
                lambda actor=actor: target_delete(target=target, actor=actor),
                lambda actor=actor: targets_apply_standard(agreement=agreement, actor=actor),
            ):
                with pytest.raises(PermissionDenied):
                    call()


# --- the standard targets ---------------------------------------------------------------------


def test_the_standard_targets_are_the_spec_defaults_and_applied_once(business_hours):
    agreement = make_agreement()
    added = targets_apply_standard(agreement=agreement, actor=manager(), calendar=business_hours)
    assert len(added) == 8
    got = {(t.priority, t.metric): (t.value, t.unit, t.calendar_id) for t in agreement.targets.all()}
    assert got[("P1", "response")] == (Decimal("30"), "minutes", business_hours.pk)
    assert got[("P1", "resolution")] == (Decimal("2"), "hours", business_hours.pk)
    assert got[("P2", "response")] == (Decimal("4"), "hours", business_hours.pk)
    assert got[("P2", "resolution")] == (Decimal("12"), "hours", business_hours.pk)
    assert got[("P3", "response")] == (Decimal("24"), "hours", business_hours.pk)
    assert got[("P3", "resolution")] == (Decimal("5"), "working_days", business_hours.pk)
    assert got[("P4", "response")] == (Decimal("5"), "working_days", business_hours.pk)
    assert got[("P4", "resolution")] == (Decimal("10"), "working_days", business_hours.pk)
    assert set(STANDARD_TARGETS) == {"P1", "P2", "P3", "P4"}
    actor = manager()
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        assert targets_apply_standard(agreement=agreement, actor=actor, calendar=business_hours) == []


def test_the_standard_targets_keep_what_the_agreement_has():
    agreement = make_agreement()
    own = add(agreement, value=Decimal("1"))  # P1 resolution in 1 h
    added = targets_apply_standard(agreement=agreement, actor=manager())
    assert len(added) == 7
    assert ServiceLevelTarget.objects.get(pk=own.pk).value == Decimal("1")
    assert agreement.targets.count() == 8
    # Hours on 24×7 unless a calendar is chosen; working days always on business days (the
    # default business calendar), never "5 working days, 24×7".
    default = Calendar.objects.get(is_default=True)
    assert all(t.calendar is None for t in added if t.unit != TargetUnit.WORKING_DAYS)
    assert {t.calendar for t in added if t.unit == TargetUnit.WORKING_DAYS} == {default}


def test_the_standard_targets_are_refused_when_they_would_contradict_one_kept():
    agreement = make_agreement()
    add(agreement, value=Decimal("20"), unit=TargetUnit.MINUTES)  # P1 resolution in 20 min
    actor = manager()
    with assert_nothing_written(ServiceLevelTarget), pytest.raises(ValidationError):
        targets_apply_standard(agreement=agreement, actor=actor)


def test_target_duration_reads_the_targets_calendar(business_hours):
    agreement = make_agreement()
    target = add(agreement, value=Decimal("2"), unit=TargetUnit.WORKING_DAYS, calendar=business_hours)
    assert target_duration(target) == timedelta(hours=18)


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def en(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user_with_role(SLM))
    return client


def test_a_target_is_added_from_the_agreement_page(en):
    agreement = make_agreement()
    response = en.post(
        reverse("target_create", args=[agreement.pk]),
        {"target-metric": "response", "target-priority": "P2", "target-value": "4", "target-unit": "hours"},
    )
    assert response.status_code == 302
    assert agreement.targets.filter(metric="response", priority="P2", value=4).exists()


def test_a_bad_target_is_a_400_with_the_message_and_nothing_written(en):
    agreement = make_agreement()
    add(agreement)
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        response = en.post(
            reverse("target_create", args=[agreement.pk]),
            {"target-metric": "response", "target-priority": "P1", "target-value": "3", "target-unit": "hours"},
        )
    assert response.status_code == 400
    assert "is longer than the P1 resolution target" in response.content.decode()
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        response = en.post(
            reverse("target_create", args=[agreement.pk]),
            {"target-metric": "availability", "target-value": "120", "target-unit": "hours"},
        )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A percentage cannot be more than 100." not in page  # the unit is the problem here
    assert "Availability and other measures are given in %." in page


def test_a_target_is_edited_and_removed_from_its_pages(en):
    agreement = make_agreement()
    target = add(agreement)
    url = reverse("target_edit", args=[agreement.pk, target.pk])
    assert en.get(url).status_code == 200
    response = en.post(url, {"metric": "resolution", "priority": "P1", "value": "3", "unit": "hours"})
    assert response.status_code == 302
    assert ServiceLevelTarget.objects.get(pk=target.pk).value == Decimal("3")
    with assert_nothing_written(ServiceLevelTarget):
        response = en.post(url, {"metric": "resolution", "priority": "P1", "value": "0", "unit": "hours"})
    assert response.status_code == 400
    response = en.post(reverse("target_delete", args=[agreement.pk, target.pk]))
    assert response.status_code == 302
    assert not agreement.targets.exists()


def test_a_target_of_another_agreement_is_not_found(en):
    agreement, other = make_agreement(), make_agreement()
    target = add(other)
    assert en.get(reverse("target_edit", args=[agreement.pk, target.pk])).status_code == 404
    assert en.post(reverse("target_delete", args=[agreement.pk, target.pk])).status_code == 404


def test_the_standard_targets_button(en, business_hours):
    agreement = make_agreement()
    url = reverse("targets_apply_standard", args=[agreement.pk])
    assert en.post(url, {"standard-calendar": business_hours.pk}).status_code == 302
    assert agreement.targets.count() == 8
    response = en.post(url, {"standard-calendar": ""}, follow=True)
    assert "The agreement has every standard target already." in response.content.decode()
    assert agreement.targets.count() == 8


def test_an_active_agreements_targets_are_read_only_on_its_page(en):
    agreement = make_agreement(S.ACTIVE)
    page = en.get(agreement.get_absolute_url()).content.decode()
    assert 'data-testid="target-form"' not in page and 'data-testid="apply-standard"' not in page
    assert "change with a new version" in page
    target = agreement.targets.get()
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        response = en.post(reverse("target_delete", args=[agreement.pk, target.pk]))
    assert response.status_code == 400


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SERVICE_DESK, Role.BR_MANAGER])
def test_readers_cannot_write_targets_from_the_pages(client, role):
    agreement = make_agreement()
    target = add(agreement)
    client.force_login(user_with_role(role))
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert 'data-testid="target-form"' not in page and 'data-testid="target-delete"' not in page
    with assert_nothing_written(ServiceLevelTarget, AgreementEvent):
        assert client.post(reverse("target_create", args=[agreement.pk]), {}).status_code == 403
        assert client.get(reverse("target_edit", args=[agreement.pk, target.pk])).status_code == 403
        assert client.post(reverse("target_delete", args=[agreement.pk, target.pk])).status_code == 403
        assert client.post(reverse("targets_apply_standard", args=[agreement.pk])).status_code == 403
