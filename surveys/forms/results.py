"""Forms of the results pages: the free-text filter, improvement items and their list filter.

They parse and validate input; ``surveys.services.improvements`` checks the rules (campaign
status, the question's questionnaire) and does the writes.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core.forms import BootstrapFormMixin

from ..choices import QuestionKind
from ..models import Campaign, Question


class QuestionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.text


def campaign_question_queryset(campaign: Campaign):
    """The questions of the campaign's questionnaire, in questionnaire order."""
    return Question.objects.filter(questionnaire_id=campaign.questionnaire_id).order_by(
        "section__position", "section_id", "position", "pk"
    )


def _question_field(form: forms.Form) -> QuestionChoiceField:
    return cast(QuestionChoiceField, form.fields["question"])


class FreeTextFilterForm(BootstrapFormMixin, forms.Form):
    """Which question's free text (answers to text questions, comments under ratings)."""

    question = QuestionChoiceField(label=_("question"), queryset=Question.objects.none(), required=False)

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        field = _question_field(self)
        field.queryset = campaign_question_queryset(campaign).filter(kind__in=[QuestionKind.TEXT, QuestionKind.RATING])
        field.empty_label = _("All questions")
