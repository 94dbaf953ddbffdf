"""Forms of the results pages: the free-text filter, improvement items and their list filter.

They parse and validate input; ``surveys.services.improvements`` checks the rules (campaign
status, the question's questionnaire) and does the writes.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers
from itsm.core.forms import BootstrapFormMixin
from itsm.core.pickers import PickerField

from ..choices import ImprovementPriority, ImprovementStatus, QuestionKind
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


class ImprovementItemForm(BootstrapFormMixin, forms.Form):
    """Propose an improvement item; the question choices are the campaign's questionnaire's."""

    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    priority = forms.ChoiceField(
        label=_("priority"), choices=ImprovementPriority.choices, initial=ImprovementPriority.MEDIUM
    )
    question = QuestionChoiceField(label=_("source question"), queryset=Question.objects.none(), required=False)
    owner = PickerField(pickers.users, {"active": "1"}, label=_("owner"), required=False)

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        _question_field(self).queryset = campaign_question_queryset(campaign)


class ImprovementItemEditForm(ImprovementItemForm):
    """Editing also moves the status and names the improvement plan."""

    status = forms.ChoiceField(label=_("status"), choices=ImprovementStatus.choices)
    plan_ref = forms.CharField(
        label=_("improvement plan"),
        max_length=100,
        required=False,
        help_text=_("The service improvement plan this item became or joined."),
    )

    field_order = ["title", "description", "priority", "status", "plan_ref", "question", "owner"]


class ImprovementFilterForm(BootstrapFormMixin, forms.Form):
    priority = forms.ChoiceField(
        label=_("priority"), required=False, choices=[("", _("any")), *ImprovementPriority.choices]
    )
    status = forms.ChoiceField(label=_("status"), required=False, choices=[("", _("any")), *ImprovementStatus.choices])
