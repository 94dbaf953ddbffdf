"""Choice sets of the service catalogue and agreements, each with a translated label."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core.choices import OrganisationKind


class ServiceStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("service", "Proposed")
    ACCEPTED = "accepted", pgettext_lazy("service", "Accepted")
    RETIRED = "retired", _("Retired")


class AgreementKind(models.TextChoices):
    SLA = "sla", _("SLA (with a customer)")
    OLA = "ola", _("OLA (with an internal team)")
    UC = "uc", _("UC (with a supplier)")


# The counterparty of each kind of agreement is an organisation of this kind.
COUNTERPARTY_KIND = {
    AgreementKind.SLA: OrganisationKind.CUSTOMER,
    AgreementKind.OLA: OrganisationKind.INTERNAL_TEAM,
    AgreementKind.UC: OrganisationKind.SUPPLIER,
}
NUMBER_PREFIX = {AgreementKind.SLA: "SLA", AgreementKind.OLA: "OLA", AgreementKind.UC: "UC"}


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    NEGOTIATING = "negotiating", _("Negotiating")
    ACTIVE = "active", pgettext_lazy("agreement", "Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class Metric(models.TextChoices):
    RESPONSE = "response", _("Response time")
    RESOLUTION = "resolution", _("Resolution time")
    AVAILABILITY = "availability", _("Availability")
    CUSTOM = "custom", _("Other measure")


# Time metrics: lower is better. Availability and custom percentages: higher is better.
TIME_METRICS = frozenset({Metric.RESPONSE, Metric.RESOLUTION})


class Priority(models.TextChoices):
    P1 = "P1", _("P1 (critical)")
    P2 = "P2", _("P2 (high)")
    P3 = "P3", _("P3 (medium)")
    P4 = "P4", _("P4 (low)")


class TargetUnit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    WORKING_DAYS = "working_days", _("working days")
    PERCENT = "percent", _("%")


TIME_UNITS = frozenset({TargetUnit.MINUTES, TargetUnit.HOURS, TargetUnit.WORKING_DAYS})

# The standard targets of reference/004 (response, resolution) per priority.
STANDARD_TARGETS = {
    Priority.P1: ((30, TargetUnit.MINUTES), (2, TargetUnit.HOURS)),
    Priority.P2: ((4, TargetUnit.HOURS), (12, TargetUnit.HOURS)),
    Priority.P3: ((24, TargetUnit.HOURS), (5, TargetUnit.WORKING_DAYS)),
    Priority.P4: ((5, TargetUnit.WORKING_DAYS), (10, TargetUnit.WORKING_DAYS)),
}


class MeasurementSource(models.TextChoices):
    API = "api", _("API")
    CSV = "csv", _("CSV import")
    FORM = "form", _("Entered by hand")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent")
