"""Questionnaires (调查问卷): versioned sections and questions.

A questionnaire in use is never changed in place. Every version of one questionnaire shares a
``family`` and has its own ``version`` number; once a campaign using a version leaves draft
(``locked_at`` is set), edits go into a new version made by
``surveys.services.questionnaires.questionnaire_new_version``. No workflow code lives here.

Every text is bilingual (``surveys.bilingual``): the column ``<name>`` holds the simplified
Chinese text, ``<name>_en`` the English one, and ``<name>_i18n`` is the pair, shown in the
active language with the other as fallback. Pages and mails show ``<name>_i18n`` (or the
content of ``surveys.answers.questionnaire_content``), never one column by hand. A text that
must be given (titles, a question's text, a choice's label) needs one of the two languages.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.core.models import VisibleQuerySet

from ..bilingual import BilingualText, require_text
from ..choices import QuestionKind


class Questionnaire(models.Model):
    """One version of a questionnaire. ``locked_at`` set ⇒ its content is frozen."""

    family = models.UUIDField(_("questionnaire"), default=uuid.uuid4, editable=False, db_index=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    title = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    introduction = models.TextField(
        _("introduction (Chinese)"), blank=True, help_text=_("Shown to the customer above the first question.")
    )
    introduction_en = models.TextField(_("introduction (English)"), blank=True)
    thanks = models.TextField(
        _("thank-you text (Chinese)"),
        blank=True,
        help_text=_("Shown after the answers are sent; a default text if blank."),
    )
    thanks_en = models.TextField(_("thank-you text (English)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    locked_at = models.DateTimeField(_("in use since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    TEXTS = ("title", "introduction", "thanks")
    title_i18n = BilingualText("title")
    introduction_i18n = BilingualText("introduction")
    thanks_i18n = BilingualText("thanks")

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["title", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="questionnaire_family_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title_i18n} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("questionnaire_detail", args=[self.pk])

    def clean(self) -> None:
        require_text(self, "title")

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class QuestionnaireSection(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="sections", verbose_name=_("questionnaire")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    title = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    description = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    TEXTS = ("title", "description")
    title_i18n = BilingualText("title")
    description_i18n = BilingualText("description")

    class Meta:
        verbose_name = _("questionnaire section")
        verbose_name_plural = _("questionnaire sections")
        ordering = ["questionnaire", "position", "pk"]

    def __str__(self) -> str:
        return str(self.title_i18n)

    def clean(self) -> None:
        require_text(self, "title")


class Question(models.Model):
    """One question. ``comment_below``: a rating under this value needs a comment (rating only).

    ``service`` / ``sla_target`` link what the question measures to the service catalogue and
    an SLA's service level target ("survey content must match the SLA"); ``service_ref`` /
    ``target_ref`` are free-text tags for what the catalogue does not hold.
    """

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions", verbose_name=_("questionnaire")
    )
    section = models.ForeignKey(
        QuestionnaireSection, on_delete=models.CASCADE, related_name="questions", verbose_name=_("section")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("type"), max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("question (Chinese)"), max_length=500, blank=True)
    text_en = models.CharField(_("question (English)"), max_length=500, blank=True)
    help_text = models.CharField(_("explanation (Chinese)"), max_length=500, blank=True)
    help_text_en = models.CharField(_("explanation (English)"), max_length=500, blank=True)
    required = models.BooleanField(_("answer required"), default=True)
    comment_below = models.PositiveSmallIntegerField(
        _("comment required below"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2), MaxValueValidator(5)],
        help_text=_("A rating lower than this needs a comment (rating questions only; empty: never)."),
    )
    service = models.ForeignKey(
        "sla.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_questions",
        verbose_name=_("service measured"),
    )
    sla_target = models.ForeignKey(
        "sla.ServiceLevelTarget",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_questions",
        limit_choices_to={"agreement__kind": "sla"},
        verbose_name=_("SLA target measured"),
    )
    service_ref = models.CharField(_("other service tag"), max_length=200, blank=True)
    target_ref = models.CharField(_("other target tag"), max_length=200, blank=True)

    TEXTS = ("text", "help_text")
    text_i18n = BilingualText("text")
    help_text_i18n = BilingualText("help_text")

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["questionnaire", "section__position", "section", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(comment_below__isnull=True) | Q(kind=QuestionKind.RATING),
                name="question_comment_below_rating_only",
            )
        ]

    def __str__(self) -> str:
        return str(self.text_i18n)

    def clean(self) -> None:
        require_text(self, "text")


class QuestionOption(models.Model):
    """A choice of a single- or multiple-choice question."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options", verbose_name=_("question"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    label = models.CharField(_("choice (Chinese)"), max_length=200, blank=True)
    label_en = models.CharField(_("choice (English)"), max_length=200, blank=True)

    TEXTS = ("label",)
    label_i18n = BilingualText("label")

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["question", "position", "pk"]

    def __str__(self) -> str:
        return str(self.label_i18n)

    def clean(self) -> None:
        require_text(self, "label")
