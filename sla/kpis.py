"""The KPI source of service level management (``kpi.registry``): SLA attainment, the share of
the monthly measurements that met their target, for a period and a breakdown in one grouped
query.

A measurement belongs to the month it measures (``Measurement.period``, the month's first
day), so a period holds the measurements of the months that start in it; no time zone is
involved. Only targets of SLAs (agreements with a customer) count: OLA and UC targets measure
internal teams and suppliers, which underpin the SLA rather than report to the customer.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from itsm.core.exports import Column
from itsm.core.periods import Period
from kpi.registry import Figures, grouped, kpi_source, scope

from .choices import AgreementKind
from .models import Measurement

# A breakdown's column on a measurement. An agreement may cover several services: its
# measurements count once for each of them (and for none when it names no service).
ELEMENT_FIELDS = {
    "organisation": "target__agreement__counterparty_id",
    "service": "target__agreement__services",
}
# What a measurement behind a figure exports with (the drill-down's CSV / XLSX).
EXPORT_COLUMNS: list[Column] = [
    (_("Agreement"), "target.agreement.number"),
    (_("Agreement title"), "target.agreement.title"),
    (_("Customer organisation"), "target.agreement.counterparty.name"),
    (_("Target"), "target"),
    (_("Month"), lambda measurement: f"{measurement.period:%Y-%m}"),
    (_("Actual"), "actual"),
    (_("Target met"), "met"),
    (_("Cases measured"), "sample_size"),
    (_("Source"), "source"),
    (_("Note"), "note"),
]


def _measured(period: Period) -> QuerySet:
    return Measurement.objects.filter(
        period__gte=period.start, period__lte=period.end, target__agreement__kind=AgreementKind.SLA
    )


def _measured_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_measured(period), ELEMENT_FIELDS, kind, element_id)


@kpi_source(
    "sla.attainment",
    label=_("SLA attainment"),
    model="sla.measurement",
    unit="percent",
    records=_measured_records,
    breakdowns=ELEMENT_FIELDS,
    columns=EXPORT_COLUMNS,
)
def attainment(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the SLA targets' monthly measurements of the months in the period that met
    their target (``Measurement.met``, computed when the actual was recorded). Numerator:
    measurements met; denominator: measurements. Organisation: the agreement's counterparty
    (the customer); service: each service the agreement covers."""
    return grouped(
        _measured(period),
        ELEMENT_FIELDS,
        kind,
        numerator=Count("pk", filter=Q(met=True)),
        denominator=Count("pk"),
    )
