"""Service catalogue and agreements (服务目录与协议): services, SLA / OLA / UC agreements with
versions, service level targets and the targets underpinning them, monthly measurements and
reports, annual reviews.

The state machines are ``sla/workflow.py``; only the services in ``sla/services/`` assign a
``status`` field. No workflow code lives here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core.models import Calendar, Organisation, VisibleQuerySet, WorkflowEvent

from .choices import (
    AgreementKind,
    AgreementStatus,
    MeasurementSource,
    Metric,
    Priority,
    ReportStatus,
    ServiceStatus,
    TargetUnit,
)

# The content sections of an agreement (reference/004), in the order they are shown.
AGREEMENT_SECTIONS = (
    ("service_description", _("Service description")),
    ("glossary", _("Glossary")),
    ("customer_duties", _("Customer duties")),
    ("provider_duties", _("Provider duties")),
    ("service_hours", _("Service hours")),
    ("workload_limits", _("Workload limits")),
    ("availability_quality", _("Availability and quality")),
    ("interruption_levels", _("Interruption, recovery and response levels")),
    ("reporting", _("Reporting content and cycle")),
    ("risks", _("Risks")),
    ("interfaces", _("Interfaces")),
)


class Service(models.Model):
    """A service of the catalogue (服务目录项). A retired service joins no new agreement; a
    change to an accepted service carries an RFC reference."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(pgettext_lazy("service", "category"), max_length=100, db_index=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_services",
        verbose_name=_("owner"),
    )
    standards = models.TextField(_("targets and standards"), blank=True)
    contact_interface = models.TextField(_("contact interface"), blank=True)
    calendar = models.ForeignKey(
        Calendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("service hours"),
        help_text=_("The business calendar of the service hours; empty: around the clock (24×7)."),
    )
    exceptions = models.TextField(_("exceptions to the service hours"), blank=True)
    security = models.TextField(_("security considerations"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ServiceStatus.choices, default=ServiceStatus.PROPOSED, editable=False
    )
    rfc_ref = models.CharField(_("RFC reference"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["category", "name", "pk"]
        indexes = [models.Index(fields=["status", "category"], name="sla_service_status_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("service_detail", args=[self.pk])


class ServiceEvent(WorkflowEvent):
    """One step of a service's life (accepted, changed under an RFC, retired)
    (``itsm.core.models.WorkflowEvent``: append-only)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="events", verbose_name=_("service"))
    from_status = models.CharField(_("from"), max_length=30, choices=ServiceStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=ServiceStatus.choices, blank=True)
    rfc_ref = models.CharField(_("RFC reference"), max_length=60, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("service event")
        verbose_name_plural = _("service events")

    def __str__(self) -> str:
        return f"{self.service_id} {self.action}"


class Agreement(models.Model):
    """An SLA (with a customer), OLA (with an internal team) or UC (with a supplier).

    The record holds the current content; ``version`` counts the versions. Changing an active
    agreement snapshots it into an ``AgreementVersion`` first (with reason and RFC), so earlier
    versions stay readable and comparable. ``next_review_on`` drives the annual review.
    """

    kind = models.CharField(_("kind"), max_length=3, choices=AgreementKind.choices)
    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    counterparty = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="agreements", verbose_name=_("counterparty")
    )
    services = models.ManyToManyField(Service, blank=True, related_name="agreements", verbose_name=_("services"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT, editable=False
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_agreements",
        verbose_name=_("owner"),
    )
    service_description = models.TextField(_("Service description"), blank=True)
    glossary = models.TextField(_("Glossary"), blank=True)
    customer_duties = models.TextField(_("Customer duties"), blank=True)
    provider_duties = models.TextField(_("Provider duties"), blank=True)
    service_hours = models.TextField(_("Service hours"), blank=True)
    workload_limits = models.TextField(_("Workload limits"), blank=True)
    availability_quality = models.TextField(_("Availability and quality"), blank=True)
    interruption_levels = models.TextField(_("Interruption, recovery and response levels"), blank=True)
    reporting = models.TextField(_("Reporting content and cycle"), blank=True)
    risks = models.TextField(_("Risks"), blank=True)
    interfaces = models.TextField(_("Interfaces"), blank=True)
    signed_document = models.FileField(_("signed document"), upload_to="agreements/%Y/", blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    last_review_on = models.DateField(_("last reviewed on"), null=True, blank=True)
    next_review_on = models.DateField(_("next review due"), null=True, blank=True, db_index=True)
    activated_at = models.DateTimeField(_("active since"), null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["kind", "number"]
        indexes = [
            models.Index(fields=["status", "valid_to"], name="sla_agreement_status_idx"),
            models.Index(fields=["kind", "status"], name="sla_agreement_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="sla_agreement_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("agreement_detail", args=[self.pk])


class AgreementVersion(models.Model):
    """A frozen earlier version of an agreement: its sections, validity, services and targets
    as they were (``content``), why it changed and under which RFC. Never edited."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="versions", verbose_name=_("agreement")
    )
    version = models.PositiveSmallIntegerField(_("version"))
    content = models.JSONField(_("content"))
    reason = models.TextField(_("reason for the change"), blank=True)
    rfc_ref = models.CharField(_("RFC reference"), max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("agreement version")
        verbose_name_plural = _("agreement versions")
        ordering = ["agreement", "version"]
        constraints = [models.UniqueConstraint(fields=["agreement", "version"], name="sla_version_unique")]

    def __str__(self) -> str:
        return f"{self.agreement_id} v{self.version}"


class AgreementEvent(WorkflowEvent):
    """One step of an agreement's workflow or versioning (``itsm.core.models.WorkflowEvent``:
    append-only)."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="events", verbose_name=_("agreement")
    )
    from_status = models.CharField(_("from"), max_length=30, choices=AgreementStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=AgreementStatus.choices, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("agreement event")
        verbose_name_plural = _("agreement events")

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.action}"


class ServiceLevelTarget(models.Model):
    """One promise of an agreement: ``metric`` for ``priority`` within ``value`` ``unit``,
    counted on ``calendar`` (empty: 24×7). ``supported_by``: the OLA / UC targets that
    underpin an SLA target (same metric and priority)."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="targets", verbose_name=_("agreement")
    )
    metric = models.CharField(_("metric"), max_length=15, choices=Metric.choices)
    name = models.CharField(_("name"), max_length=120, blank=True, help_text=_("For another measure: what it is."))
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices, blank=True)
    value = models.DecimalField(_("target"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    unit = models.CharField(_("unit"), max_length=15, choices=TargetUnit.choices)
    calendar = models.ForeignKey(
        Calendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("calendar"),
        help_text=_("Business hours of this calendar; empty: around the clock (24×7)."),
    )
    supported_by = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="supports", verbose_name=_("underpinned by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("service level target")
        verbose_name_plural = _("service level targets")
        ordering = ["agreement", "priority", "metric", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "metric", "priority", "name"], name="sla_target_unique_per_agreement"
            )
        ]

    def __str__(self) -> str:
        label = self.name or self.get_metric_display()
        return f"{self.priority} {label} {format(self.value.normalize(), 'f')} {self.get_unit_display()}"


class Measurement(models.Model):
    """The actual of one target for one month (``period`` is the month's first day).
    Idempotent by (target, period); a month whose report is approved no longer changes."""

    target = models.ForeignKey(
        ServiceLevelTarget, on_delete=models.CASCADE, related_name="measurements", verbose_name=_("target")
    )
    period = models.DateField(_("month"))
    actual = models.DecimalField(_("actual"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    met = models.BooleanField(_("target met"))
    sample_size = models.PositiveIntegerField(_("cases measured"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=5, choices=MeasurementSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        ordering = ["target", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["target", "period"], name="sla_measurement_one_per_month"),
            models.CheckConstraint(condition=Q(period__day=1), name="sla_measurement_first_of_month"),
        ]
        indexes = [models.Index(fields=["period", "met"], name="sla_measurement_period_idx")]

    def __str__(self) -> str:
        return f"{self.target_id} {self.period:%Y-%m}: {self.actual}"


class SlaReport(models.Model):
    """The monthly attainment report of one agreement: drafted after month end, approved by
    the service level manager, mailed to the customer's contacts. ``figures`` is frozen at
    approval so the report reads the same forever."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="reports", verbose_name=_("agreement")
    )
    period = models.DateField(_("month"))
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly SLA report")
        verbose_name_plural = _("monthly SLA reports")
        ordering = ["-period", "agreement"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "period"], name="sla_report_one_per_month"),
            models.CheckConstraint(condition=Q(period__day=1), name="sla_report_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.period:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("sla_report_detail", args=[self.pk])


class AgreementReview(models.Model):
    """An agreement's (annual) review with the customer or supplier."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("agreement")
    )
    held_on = models.DateField(_("held on"))
    attendees = models.TextField(_("attendees"))
    minutes = models.TextField(pgettext_lazy("meeting", "minutes"), blank=True)
    findings = models.TextField(_("findings"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)
    changes_agreement = models.BooleanField(_("the agreement changes"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("agreement review")
        verbose_name_plural = _("agreement reviews")
        ordering = ["agreement", "-held_on"]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.held_on}"
