"""Survey campaigns (满意度调查计划), their invitations, responses and answers.

The campaign state machine is ``surveys/workflow.py``; only
``surveys.services.campaigns.campaign_transition`` assigns ``Campaign.status``. Invitations,
responses and answers carry the organisation and department of the contact at launch, so the
response rate and results group by them in SQL without joining through contacts that may
have moved since. No workflow code lives here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.core.choices import Language
from itsm.core.models import Contact, Department, Organisation, VisibleQuerySet, WorkflowEvent

from ..choices import (
    AudienceMode,
    CampaignKind,
    CampaignStatus,
    InvitationStatus,
)
from .questionnaires import Question, Questionnaire, QuestionOption

DEFAULT_REPEAT_INTERVAL_DAYS = 90


def default_reminder_days() -> list[int]:
    return [3, 7]


class Campaign(models.Model):
    """A planned survey: the plan (SPEC §4), its audience rule, dates, status and analysis.

    ``status`` moves only through the workflow service. The audience is chosen organisations
    (all their contacts or a sample per department) or every key customer; contacts who
    answered a survey within ``repeat_interval_days`` or unsubscribed are left out.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=CampaignKind.choices)
    title = models.CharField(_("title"), max_length=200)
    domain = models.CharField(_("domain"), max_length=200, blank=True, help_text=_("The service area surveyed."))
    objective = models.TextField(_("objective"), blank=True)
    scope = models.TextField(_("scope"), blank=True)
    audience_description = models.TextField(_("audience"), blank=True, help_text=_("Who is asked, in words."))
    resources = models.TextField(_("resources"), blank=True)
    method = models.TextField(_("method"), blank=True)
    schedule = models.TextField(_("schedule"), blank=True, help_text=_("Milestones in words; the dates below rule."))
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("questionnaire")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="survey_campaigns", verbose_name=_("owner")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, editable=False
    )
    audience_mode = models.CharField(
        _("audience"), max_length=15, choices=AudienceMode.choices, default=AudienceMode.ALL
    )
    organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="survey_campaigns", verbose_name=_("organisations")
    )
    sample_percent = models.PositiveSmallIntegerField(
        _("sample %"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Share of each department's eligible contacts invited (sample audience)."),
    )
    repeat_interval_days = models.PositiveSmallIntegerField(
        _("repeat interval (days)"),
        default=DEFAULT_REPEAT_INTERVAL_DAYS,
        validators=[MaxValueValidator(3650)],
        help_text=_("Contacts who answered a survey within this many days are not asked again."),
    )
    reminder_days = models.JSONField(_("reminders (days after launch)"), default=default_reminder_days, blank=True)
    closes_at = models.DateTimeField(_("closes at"))
    stakeholders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("stakeholders")
    )
    analysis = models.TextField(_("analysis notes"), blank=True)
    submitted_at = models.DateTimeField(_("submitted for review"), null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    analysed_at = models.DateTimeField(_("analysed at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "closes_at"], name="campaign_status_idx")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("campaign_detail", args=[self.pk])

    def clean(self) -> None:
        days = self.reminder_days
        if not isinstance(days, list) or not all(isinstance(d, int) and 1 <= d <= 365 for d in days):
            raise ValidationError({"reminder_days": _("Give whole numbers of days between 1 and 365.")})
        if len(set(days)) != len(days) or len(days) > 5:
            raise ValidationError({"reminder_days": _("At most five reminders, each on a different day.")})
        self.reminder_days = sorted(days)


class CampaignDepartmentRatio(models.Model):
    """A department's own sample share, overriding the campaign's ``sample_percent``."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="department_ratios", verbose_name=_("campaign")
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("department"))
    percent = models.PositiveSmallIntegerField(_("sample %"), validators=[MinValueValidator(0), MaxValueValidator(100)])

    class Meta:
        verbose_name = _("department sample share")
        verbose_name_plural = _("department sample shares")
        ordering = ["department__name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "department"], name="campaign_ratio_unique_department")
        ]

    def __str__(self) -> str:
        return f"{self.department}: {self.percent}%"


class CampaignEvent(WorkflowEvent):
    """One step of a campaign's history (``itsm.core.models.WorkflowEvent``: append-only)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events", verbose_name=_("campaign"))
    from_status = models.CharField(_("from"), max_length=30, choices=CampaignStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=30, choices=CampaignStatus.choices, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("campaign event")
        verbose_name_plural = _("campaign events")

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.action}"


class Invitation(models.Model):
    """One contact's invitation to one campaign: at most one per contact, one answer.

    ``email``, ``language``, ``organisation`` and ``department`` are the contact's at launch.
    The personal link is an ``AccessToken`` (purpose ``survey``) issued when the mail is
    queued; every mail (invitation, reminders) carries its own link, all valid until the
    campaign closes, and the first submission through any of them answers the invitation.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("campaign")
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="invitations", verbose_name=_("contact")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    email = models.EmailField(_("email"), max_length=254)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_reminded_at = models.DateTimeField(_("last reminded at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("marked invalid at"), null=True, blank=True)
    bounce_reason = models.CharField(_("why the address is invalid"), max_length=300, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="invitation_one_per_contact"),
            models.CheckConstraint(
                condition=~Q(status=InvitationStatus.ANSWERED) | Q(answered_at__isnull=False),
                name="invitation_answered_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="invitation_status_idx"),
            models.Index(fields=["contact", "answered_at"], name="invitation_contact_idx"),
            # Response rates per organisation and department (the results page).
            models.Index(fields=["campaign", "organisation", "department", "status"], name="invitation_rates_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.contact_id}"


class SurveyResponse(models.Model):
    """The one submission of an invitation; its answers are ``Answer`` rows."""

    invitation = models.OneToOneField(
        Invitation, on_delete=models.CASCADE, related_name="response", verbose_name=_("invitation")
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="responses", verbose_name=_("campaign")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    submitted_at = models.DateTimeField(_("submitted at"))

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["campaign", "submitted_at", "pk"]
        indexes = [
            models.Index(fields=["campaign", "submitted_at"], name="response_campaign_idx"),
            models.Index(fields=["campaign", "organisation", "department"], name="response_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} #{self.pk}"


class Answer(models.Model):
    """One answer to one question. ``value``: rating 1–5, NPS 0–10, yes 1 / no 0.

    A single choice is one row with ``option``; a multiple choice one row per chosen option.
    Free text goes in ``text``; ``comment`` is the remark under a rating. ``campaign``,
    ``organisation`` and ``department`` repeat the response's so results aggregate over one
    table (2,000,000 answers stay fast with the indexes below).
    """

    response = models.ForeignKey(
        SurveyResponse, on_delete=models.CASCADE, related_name="answers", verbose_name=_("response")
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"))
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    value = models.SmallIntegerField(
        _("value"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    option = models.ForeignKey(
        QuestionOption, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("choice")
    )
    text = models.TextField(_("text"), blank=True)
    comment = models.TextField(_("comment"), blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["response", "question", "pk"]
        indexes = [
            models.Index(fields=["campaign", "question", "value"], name="answer_question_value_idx"),
            models.Index(fields=["campaign", "question", "option"], name="answer_question_option_idx"),
            models.Index(fields=["campaign", "organisation"], name="answer_campaign_org_idx"),
            # The API pages one campaign's answers by id (cursor pagination).
            models.Index(fields=["campaign", "id"], name="answer_campaign_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value if self.value is not None else self.option_id or self.text[:30]}"
