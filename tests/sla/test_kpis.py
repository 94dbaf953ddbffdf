"""SLA attainment (``sla.attainment``) against a hand-computed fixture: the share of the SLA
targets' monthly measurements of the period that met their target, overall, per customer and
per service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from itsm.core.periods import Cycle, period_of
from kpi.registry import OVERALL, source
from sla.choices import AgreementKind, Priority
from tests.factories import OrganisationFactory
from tests.sla.factories import AgreementFactory, MeasurementFactory, ServiceFactory, TargetFactory

pytestmark = pytest.mark.django_db

OCTOBER = period_of(Cycle.MONTHLY, date(2026, 10, 1))
AUGUST = period_of(Cycle.MONTHLY, date(2026, 8, 1))
H2 = period_of(Cycle.HALF_YEARLY, date(2026, 10, 1))


def figures(result) -> dict[int, tuple[Decimal, Decimal]]:
    return {key: (f.numerator, f.denominator) for key, f in result.items()}


def d(numerator: int, denominator: int) -> tuple[Decimal, Decimal]:
    return Decimal(numerator), Decimal(denominator)


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def measured():
    x, y = OrganisationFactory(), OrganisationFactory()
    s1, s2, s3 = ServiceFactory(), ServiceFactory(), ServiceFactory()
    # x's SLA covers s1 and s2, y's first covers s2, its second names no service.
    a1 = AgreementFactory(counterparty=x)
    a1.services.set([s1, s2])
    a2 = AgreementFactory(counterparty=y)
    a2.services.set([s2])
    a3 = AgreementFactory(counterparty=y)
    # An OLA on s1: an internal team's target, not the customer's SLA.
    ola = AgreementFactory(kind=AgreementKind.OLA)
    ola.services.set([s1])
    t1a = TargetFactory(agreement=a1, priority=Priority.P1)
    t1b = TargetFactory(agreement=a1, priority=Priority.P2)
    t2 = TargetFactory(agreement=a2)
    t3 = TargetFactory(agreement=a3)
    to = TargetFactory(agreement=ola)
    october = date(2026, 10, 1)
    m = {
        "t1a": MeasurementFactory(target=t1a, period=october, met=True),
        "t1b": MeasurementFactory(target=t1b, period=october, met=False),
        "t2": MeasurementFactory(target=t2, period=october, met=True),
        "t3": MeasurementFactory(target=t3, period=october, met=False),
        "ola": MeasurementFactory(target=to, period=october, met=True),
        # Other months: in the half-year, not in October.
        "t1a_september": MeasurementFactory(target=t1a, period=date(2026, 9, 1), met=True),
        "t2_november": MeasurementFactory(target=t2, period=date(2026, 11, 1), met=False),
        "t2_june": MeasurementFactory(target=t2, period=date(2026, 6, 1), met=True),
    }
    return {"x": x, "y": y, "s1": s1, "s2": s2, "s3": s3, **m}


def test_attainment_is_the_share_of_the_periods_measurements_that_met_their_target(measured):
    m = measured
    kpi = source("sla.attainment")
    assert kpi.breakdowns == ("organisation", "service")
    assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(2, 4)}  # t1a, t2 of t1a, t1b, t2, t3
    assert kpi.value(kpi.compute(OCTOBER, OVERALL)[0]) == Decimal("50.0000")
    assert figures(kpi.compute(OCTOBER, "organisation")) == {m["x"].pk: d(1, 2), m["y"].pk: d(1, 2)}
    # A measurement counts for every service its agreement covers; s3 has none.
    assert figures(kpi.compute(OCTOBER, "service")) == {m["s1"].pk: d(1, 2), m["s2"].pk: d(2, 3)}
    # The half-year: October's plus September's (met) and November's (missed), not June's.
    assert figures(kpi.compute(H2, OVERALL)) == {0: d(3, 6)}


def test_records_are_the_measurements_behind_a_figure(measured):
    m = measured
    kpi = source("sla.attainment")
    october = {m[key].pk for key in ("t1a", "t1b", "t2", "t3")}
    assert ids(kpi.records(OCTOBER, OVERALL, 0)) == october
    assert ids(kpi.records(OCTOBER, "organisation", m["y"].pk)) == {m["t2"].pk, m["t3"].pk}
    assert ids(kpi.records(OCTOBER, "service", m["s2"].pk)) == {m["t1a"].pk, m["t1b"].pk, m["t2"].pk}
    assert ids(kpi.records(OCTOBER, "service", m["s1"].pk)) == {m["t1a"].pk, m["t1b"].pk}
    assert not kpi.records(OCTOBER, "service", m["s3"].pk).exists()


def test_no_measurements_is_denominator_zero():
    kpi = source("sla.attainment")
    overall = kpi.compute(AUGUST, OVERALL)
    assert figures(overall) == {0: d(0, 0)}
    assert kpi.value(overall[0]) is None
    assert kpi.compute(AUGUST, "organisation") == {}
    assert kpi.compute(AUGUST, "service") == {}


@pytest.mark.parametrize("kind", [OVERALL, "organisation", "service"])
def test_each_compute_is_one_query_whatever_the_number_of_elements(measured, kind, django_assert_num_queries):
    kpi = source("sla.attainment")
    with django_assert_num_queries(1):
        kpi.compute(AUGUST, kind)
    with django_assert_num_queries(1) as captured:
        result = kpi.compute(H2, kind)
    assert len(result) == (1 if kind == OVERALL else 2)
    assert ("GROUP BY" in captured.captured_queries[0]["sql"]) is (kind != OVERALL)
