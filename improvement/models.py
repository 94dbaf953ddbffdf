"""Continual improvement (持续改进, SPEC §6; reference/000 §5 §8, 003 §4.1(3), 004 跟踪表): one
register of improvement items fed by every source, service improvement plans (SIP) run as
plan → do → check → act with approval and a scheduled effectiveness review, their actions, and
the review meetings whose inputs compile themselves and freeze when the meeting is held.

An item's **source** is any record of the product — a complaint, a survey campaign (or one of
its questions: ``source_part_id``), a call-back, a weekly-visit item, an SLA measurement or
monthly report, an agreement review, a KPI value, a review meeting, later an audit finding —
held as a generic relation plus the kind the source registry knows it by
(``improvement.registry``). Suggestions made by the system carry an ``intake_key`` that is
unique, so the same red KPI value or breached target never suggests a second item.

The state machines are ``improvement/workflow.py``; only ``improvement/services`` assigns a
``status``. History rows are append-only (``itsm.core.audit.APPEND_ONLY_TABLES``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core.models import Department, Organisation, VisibleQuerySet, WorkflowEvent

from .choices import (
    STAGE_OF_STATUS,
    ActionStatus,
    Effectiveness,
    ItemStatus,
    MeetingKind,
    MeetingStatus,
    PlanStatus,
    Priority,
    Stage,
)


class ImprovementPlan(models.Model):
    """A service improvement plan (SIP, 服务改进计划): what is to be better (goal, scope), how
    it is measured (a baseline and a target — optionally a KPI, whose period values then say
    whether it worked), the items it answers and the actions that do it.

    ``team`` makes it a department's own plan: the department head approves it instead of a
    BR manager. ``approved_terms`` is what was approved (the target and the actions), kept so
    a change after approval can be seen and sends the plan back for approval. ``round``
    counts trips round the loop: an effectiveness review that finds the plan did not work
    returns it to ``in_progress`` with new actions and the round goes up.
    """

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    goal = models.TextField(_("goal"))
    services = models.ManyToManyField(
        "sla.Service", blank=True, related_name="improvement_plans", verbose_name=_("services")
    )
    organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="improvement_plans", verbose_name=_("customer organisations")
    )
    departments = models.ManyToManyField(
        Department, blank=True, related_name="improvement_plans", verbose_name=_("departments")
    )
    team = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="team_improvement_plans",
        verbose_name=_("department's own plan"),
        help_text=_("An internal team whose own plan this is: its department head approves it."),
    )
    baseline_measure = models.TextField(_("baseline"), blank=True)
    target_measure = models.TextField(_("target measure"), blank=True)
    kpi = models.ForeignKey(
        "kpi.KpiDefinition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="improvement_plans",
        verbose_name=_("KPI"),
    )
    baseline_value = models.DecimalField(_("baseline value"), max_digits=16, decimal_places=4, null=True, blank=True)
    target_value = models.DecimalField(_("target value"), max_digits=16, decimal_places=4, null=True, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    change_request_ref = models.CharField(_("change request"), max_length=60, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="improvement_plans",
        verbose_name=_("owner"),
    )
    status = models.CharField(
        _("status"), max_length=24, choices=PlanStatus.choices, default=PlanStatus.DRAFT, editable=False
    )
    round = models.PositiveSmallIntegerField(_("round"), default=1, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
        editable=False,
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    approved_terms = models.JSONField(_("approved terms"), default=dict, blank=True, editable=False)
    review_due_on = models.DateField(_("effectiveness review due"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Effectiveness.choices, blank=True, editable=False)
    outcome_note = models.TextField(_("outcome"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    # The free-text reference a complaint or survey item named before plans were records.
    legacy_ref = models.CharField(_("earlier reference"), max_length=100, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("service improvement plan")
        verbose_name_plural = _("service improvement plans")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "review_due_on"], name="improvement_plan_status_idx"),
            models.Index(fields=["owner", "status"], name="improvement_plan_owner_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kpi__isnull=True) | Q(target_value__isnull=False),
                name="improvement_plan_kpi_has_target",
                violation_error_message=_("A plan measured by a KPI needs the target value."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("improvement_plan_detail", args=[self.pk])

    @property
    def stage(self) -> Stage:
        return STAGE_OF_STATUS[PlanStatus(self.status)]

    def get_stage_display(self) -> str:
        return str(self.stage.label)


class ImprovementPlanEvent(WorkflowEvent):
    """A step of a plan's history (its moves, re-approvals, effectiveness reviews)."""

    plan = models.ForeignKey(ImprovementPlan, on_delete=models.CASCADE, related_name="events", verbose_name=_("plan"))
    from_status = models.CharField(_("from"), max_length=30, choices=PlanStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=PlanStatus.choices, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("plan history entry")
        verbose_name_plural = _("plan history")
        indexes = [models.Index(fields=["plan", "created_at"], name="improvement_planevent_idx")]


class ImprovementItem(models.Model):
    """One entry of the improvement register (改进项): a problem or an opportunity, where it
    came from, how urgent, who owns it and where it stands.

    ``suggested`` items were raised by the system (automatic intake) and wait for their owner
    to accept or dismiss them; an item raised by a person starts ``open``; it is ``planned``
    once it is part of a plan and ``done`` when the plan closed (or the owner closes it),
    ``dismissed`` with a reason — a duplicate names the item it duplicates. ``target_date``
    is when it should be closed (from its priority, in working days); the KPI "improvement
    items closed within target" reads it.
    """

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(
        _("status"), max_length=12, choices=ItemStatus.choices, default=ItemStatus.OPEN, editable=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="improvement_items",
        verbose_name=_("owner"),
    )
    plan = models.ForeignKey(
        ImprovementPlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("improvement plan"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    # The source: its kind as the registry names it, and the record (generic, open to new kinds).
    source_kind = models.CharField(_("source"), max_length=40)
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("source type")
    )
    source_id = models.PositiveBigIntegerField(_("source record"), null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    # A part of the source the kind names (a survey question of the campaign's results).
    source_part_id = models.PositiveBigIntegerField(_("part of the source"), null=True, blank=True)
    # Set on the items the system suggests: the same finding never suggests a second one.
    intake_key = models.CharField(_("intake key"), max_length=120, unique=True, null=True, blank=True, editable=False)
    target_date = models.DateField(_("close by"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("improvement item")
        verbose_name_plural = _("improvement items")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "priority"], name="improvement_item_status_idx"),
            models.Index(fields=["source_type", "source_id"], name="improvement_item_source_idx"),
            models.Index(fields=["source_kind", "status"], name="improvement_item_kind_idx"),
            models.Index(fields=["owner", "status"], name="improvement_item_owner_idx"),
            models.Index(fields=["target_date", "status"], name="improvement_item_target_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duplicate_of__isnull=True) | Q(status=ItemStatus.DISMISSED),
                name="improvement_item_duplicate_dismissed",
                violation_error_message=_("Only a dismissed item can be a duplicate."),
            ),
            models.CheckConstraint(
                condition=~Q(status=ItemStatus.PLANNED) | Q(plan__isnull=False),
                name="improvement_item_planned_has_plan",
                violation_error_message=_("A planned item names its improvement plan."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("improvement_item_detail", args=[self.pk])


class ImprovementItemEvent(WorkflowEvent):
    """A step of an item's history."""

    item = models.ForeignKey(ImprovementItem, on_delete=models.CASCADE, related_name="events", verbose_name=_("item"))
    from_status = models.CharField(_("from"), max_length=30, choices=ItemStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=ItemStatus.choices, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("item history entry")
        verbose_name_plural = _("item history")
        indexes = [models.Index(fields=["item", "created_at"], name="improvement_itemevent_idx")]


def _evidence_path(instance: PlanAction, filename: str) -> str:
    return f"improvement/plans/{instance.plan_id}/actions/{filename}"


class PlanAction(models.Model):
    """One action of a plan: who does what by when (a date worked out in working days), and
    the evidence that it was done. ``round`` is the trip round the loop that added it."""

    plan = models.ForeignKey(ImprovementPlan, on_delete=models.CASCADE, related_name="actions", verbose_name=_("plan"))
    title = models.CharField(_("action"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="improvement_actions", verbose_name=_("owner")
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    evidence = models.FileField(_("evidence file"), upload_to=_evidence_path, max_length=300, blank=True)
    evidence_link = models.URLField(_("evidence link"), max_length=500, blank=True)
    evidence_note = models.TextField(_("what was done"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["plan", "due_on", "pk"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="improvement_action_due_idx"),
            models.Index(fields=["owner", "status"], name="improvement_action_owner_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ActionStatus.DONE) | Q(done_at__isnull=False),
                name="improvement_action_done_has_time",
                violation_error_message=_("A done action records when it was done."),
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"{self.plan.get_absolute_url()}#action-{self.pk}"


def _review_path(instance: EffectivenessReview, filename: str) -> str:
    return f"improvement/plans/{instance.plan_id}/reviews/{filename}"


class EffectivenessReview(models.Model):
    """ "Did it work?" for one round of a plan: scheduled (``due_on``) when the plan's actions
    are done, then recorded with its result, evidence and — for a plan measured by a KPI — the
    period values it read (``measured``: label, value, target, status per period)."""

    plan = models.ForeignKey(ImprovementPlan, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("plan"))
    round = models.PositiveSmallIntegerField(_("round"))
    due_on = models.DateField(_("due on"))
    result = models.CharField(_("result"), max_length=20, choices=Effectiveness.choices, blank=True)
    evidence_note = models.TextField(_("evidence"), blank=True)
    evidence = models.FileField(_("evidence file"), upload_to=_review_path, max_length=300, blank=True)
    measured = models.JSONField(_("measured values"), default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("effectiveness review")
        verbose_name_plural = _("effectiveness reviews")
        ordering = ["plan", "round"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "round"], name="improvement_review_one_per_round"),
        ]
        indexes = [models.Index(fields=["reviewed_at", "due_on"], name="improvement_review_due_idx")]

    def __str__(self) -> str:
        return f"{self.plan_id} #{self.round}"


class ReviewMeeting(models.Model):
    """A review meeting (回顾会议, 000 §8) or the monthly quality analysis meeting (003 §5.2(4))
    of one period: planned with its attendees; its inputs — the period's KPI values, the plans'
    status, open and overdue items and actions, the complaint summary — are compiled from live
    data until it is held, then frozen in ``inputs`` (never changed afterwards). Minutes and
    decisions are recorded; a decision becomes an item or an action in one step."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices, default=MeetingKind.REVIEW)
    title = models.CharField(_("title"), max_length=200)
    period_label = models.CharField(pgettext_lazy("KPI", "Period"), max_length=12)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    scheduled_at = models.DateTimeField(_("scheduled at"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chaired_meetings", verbose_name=_("chair")
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="review_meetings", verbose_name=_("attendees")
    )
    other_attendees = models.TextField(
        _("other attendees"), blank=True, help_text=_("Customer representatives and guests, one per line.")
    )
    agenda = models.TextField(_("agenda"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED, editable=False
    )
    held_at = models.DateTimeField(_("held at"), null=True, blank=True, editable=False)
    inputs = models.JSONField(_("inputs"), default=dict, blank=True, editable=False)
    minutes = models.TextField(pgettext_lazy("meeting", "minutes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("review meeting")
        verbose_name_plural = _("review meetings")
        ordering = ["-scheduled_at", "-pk"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="improvement_meeting_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="improvement_meeting_period_order",
                violation_error_message=_("The period cannot end before it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("review_meeting_detail", args=[self.pk])


class ReviewMeetingEvent(WorkflowEvent):
    """A step of a meeting's history (planned, held, cancelled, decisions recorded)."""

    meeting = models.ForeignKey(
        ReviewMeeting, on_delete=models.CASCADE, related_name="events", verbose_name=_("meeting")
    )
    from_status = models.CharField(_("from"), max_length=30, choices=MeetingStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=MeetingStatus.choices, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("meeting history entry")
        verbose_name_plural = _("meeting history")
        indexes = [models.Index(fields=["meeting", "created_at"], name="improvement_meetingevent_idx")]


class MeetingDecision(models.Model):
    """A decision of a held meeting, and what it created: an item in the register or an action
    of a plan (one step from the meeting's page)."""

    meeting = models.ForeignKey(
        ReviewMeeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("meeting")
    )
    text = models.TextField(_("decision"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    item = models.OneToOneField(
        ImprovementItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decision",
        verbose_name=_("improvement item"),
    )
    action = models.OneToOneField(
        PlanAction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decision",
        verbose_name=_("improvement action"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")
        ordering = ["meeting", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(item__isnull=True) | Q(action__isnull=True),
                name="improvement_decision_item_or_action",
                violation_error_message=_("A decision creates an item or an action, not both."),
            )
        ]

    def __str__(self) -> str:
        return self.text[:80]
