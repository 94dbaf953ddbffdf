"""Complaints (投诉): the complaint, its timeline, attachments, deadline targets, numbering.

No workflow code lives here: ``complaints.workflow`` declares the state machine and
``complaints.services`` performs every write.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.core.calendar import working_day_length
from itsm.core.models import Calendar, Contact, Organisation, VisibleQuerySet, WorkflowEvent

from .choices import EVENT_STATUS_CHOICES, Category, Channel, ComplaintStatus, EscalationLevel, Severity, TargetUnit


class ComplaintQuerySet(VisibleQuerySet):
    """``visible_to``: every complaint for whoever may view complaints (staff roles, auditors)."""

    def open(self):
        from .choices import OPEN_STATUSES

        return self.filter(status__in=OPEN_STATUSES)


class Complaint(models.Model):
    """A customer complaint driven through ``complaints.workflow``.

    ``status`` changes only through ``complaints.services.complaint_transition``: saving a
    changed status any other way raises ``ValidationError``. Due dates are computed by the
    business calendar from ``received_at``, the severity's ``ComplaintTarget`` and the
    working time the complaint spent paused (waiting on the customer).
    """

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("customer organisation")
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("contact"))
    related_service = models.ForeignKey(
        "sla.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("related service"),
    )
    # What was recorded as free text before the service became a choice of the catalogue and
    # matched no service (complaints.0007): kept, and shown beside the service.
    related_service_text = models.CharField(_("related service (as recorded)"), max_length=200, blank=True)
    external_ticket_ref = models.CharField(_("external ticket"), max_length=100, blank=True, db_index=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=30, choices=ComplaintStatus.choices, default=ComplaintStatus.REGISTERED, editable=False
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_complaints",
        verbose_name=_("handler"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_complaints",
        verbose_name=_("current owner"),
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), choices=EscalationLevel.choices, default=EscalationLevel.DESK, editable=False
    )
    received_at = models.DateTimeField(_("received at"))
    response_due_at = models.DateTimeField(_("response due"), editable=False)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True, editable=False)
    resolution_due_at = models.DateTimeField(_("resolution due"), editable=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    # Reply time (registered → accepted) in working seconds: the KPI "average complaint reply
    # time ≤ 2 working days" averages this column in SQL.
    reply_working_seconds = models.PositiveIntegerField(_("reply time (working seconds)"), null=True, editable=False)
    # The resolution clock: working seconds spent paused, and when the current pause began.
    paused_seconds = models.PositiveIntegerField(_("paused working seconds"), default=0, editable=False)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True, editable=False)
    # When the owner is warned (``warning_percent`` of each deadline), and which deadline checks
    # were done (each at most once per deadline; cleared when the deadline moves).
    response_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    root_cause = models.TextField(_("root cause"), blank=True)
    # The investigation's output (诊断结果, reference 000 §5.1): required by ``remedy``.
    diagnosis = models.TextField(_("diagnosis result"), blank=True)
    remedial_actions = models.TextField(_("remedial actions"), blank=True)
    result = models.TextField(_("result"), blank=True)
    result_satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction with the result"),
        null=True,
        blank=True,
        editable=False,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    result_settled = models.BooleanField(_("settled for the customer"), null=True, blank=True, editable=False)
    feedback_comment = models.TextField(_("customer comment"), blank=True, editable=False)
    feedback_at = models.DateTimeField(_("feedback received at"), null=True, blank=True, editable=False)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0, editable=False)
    # The register's items raised from this complaint; their plans are the complaint's
    # improvement plans (the plan_improvement step raises one).
    improvement_items = GenericRelation(
        "improvement.ImprovementItem", content_type_field="source_type", object_id_field="source_id"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registered_complaints",
        verbose_name=_("registered by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ComplaintQuerySet.as_manager()

    # Set by complaints.services.complaint_transition while it moves the status (see save()).
    _moving: bool = False

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="complaint_status_recv_idx"),
            models.Index(fields=["status", "resolution_due_at"], name="complaint_status_due_idx"),
            models.Index(fields=["status", "response_due_at"], name="complaint_status_resp_idx"),
            models.Index(fields=["severity", "-received_at"], name="complaint_severity_idx"),
            models.Index(fields=["category", "-received_at"], name="complaint_category_idx"),
            models.Index(fields=["organisation", "-received_at"], name="complaint_org_idx"),
            models.Index(fields=["owner", "status"], name="complaint_owner_idx"),
            models.Index(fields=["escalation_level", "status"], name="complaint_level_idx"),
            models.Index(fields=["-received_at", "-id"], name="complaint_received_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(result_satisfaction__isnull=True)
                | Q(result_satisfaction__gte=1, result_satisfaction__lte=5),
                name="complaint_satisfaction_1_5",
            ),
            models.CheckConstraint(condition=Q(escalation_level__lte=3), name="complaint_level_0_3"),
            # An escalated complaint has someone above the service desk owning it.
            models.CheckConstraint(
                condition=~Q(status="escalated") | Q(escalation_level__gte=1), name="complaint_escalated_has_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded_status", None)
        if self.pk and loaded is not None and self.status != loaded and not getattr(self, "_moving", False):
            raise ValidationError(_("The status changes only through a workflow action."))
        super().save(*args, **kwargs)
        self._loaded_status = self.status

    def get_absolute_url(self) -> str:
        return reverse("complaint_detail", args=[self.pk])

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # refresh_from_db copies the stored values onto this instance without going through
        # from_db: remember the freshly read status too, or saving an instance refreshed after
        # a workflow move would be refused as if the caller had changed the status.
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None or "status" in fields:
            self._loaded_status = self.__dict__.get("status")

    def clean(self) -> None:
        if self.contact_id and self.organisation_id and self.contact.organisation_id != self.organisation_id:
            raise ValidationError({"contact": _("The contact must belong to the customer organisation.")})

    @property
    def is_open(self) -> bool:
        from .choices import OPEN_STATUSES

        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class ComplaintEvent(WorkflowEvent):
    """One row of a complaint's timeline: who did what, when, from which state to which
    (``itsm.core.models.WorkflowEvent``: append-only)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=30, choices=EVENT_STATUS_CHOICES, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=EVENT_STATUS_CHOICES, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        indexes = [models.Index(fields=["complaint", "created_at"], name="complaint_event_idx")]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.action}"


def _attachment_path(instance: ComplaintAttachment, filename: str) -> str:
    return f"complaints/{instance.complaint_id}/{filename}"


class ComplaintAttachment(models.Model):
    """A file attached to a complaint (type and size checked by ``itsm.core.uploads``)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class ComplaintTarget(models.Model):
    """Response and resolution targets of one severity, in working time (editable in the browser).

    Defaults (SPEC §3): normal 1 working day / 10 working days; major 4 working hours /
    5 working days. The owner is warned at ``warning_percent`` of either deadline.
    """

    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, unique=True)
    response_value = models.PositiveIntegerField(_("response target"), validators=[MinValueValidator(1)])
    response_unit = models.CharField(_("response unit"), max_length=20, choices=TargetUnit.choices)
    resolution_value = models.PositiveIntegerField(_("resolution target"), validators=[MinValueValidator(1)])
    resolution_unit = models.CharField(_("resolution unit"), max_length=20, choices=TargetUnit.choices)
    warning_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format  (a literal percent sign, not a placeholder)
        _("warn at (% of the deadline)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    calendar = models.ForeignKey(
        Calendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("calendar"),
        help_text=_("Empty: the default business calendar."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("complaint target")
        verbose_name_plural = _("complaint targets")
        ordering = ["severity"]

    def __str__(self) -> str:
        return self.get_severity_display()

    def get_absolute_url(self) -> str:
        return reverse("complaint_target_list")

    def _duration(self, value: int, unit: str, calendar: Calendar | None = None) -> timedelta:
        if unit == TargetUnit.WORKING_DAYS:
            return working_day_length(calendar or self.calendar) * value
        return timedelta(hours=value)

    def times(self, calendar: Calendar | None = None) -> tuple[timedelta, timedelta]:
        """(response, resolution) working time. Pass the calendar already at hand: without it,
        each working-day length looks the default calendar up again (a query per call)."""
        return (
            self._duration(self.response_value, self.response_unit, calendar),
            self._duration(self.resolution_value, self.resolution_unit, calendar),
        )

    @property
    def response_time(self) -> timedelta:
        return self._duration(self.response_value, self.response_unit)

    @property
    def resolution_time(self) -> timedelta:
        return self._duration(self.resolution_value, self.resolution_unit)

    def clean(self) -> None:
        if self.response_value and self.resolution_value and self.response_time > self.resolution_time:
            raise ValidationError(
                {"response_value": _("The response target cannot be longer than the resolution target.")}
            )


class ComplaintSequence(models.Model):
    """The last reference number used in a month: TS-YYYYMM-NNNN, gap-free per month.

    Incremented under a row lock in the registering transaction, so a failed registration
    gives its number back and concurrent registrations never share one.
    """

    period = models.CharField(max_length=6, unique=True)  # YYYYMM
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("complaint number sequence")

    def __str__(self) -> str:
        return f"{self.period}: {self.last_number}"
