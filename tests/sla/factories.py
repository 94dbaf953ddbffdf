"""Service catalogue and agreement test data. Plain factories build rows directly (for
selectors, pages and permissions); state changes in tests go through the real services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from itsm.core.choices import OrganisationKind
from sla.choices import AgreementKind, MeasurementSource, Metric, Priority, TargetUnit
from sla.models import Agreement, Measurement, Service, ServiceLevelTarget
from tests.factories import OrganisationFactory

COUNTERPARTY = {
    AgreementKind.SLA: OrganisationKind.CUSTOMER,
    AgreementKind.OLA: OrganisationKind.INTERNAL_TEAM,
    AgreementKind.UC: OrganisationKind.SUPPLIER,
}


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    code = factory.Sequence(lambda n: f"svc-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    category = "Infrastructure"


class AgreementFactory(factory.django.DjangoModelFactory):
    """An agreement of ``kind`` with a counterparty of the matching organisation kind."""

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    kind = AgreementKind.SLA
    number = factory.Sequence(lambda n: f"T-{n:04d}")
    title = factory.Sequence(lambda n: f"Agreement {n}")
    counterparty = factory.LazyAttribute(lambda o: OrganisationFactory(kind=COUNTERPARTY[o.kind]))
    valid_from = date(2026, 1, 1)
    valid_to = date(2026, 12, 31)


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLevelTarget

    agreement = factory.SubFactory(AgreementFactory)
    metric = Metric.RESOLUTION
    priority = Priority.P1
    value = Decimal("2")
    unit = TargetUnit.HOURS


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    target = factory.SubFactory(TargetFactory)
    period = date(2026, 10, 1)
    actual = Decimal("1.5")
    met = True
    source = MeasurementSource.FORM
