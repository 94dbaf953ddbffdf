"""The KPI sources of complaints (``kpi.registry``): reply time, satisfaction with the result,
reopen rate and the number of complaints, each for a period and a breakdown in one grouped
query.

Which complaints count for a period: the reply time those *received* in it (and replied to),
the result rating those whose customer *answered* in it, the reopen rate those *resolved* in
it, the count those received in it (withdrawn ones left out). Periods are the calendar's local
days (``Period.bounds``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from itsm.core import calendar as business_calendar
from itsm.core.exports import Column
from itsm.core.periods import Period
from kpi.registry import Figures, grouped, in_period, kpi_source, scope

from .choices import Category, ComplaintStatus
from .models import Complaint

# A breakdown's column on a complaint.
ELEMENT_FIELDS = {
    "organisation": "organisation_id",
    "department": "contact__department_id",
    "service": "related_service_id",
    "technician": "handler_id",
}


def export_columns() -> list[Column]:
    """What a complaint behind a figure exports with (the drill-down's CSV / XLSX); the
    working day's length is read once per export, for the reply time."""
    day_seconds = Decimal(int(business_calendar.working_day_length().total_seconds()))

    def reply_days(complaint: Complaint) -> Decimal | None:
        seconds = complaint.reply_working_seconds
        return None if seconds is None else (Decimal(seconds) / day_seconds).quantize(Decimal("0.01"))

    return [
        (_("Reference"), "reference"),
        (_("Title"), "title"),
        (_("Received at"), "received_at"),
        (_("Customer organisation"), "organisation.name"),
        (_("Contact"), "contact.name"),
        (_("Department"), "contact.department.name"),
        (_("Related service"), "related_service.name"),
        (_("Handler"), "handler"),
        (_("Status"), "status"),
        (_("Severity"), "severity"),
        (_("Category"), "category"),
        (_("Reply time (working days)"), reply_days),
        (_("Resolved at"), "resolved_at"),
        (_("Satisfaction with the result"), "result_satisfaction"),
        (_("Feedback received at"), "feedback_at"),
        (_("Times reopened"), "reopen_count"),
    ]


# --- reply time ---------------------------------------------------------------------------


def _replied(period: Period) -> QuerySet:
    return Complaint.objects.filter(in_period("received_at", period), reply_working_seconds__isnull=False)


def _reply_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_replied(period), ELEMENT_FIELDS, kind, element_id)


def _per_working_day() -> Decimal:
    """Working seconds → working days, by the default calendar's day."""
    return Decimal(1) / Decimal(int(business_calendar.working_day_length().total_seconds()))


@kpi_source(
    "complaints.reply_time",
    label=_("Average complaint reply time"),
    model="complaints.complaint",
    unit="working_days",
    records=_reply_records,
    breakdowns=ELEMENT_FIELDS,
    columns=export_columns,
    scale=_per_working_day,
)
def reply_time(period: Period, kind: str) -> dict[int, Figures]:
    """Working time from registration to acceptance, averaged over the complaints received in
    the period that have been replied to (numerator: working seconds; denominator: complaints)."""
    return grouped(
        _replied(period), ELEMENT_FIELDS, kind, numerator=Sum("reply_working_seconds"), denominator=Count("pk")
    )


# --- satisfaction with the result ---------------------------------------------------------


def _rated(period: Period) -> QuerySet:
    return Complaint.objects.filter(in_period("feedback_at", period), result_satisfaction__isnull=False)


def _rated_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_rated(period), ELEMENT_FIELDS, kind, element_id)


@kpi_source(
    "complaints.result_satisfaction",
    label=_("Satisfaction with complaint results"),
    model="complaints.complaint",
    unit="percent",
    records=_rated_records,
    breakdowns=ELEMENT_FIELDS,
    columns=export_columns,
)
def result_satisfaction(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the customers' ratings of the result given in the period that are satisfied
    (4 or 5 of 5)."""
    return grouped(
        _rated(period),
        ELEMENT_FIELDS,
        kind,
        numerator=Count("pk", filter=Q(result_satisfaction__gte=4)),
        denominator=Count("pk"),
    )


# --- reopen rate ---------------------------------------------------------------------------


def _resolved(period: Period) -> QuerySet:
    return Complaint.objects.filter(in_period("resolved_at", period))


def _resolved_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_resolved(period), ELEMENT_FIELDS, kind, element_id)


@kpi_source(
    "complaints.reopen_rate",
    label=_("Complaint reopen rate"),
    model="complaints.complaint",
    unit="percent",
    records=_resolved_records,
    breakdowns=ELEMENT_FIELDS,
    columns=export_columns,
)
def reopen_rate(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the complaints last resolved in the period that were reopened at least once."""
    return grouped(
        _resolved(period),
        ELEMENT_FIELDS,
        kind,
        numerator=Count("pk", filter=Q(reopen_count__gt=0)),
        denominator=Count("pk"),
    )


# --- how many ------------------------------------------------------------------------------


# A category as a breakdown element: its place among the choices (element ids are numbers),
# worked out in the query (CASE), so the count by category is still one GROUP BY.
CATEGORY_NUMBERS = {value: number for number, value in enumerate(Category.values, start=1)}
COUNT_FIELDS = {**ELEMENT_FIELDS, "category": "category_number"}


def _received(period: Period) -> QuerySet:
    category_number = Case(
        *(When(category=value, then=Value(number)) for value, number in CATEGORY_NUMBERS.items()),
        default=None,
        output_field=IntegerField(),
    )
    return (
        Complaint.objects.filter(in_period("received_at", period))
        .exclude(status=ComplaintStatus.WITHDRAWN)
        .annotate(category_number=category_number)
    )


def _received_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_received(period), COUNT_FIELDS, kind, element_id)


def _category_labels(kind: str, numbers: list[int]) -> dict[int, str]:
    """A category's name, in the product's language (frozen into the values like an
    organisation's name)."""
    if kind != "category":
        return {}
    labels = dict(Category.choices)
    with translation.override(settings.LANGUAGE_CODE):
        return {n: str(labels[value]) for value, n in CATEGORY_NUMBERS.items() if n in numbers}


@kpi_source(
    "complaints.count",
    label=_("Complaints received"),
    model="complaints.complaint",
    unit="count",
    records=_received_records,
    breakdowns=COUNT_FIELDS,
    columns=export_columns,
    scale=Decimal(1),
    labels=_category_labels,
)
def complaint_count(period: Period, kind: str) -> dict[int, Figures]:
    """The complaints received in the period, withdrawn ones left out (numerator: the count;
    denominator 1, so the value is the count itself: none received is 0, not "no data"); by
    category too (complaints by category)."""
    figures = grouped(_received(period), COUNT_FIELDS, kind, numerator=Count("pk"), denominator=Count("pk"))
    return {key: Figures(f.numerator, Decimal(1)) for key, f in figures.items()}
