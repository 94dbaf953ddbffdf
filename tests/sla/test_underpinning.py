"""The underpinning check: which OLA / UC targets may be linked under an SLA target, how
targets in different units and on different clocks compare, the report and its gap messages,
and the pages (permissions, link / unlink, constant queries)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from itsm.core.testing import ALL_ROLES, ANONYMOUS, NO_ROLE, assert_constant_queries, role_may, user_with_role
from sla.choices import AgreementKind, AgreementStatus, Metric, Priority, TargetUnit
from sla.models import Agreement, AgreementEvent, ServiceLevelTarget
from sla.underpinning import (
    UnderpinningStatus,
    agreement_underpinning_summary,
    best_case_elapsed,
    compare_targets,
    target_link_support,
    target_unlink_support,
    underpinning_report,
    worst_case_elapsed,
)
from tests.factories import CalendarFactory
from tests.sla.factories import AgreementFactory, TargetFactory

pytestmark = pytest.mark.django_db

SLM = "service_level_manager"


@pytest.fixture
def business():
    """A 09:00–18:00 calendar: 9 working hours a day."""
    return CalendarFactory(name="Business hours", work_start=time(9), work_end=time(18))


def _agreement(kind: str, number: str, status: str = AgreementStatus.ACTIVE) -> Agreement:
    return AgreementFactory(kind=kind, number=number, status=status)


def sla(value, unit=TargetUnit.HOURS, *, number="SLA-2026-011", calendar=None, **fields) -> ServiceLevelTarget:
    agreement = Agreement.objects.filter(number=number).first() or _agreement(AgreementKind.SLA, number)
    return TargetFactory(agreement=agreement, value=Decimal(str(value)), unit=unit, calendar=calendar, **fields)


def uc(value, unit=TargetUnit.HOURS, *, number="UC-2026-003", calendar=None, kind=AgreementKind.UC, **fields):
    agreement = Agreement.objects.filter(number=number).first() or _agreement(kind, number)
    return TargetFactory(agreement=agreement, value=Decimal(str(value)), unit=unit, calendar=calendar, **fields)


def linked(sla_target: ServiceLevelTarget, *supporting: ServiceLevelTarget) -> ServiceLevelTarget:
    sla_target.supported_by.add(*supporting)
    return sla_target


def row_of(sla_target: ServiceLevelTarget):
    [row] = underpinning_report(ServiceLevelTarget.objects.filter(pk=sla_target.pk))
    return row


# --- comparisons across units and calendars ----------------------------------------------------


def test_2h_around_the_clock_supports_1_working_day_on_business_hours(business):
    promise = sla(1, TargetUnit.WORKING_DAYS, calendar=business)
    comparison = compare_targets(promise, uc(2))
    assert comparison.supported
    assert comparison.basis == "clock"  # 2 elapsed hours hold at most 2 of the 9 working hours
    assert (comparison.support_measure, comparison.sla_measure) == (Decimal(120), Decimal(540))


def test_1_working_day_on_business_hours_does_not_support_2h_around_the_clock(business):
    promise = sla(2)
    comparison = compare_targets(promise, uc(1, TargetUnit.WORKING_DAYS, calendar=business))
    assert not comparison.supported
    assert comparison.basis == "elapsed"
    # Worst case: arrives Friday 18:00, done Monday 18:00 — 72 h; the SLA's 2 h are 120 min.
    assert comparison.support_measure == Decimal(72 * 60)
    assert comparison.sla_measure == Decimal(120)


def test_business_hours_target_supports_a_long_enough_around_the_clock_one(business):
    one_day = uc(1, TargetUnit.WORKING_DAYS, calendar=business)
    assert compare_targets(sla(5, TargetUnit.WORKING_DAYS, number="SLA-A"), one_day).supported  # 120 h ≥ 72 h
    assert not compare_targets(sla(48, number="SLA-B"), one_day).supported  # a weekend breaks 48 h


def test_around_the_clock_target_is_compared_with_the_slas_fastest_case(business):
    # 20 elapsed hours against 2 working days: 18 working hours, yet at best 33 h of wall clock
    # (09:00 day 1 to 18:00 day 2), so 20 h always finish first.
    comparison = compare_targets(sla(2, TargetUnit.WORKING_DAYS, calendar=business), uc(20))
    assert comparison.supported
    assert comparison.basis == "elapsed"
    assert comparison.sla_measure == Decimal(33 * 60)


@pytest.mark.parametrize(
    ("support", "promise", "supported"),
    [
        ((30, TargetUnit.MINUTES), (1, TargetUnit.HOURS), True),
        ((1, TargetUnit.HOURS), (30, TargetUnit.MINUTES), False),
        ((240, TargetUnit.MINUTES), (4, TargetUnit.HOURS), True),  # equal is enough
        ((4, TargetUnit.HOURS), (240, TargetUnit.MINUTES), True),
        ((241, TargetUnit.MINUTES), (4, TargetUnit.HOURS), False),
        ((1, TargetUnit.WORKING_DAYS), (24, TargetUnit.HOURS), True),  # a working day on 24×7 is 24 h
        ((Decimal("99.9"), TargetUnit.PERCENT), (Decimal("99.5"), TargetUnit.PERCENT), True),
        ((Decimal("99.5"), TargetUnit.PERCENT), (Decimal("99.9"), TargetUnit.PERCENT), False),
        ((Decimal("99.5"), TargetUnit.PERCENT), (Decimal("99.5"), TargetUnit.PERCENT), True),
    ],
)
def test_units_compare_on_the_same_clock(support, promise, supported):
    metric = Metric.AVAILABILITY if promise[1] == TargetUnit.PERCENT else Metric.RESOLUTION
    comparison = compare_targets(sla(*promise, metric=metric), uc(*support, metric=metric))
    assert comparison.supported is supported


def test_same_business_calendar_compares_working_time(business):
    promise = sla(9, calendar=business)
    assert compare_targets(promise, uc(1, TargetUnit.WORKING_DAYS, calendar=business, number="UC-A")).supported
    assert not compare_targets(promise, uc(2, TargetUnit.WORKING_DAYS, calendar=business, number="UC-B")).supported


def test_a_wider_business_calendar_covers_a_narrower_one(business):
    wide = CalendarFactory(name="Extended hours", work_start=time(8), work_end=time(20))
    narrow = CalendarFactory(name="Short hours", work_start=time(10), work_end=time(17))
    promise = sla(10, calendar=business)
    assert compare_targets(promise, uc(10, calendar=wide, number="UC-A")).supported
    # A 10:00–17:00 clock stops while the SLA's still runs: only wall-clock time can decide.
    comparison = compare_targets(promise, uc(10, calendar=narrow, number="UC-B"))
    assert not comparison.supported
    assert comparison.basis == "elapsed"


def test_an_always_open_calendar_counts_as_around_the_clock(business):
    always = CalendarFactory(name="Always", always_open=True)
    assert compare_targets(sla(1, TargetUnit.WORKING_DAYS, calendar=business), uc(2, calendar=always)).supported
    target = uc(1, TargetUnit.WORKING_DAYS, calendar=always, number="UC-B")
    assert worst_case_elapsed(target) == best_case_elapsed(target) == Decimal(1440)


def test_worst_and_best_cases_of_a_business_hours_target(business):
    four_hours = uc(4, calendar=business)
    # Friday 18:00 → Monday 13:00 is 67 h; at best 4 h.
    assert worst_case_elapsed(four_hours) == Decimal(67 * 60)
    assert best_case_elapsed(four_hours) == Decimal(240)
    five_days = uc(5, TargetUnit.WORKING_DAYS, calendar=business, number="UC-B")
    # Friday 18:00 → next Friday 18:00 (7 days); at best Monday 09:00 → Friday 18:00.
    assert worst_case_elapsed(five_days) == Decimal(7 * 1440)
    assert best_case_elapsed(five_days) == Decimal(4 * 1440 + 540)


# --- the report --------------------------------------------------------------------------------


def test_a_target_without_links_is_missing():
    row = row_of(sla(2))
    assert row.status == UnderpinningStatus.MISSING
    assert row.weakest is None
    with translation.override("en"):
        assert row_of(sla(2, number="SLA-B")).gap == "No OLA or UC underpins this target."


def test_a_weaker_uc_makes_the_target_weak_with_the_gap_in_words():
    promise = linked(sla(2), uc(4))
    with translation.override("en"):
        row = row_of(promise)
    assert row.status == UnderpinningStatus.WEAK
    assert row.weakest.agreement.number == "UC-2026-003"
    assert row.gap == "UC-2026-003 resolves P1 in 4 h; SLA-2026-011 promises 2 h."


def test_gap_names_the_clocks_and_the_worst_case_when_they_differ(business):
    promise = linked(sla(2), uc(1, TargetUnit.WORKING_DAYS, calendar=business))
    with translation.override("en"):
        gap = row_of(promise).gap
    assert gap == (
        "UC-2026-003 resolves P1 in 1 working day (Business hours), up to 72 h elapsed; "
        "SLA-2026-011 promises 2 h (24×7)."
    )


def test_gap_messages_per_metric():
    response = linked(sla(30, TargetUnit.MINUTES, metric=Metric.RESPONSE), uc(1, metric=Metric.RESPONSE))
    availability = linked(
        sla("99.9", TargetUnit.PERCENT, metric=Metric.AVAILABILITY, priority=""),
        uc("99.5", TargetUnit.PERCENT, metric=Metric.AVAILABILITY, priority=""),
    )
    with translation.override("en"):
        assert row_of(response).gap == "UC-2026-003 responds to P1 in 1 h; SLA-2026-011 promises 30 min."
        assert row_of(availability).gap == "UC-2026-003 guarantees 99.5 % availability; SLA-2026-011 promises 99.9 %."


def test_every_linked_target_must_support_and_the_weakest_is_named():
    promise = linked(sla(4), uc(2, number="OLA-1", kind=AgreementKind.OLA), uc(6, number="UC-2"), uc(5, number="UC-3"))
    row = row_of(promise)
    assert row.status == UnderpinningStatus.WEAK
    assert row.weakest.agreement.number == "UC-2"
    assert [c.supporting.agreement.number for c in row.comparisons] == ["UC-2", "UC-3", "OLA-1"]


def test_supported_when_every_live_link_supports_naming_the_tightest():
    promise = linked(sla(4), uc(2, number="OLA-1", kind=AgreementKind.OLA), uc(4, number="UC-2"))
    row = row_of(promise)
    assert row.status == UnderpinningStatus.SUPPORTED
    assert row.weakest.agreement.number == "UC-2"
    assert row.gap == ""


def test_targets_of_ended_agreements_underpin_nothing():
    ended = _agreement(AgreementKind.UC, "UC-OLD", status=AgreementStatus.TERMINATED)
    promise = linked(sla(2), TargetFactory(agreement=ended, value=Decimal(1)))
    row = row_of(promise)
    assert row.status == UnderpinningStatus.MISSING
    with translation.override("en"):
        assert "UC-OLD" in row_of(promise).gap
    # An ended one beside a live weak one: weak, and the live one is the weakest.
    linked(promise, uc(3))
    assert row_of(promise).status == UnderpinningStatus.WEAK
    assert row_of(promise).weakest.agreement.number == "UC-2026-003"


def test_report_defaults_to_negotiating_and_active_slas_and_leaves_out_olas():
    active = sla(2)
    negotiating = sla(2, number="SLA-NEG", priority=Priority.P2)
    _agreement(AgreementKind.SLA, "SLA-DRAFT", status=AgreementStatus.DRAFT)
    sla(2, number="SLA-DRAFT")
    uc(2)
    Agreement.objects.filter(number="SLA-NEG").update(status=AgreementStatus.NEGOTIATING)
    assert {row.target.pk for row in underpinning_report()} == {active.pk, negotiating.pk}
    agreement = Agreement.objects.get(number="SLA-2026-011")
    assert [row.target.pk for row in underpinning_report(agreement=agreement)] == [active.pk]
    assert underpinning_report(agreement=Agreement.objects.get(number="UC-2026-003")) == []


def test_report_reads_any_number_of_targets_in_two_queries(business, django_assert_num_queries):
    for index in range(6):
        promise = sla(2, number=f"SLA-{index}", calendar=business if index % 2 else None)
        linked(promise, uc(index + 1, number=f"UC-{index}", calendar=business), uc(1, number=f"OLA-{index}"))
    with django_assert_num_queries(2):
        rows = underpinning_report()
        [row.gap for row in rows]
    assert len(rows) == 6


def test_agreement_summary_counts_missing_and_weak():
    linked(sla(2, priority=Priority.P1), uc(4, priority=Priority.P1))
    sla(12, priority=Priority.P2)
    sla(24, priority=Priority.P3)
    linked(sla(48, priority=Priority.P4), uc(4, priority=Priority.P4))
    agreement = Agreement.objects.get(number="SLA-2026-011")
    assert agreement_underpinning_summary(agreement) == {"missing": 2, "weak": 1}
    assert agreement_underpinning_summary(Agreement.objects.get(number="UC-2026-003")) == {"missing": 0, "weak": 0}


# --- linking -----------------------------------------------------------------------------------


def test_link_and_unlink_record_the_change_on_the_sla(make_user):
    actor = make_user(SLM)
    promise, support = sla(2), uc(2)
    assert target_link_support(sla_target=promise, supporting=[support], actor=actor) == [support]
    assert list(promise.supported_by.all()) == [support]
    event = AgreementEvent.objects.get(action="underpinning_linked")
    assert event.agreement == promise.agreement
    assert event.actor == actor
    assert event.data["supporting"][0]["agreement"] == "UC-2026-003"
    # Linking again changes nothing and records nothing.
    assert target_link_support(sla_target=promise, supporting=[support], actor=actor) == []
    assert AgreementEvent.objects.filter(action="underpinning_linked").count() == 1

    assert target_unlink_support(sla_target=promise, supporting=[support], actor=actor) == [support]
    assert not promise.supported_by.exists()
    assert AgreementEvent.objects.filter(action="underpinning_unlinked").count() == 1
    assert target_unlink_support(sla_target=promise, supporting=[support], actor=actor) == []


def test_an_ola_target_links_too(make_user):
    promise = sla(2)
    ola = uc(1, number="OLA-1", kind=AgreementKind.OLA)
    target_link_support(sla_target=promise, supporting=[ola], actor=make_user(SLM))
    assert list(promise.supported_by.all()) == [ola]


@pytest.mark.parametrize(
    ("supporting_fields", "expected"),
    [
        ({"metric": Metric.RESPONSE}, "measures Response time; the SLA target measures Resolution time"),
        ({"priority": Priority.P2}, "is for priority P2; the SLA target is for P1"),
        ({"unit": TargetUnit.PERCENT, "value": Decimal(99)}, "cannot be compared"),
        ({"kind": AgreementKind.SLA, "number": "SLA-OTHER"}, "only OLA and UC targets can underpin"),
        ({"status": AgreementStatus.EXPIRED, "number": "UC-OLD"}, "UC-OLD has ended"),
    ],
)
def test_only_ola_and_uc_targets_of_the_same_metric_and_priority_may_link(make_user, supporting_fields, expected):
    promise = sla(2)
    fields = dict(supporting_fields)
    agreement = _agreement(
        fields.pop("kind", AgreementKind.UC),
        fields.pop("number", "UC-2026-003"),
        status=fields.pop("status", AgreementStatus.ACTIVE),
    )
    candidate = TargetFactory(agreement=agreement, **{"value": Decimal(1), **fields})
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        target_link_support(sla_target=promise, supporting=[candidate], actor=make_user(SLM))
    assert expected in " ".join(caught.value.message_dict["supporting"])
    assert not promise.supported_by.exists()
    assert not AgreementEvent.objects.exists()


def test_every_problem_is_reported_and_nothing_linked(make_user):
    promise = sla(2)
    good = uc(1)
    bad = uc(1, number="UC-BAD", priority=Priority.P3, metric=Metric.RESPONSE)
    with pytest.raises(ValidationError) as caught:
        target_link_support(sla_target=promise, supporting=[good, bad], actor=make_user(SLM))
    assert len(caught.value.message_dict["supporting"]) == 2
    assert not promise.supported_by.exists()


def test_only_sla_targets_are_underpinned_and_not_once_ended(make_user):
    actor = make_user(SLM)
    with translation.override("en"), pytest.raises(ValidationError, match="Only the targets of an SLA"):
        target_link_support(sla_target=uc(2, number="UC-X"), supporting=[uc(1, number="UC-Y")], actor=actor)
    promise = sla(2)
    Agreement.objects.filter(pk=promise.agreement_id).update(status=AgreementStatus.EXPIRED)
    with translation.override("en"), pytest.raises(ValidationError, match="has ended"):
        target_link_support(sla_target=promise, supporting=[uc(1)], actor=actor)
    with pytest.raises(ValidationError):
        target_link_support(sla_target=sla(2, number="SLA-NEW"), supporting=[], actor=actor)


@pytest.mark.parametrize("role", ["auditor", "service_desk", "br_manager"])
def test_linking_needs_the_change_permission(make_user, role):
    promise, support = sla(2), uc(2)
    with pytest.raises(PermissionDenied):
        target_link_support(sla_target=promise, supporting=[support], actor=make_user(role))
    promise.supported_by.add(support)
    with pytest.raises(PermissionDenied):
        target_unlink_support(sla_target=promise, supporting=[support], actor=make_user(role))
    assert promise.supported_by.count() == 1


# --- pages -------------------------------------------------------------------------------------


def _may_read(role: str) -> bool:
    return role_may(role, ("view",), ServiceLevelTarget) and role_may(role, ("view",), Agreement)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_underpinning_pages_per_role(client, role):
    promise = linked(sla(2), uc(4))
    urls = [reverse("underpinning_list"), reverse("agreement_underpinning", args=[promise.agreement_id])]
    missing = reverse("agreement_underpinning", args=[promise.agreement_id + 1000])
    if role == ANONYMOUS:
        for url in urls:
            assert client.get(url).status_code == 302
        return
    client.force_login(user_with_role(role))
    expected = 200 if _may_read(role) else 403
    for url in urls:
        assert client.get(url).status_code == expected, url
    # Refused before the row is looked up; a missing agreement is a 404 only for readers.
    assert client.get(missing).status_code == (404 if expected == 200 else 403)
    assert role != NO_ROLE or expected == 403


def test_underpinning_list_shows_the_problems_with_their_gap(client_as):
    weak = linked(sla(2, priority=Priority.P1), uc(4, priority=Priority.P1))
    missing = sla(12, priority=Priority.P2)
    fine = linked(sla(24, priority=Priority.P3), uc(8, priority=Priority.P3))
    client = client_as("auditor")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("underpinning_list"))
    shown = {row.target.pk: row.status for row in response.context["rows"]}
    assert shown == {weak.pk: "weak", missing.pk: "missing"}
    assert fine.pk not in shown
    assert "UC-2026-003 resolves P1 in 4 h; SLA-2026-011 promises 2 h." in response.content.decode()
    everything = client.get(reverse("underpinning_list"), {"status": "all"})
    assert {row.target.pk for row in everything.context["rows"]} == {weak.pk, missing.pk, fine.pk}
    only_missing = client.get(reverse("underpinning_list"), {"status": "missing"})
    assert [row.target.pk for row in only_missing.context["rows"]] == [missing.pk]
    other = sla(1, number="SLA-OTHER")
    by_agreement = client.get(reverse("underpinning_list"), {"agreement": other.agreement_id})
    assert [row.target.pk for row in by_agreement.context["rows"]] == [other.pk]


def test_underpinning_list_runs_constant_queries(client_as, business):
    client = client_as("service_level_manager")
    counter = iter(range(10_000))

    def make_rows(count: int) -> None:
        for _ in range(count):
            index = next(counter)
            promise = sla(2, number=f"SLA-{index}")
            if index % 3:
                linked(promise, uc(4, number=f"UC-{index}", calendar=business if index % 2 else None))

    assert_constant_queries(client, reverse("underpinning_list"), make_rows, few=3, many=15)


def test_agreement_page_runs_constant_queries(client_as):
    client = client_as("service_level_manager")
    promise = sla(2)
    counter = iter(range(10_000))

    def make_rows(count: int) -> None:
        for _ in range(count):
            index = next(counter)
            target = sla(2, number=promise.agreement.number, name=f"measure {index}", priority=Priority.P2)
            linked(target, uc(3, number=f"UC-{index}", priority=Priority.P2))
            uc(1, number=f"OLA-{index}", kind=AgreementKind.OLA, priority=Priority.P2)

    assert_constant_queries(
        client, reverse("agreement_underpinning", args=[promise.agreement_id]), make_rows, few=2, many=8
    )


def test_service_level_manager_links_and_unlinks_from_the_page(client_as):
    client = client_as(SLM)
    promise, support = sla(2), uc(2)
    page = client.get(reverse("agreement_underpinning", args=[promise.agreement_id]))
    [item] = page.context["rows"]
    assert [choice["target"] for choice in item["choices"]] == [support]
    response = client.post(reverse("target_support_link", args=[promise.pk]), {"supporting": [support.pk]})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#target-{promise.pk}")
    assert list(promise.supported_by.all()) == [support]
    response = client.post(reverse("target_support_unlink", args=[promise.pk]), {"supporting": [support.pk]})
    assert response.status_code == 302
    assert not promise.supported_by.exists()


def test_a_refused_link_is_a_400_with_the_reason(client_as):
    client = client_as(SLM)
    promise = sla(2)
    other = uc(2, priority=Priority.P3)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("target_support_link", args=[promise.pk]), {"supporting": [other.pk]})
    assert response.status_code == 400
    assert "is for priority P3" in response.content.decode()
    assert not promise.supported_by.exists()
    assert client.post(reverse("target_support_link", args=[promise.pk]), {}).status_code == 400


@pytest.mark.parametrize("role", ["auditor", "service_desk", NO_ROLE])
def test_only_service_level_managers_link(client, role):
    promise, support = sla(2), uc(2)
    client.force_login(user_with_role(role))
    for name in ("target_support_link", "target_support_unlink"):
        response = client.post(reverse(name, args=[promise.pk]), {"supporting": [support.pk]})
        assert response.status_code == 403
    assert client.post(reverse("target_support_link", args=[promise.pk + 1000]), {}).status_code == 403
    assert not promise.supported_by.exists()


def test_link_to_a_missing_target_is_a_404(client_as):
    client = client_as(SLM)
    assert client.post(reverse("target_support_link", args=[999_999]), {}).status_code == 404
    assert client.get(reverse("target_support_link", args=[999_999])).status_code == 405


def test_ola_page_lists_what_its_targets_underpin(client_as):
    promise = linked(sla(2), uc(4))
    response = client_as("auditor").get(
        reverse("agreement_underpinning", args=[promise.supported_by.get().agreement_id])
    )
    assert response.status_code == 200
    [item] = response.context["underpinning_rows"]
    assert [entry["sla_target"] for entry in item["supports"]] == [promise]
    assert not item["supports"][0]["comparison"].supported


def test_badge_template_warns_only_when_something_is_missing_or_weak(rf):
    from django.template.loader import render_to_string

    promise = sla(2)
    agreement = promise.agreement
    with translation.override("en"):
        html = render_to_string(
            "sla/agreement_underpinning_badge.html",
            {"underpinning": agreement_underpinning_summary(agreement), "agreement": agreement},
        )
        assert "1 target not underpinned" in html
        assert reverse("agreement_underpinning", args=[agreement.pk]) in html
        linked(promise, uc(1))
        quiet = render_to_string(
            "sla/agreement_underpinning_badge.html",
            {"underpinning": agreement_underpinning_summary(agreement), "agreement": agreement},
        )
    assert quiet.strip() == ""
