"""KPIs (关键绩效指标, reference 000 §7, SPEC §6): definitions, targets, and the value of each
period, frozen once the period closes.

* ``KpiDefinition``: what is measured, how (``source``: a computation of the registry in
  ``kpi.registry``, or ``manual``), its unit, direction, cycle, owner and amber tolerance.
* ``KpiTarget``: the target in force from a day (to a day), for everyone or for one
  organisation or service; targets of one scope never overlap.
* ``KpiValue``: one period's figure for one element (overall, or one organisation, department,
  service, technician): value, numerator, denominator, the target then in force and the RAG
  status. A running period's rows are recomputed; a closed period's never change again: a
  correction is a new revision (``revision`` + 1, with a reason), the earlier one kept.
* ``KpiValueRecord``: the ids of the records behind a value (the drill-down), frozen with it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from itsm.core.periods import Cycle


class Unit(models.TextChoices):
    PERCENT = "percent", _("%")
    WORKING_DAYS = "working_days", _("working days")
    HOURS = "hours", _("hours")
    COUNT = "count", _("count")
    RATING = "rating", _("rating (of 5)")


class Direction(models.TextChoices):
    AT_LEAST = "at_least", _("at least (≥)")
    AT_MOST = "at_most", _("at most (≤)")


class ElementKind(models.TextChoices):
    OVERALL = "overall", _("overall")
    ORGANISATION = "organisation", _("organisation")
    DEPARTMENT = "department", _("department")
    SERVICE = "service", _("service")
    TECHNICIAN = "technician", _("technician")
    CATEGORY = "category", _("complaint category")


class Status(models.TextChoices):
    GREEN = "green", _("on target")
    AMBER = "amber", _("near target")
    RED = "red", _("off target")
    NO_DATA = "no_data", _("no data")


MANUAL = "manual"


class KpiDefinition(models.Model):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    formula = models.TextField(_("formula"), blank=True, help_text=_("How the value is computed, in words."))
    measurement = models.TextField(_("measurement method"), blank=True)
    unit = models.CharField(_("unit"), max_length=20, choices=Unit.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    cycle = models.CharField(_("cycle"), max_length=12, choices=[c for c in Cycle.choices if c[0] != Cycle.WEEKLY])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    amber_tolerance = models.DecimalField(
        _("amber tolerance"),
        max_digits=12,
        decimal_places=4,
        default=Decimal("0"),
        help_text=_("How far from the target, in the KPI's unit, a value is amber rather than red."),
    )
    source = models.CharField(
        _("computed from"), max_length=60, help_text=_("A computation of the registry, or “manual”.")
    )
    breakdowns = models.JSONField(_("breakdowns"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        constraints = [
            models.CheckConstraint(condition=Q(amber_tolerance__gte=0), name="kpi_definition_tolerance_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the reader's language (Chinese unless English is chosen)."""
        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name_zh


class KpiTarget(models.Model):
    definition = models.ForeignKey(
        KpiDefinition, on_delete=models.CASCADE, related_name="targets", verbose_name=_("KPI")
    )
    value = models.DecimalField(_("target"), max_digits=12, decimal_places=4)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("Empty: until further notice."))
    organisation = models.ForeignKey(
        "core.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    service = models.ForeignKey(
        "sla.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("service")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["definition", "organisation", "service", "valid_from"]
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="kpi_target_valid_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(organisation__isnull=True) | Q(service__isnull=True),
                name="kpi_target_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition.code} {self.value} ({self.valid_from}–{self.valid_to or '…'})"


class KpiValue(models.Model):
    definition = models.ForeignKey(
        KpiDefinition, on_delete=models.PROTECT, related_name="values", verbose_name=_("KPI")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    period_label = models.CharField(_("period"), max_length=12)
    element_kind = models.CharField(_("element"), max_length=20, choices=ElementKind.choices)
    # The element's id (0 for ``overall``: a unique constraint over a null would not hold).
    element_id = models.PositiveBigIntegerField(_("element id"), default=0)
    # The element's name as it stood when the value was computed (an organisation renamed
    # later does not rename last year's figures).
    element_label = models.CharField(_("element name"), max_length=200, blank=True)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(_("numerator"), max_digits=20, decimal_places=4, default=Decimal("0"))
    denominator = models.DecimalField(_("denominator"), max_digits=20, decimal_places=4, default=Decimal("0"))
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=4, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    closed = models.BooleanField(pgettext_lazy("KPI period", "closed"), default=False)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    is_current = models.BooleanField(_("current revision"), default=True)
    reason = models.TextField(_("reason for the revision"), blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("computed by"),
    )
    # The model of the records behind it (``app_label.model``), as the source named it then.
    record_model = models.CharField(_("records of"), max_length=100, blank=True)

    class Meta:
        ordering = ["definition", "-period_start", "element_kind", "element_label"]
        verbose_name = _("KPI value")
        verbose_name_plural = _("KPI values")
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "period_start", "element_kind", "element_id", "revision"],
                name="kpi_value_one_per_revision",
            ),
            models.UniqueConstraint(
                fields=["definition", "period_start", "element_kind", "element_id"],
                condition=Q(is_current=True),
                name="kpi_value_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["definition", "is_current", "period_start"], name="kpi_value_current_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.definition.code} {self.period_label} {self.element_label or self.element_kind}: {self.value}"


class KpiValueRecord(models.Model):
    """One record behind a value (its id in ``value.record_model``)."""

    value = models.ForeignKey(KpiValue, on_delete=models.CASCADE, related_name="records", verbose_name=_("value"))
    record_id = models.PositiveBigIntegerField(_("record id"))

    class Meta:
        verbose_name = _("record behind a KPI value")
        verbose_name_plural = _("records behind KPI values")
        constraints = [models.UniqueConstraint(fields=["value", "record_id"], name="kpi_value_record_once")]

    def __str__(self) -> str:
        return f"{self.value_id}: {self.record_id}"


class KpiForecast(models.Model):
    """What the running period's overall value was heading for, as seen on one day
    (``kpi.forecast``): kept day by day, so the forecast made at mid-period can be put beside
    the value the period closed with (how far to trust it). A period that closed before its
    forecasts were kept gets one worked out afterwards from its records (``backtest``)."""

    definition = models.ForeignKey(
        KpiDefinition, on_delete=models.CASCADE, related_name="forecasts", verbose_name=_("KPI")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    period_label = models.CharField(_("period"), max_length=12)
    made_on = models.DateField(_("forecast on"))
    # Working days gone / working days in the period.
    fraction = models.DecimalField(_("share of the period gone"), max_digits=5, decimal_places=4)
    value_so_far = models.DecimalField(_("value so far"), max_digits=16, decimal_places=4, null=True, blank=True)
    projected = models.DecimalField(_("projected value"), max_digits=16, decimal_places=4, null=True, blank=True)
    low = models.DecimalField(_("projection, low"), max_digits=16, decimal_places=4, null=True, blank=True)
    high = models.DecimalField(_("projection, high"), max_digits=16, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=4, null=True, blank=True)
    heading_for_miss = models.BooleanField(_("heading for a miss"), default=False)
    seasonal = models.BooleanField(_("earlier years' shape used"), default=False)
    backtest = models.BooleanField(_("worked out after the period"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["definition", "-period_start", "-made_on"]
        verbose_name = _("KPI forecast")
        verbose_name_plural = _("KPI forecasts")
        constraints = [
            models.UniqueConstraint(fields=["definition", "period_start", "made_on"], name="kpi_forecast_one_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.definition.code} {self.period_label} on {self.made_on}: {self.projected}"
