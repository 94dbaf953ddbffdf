"""Forms of the questionnaire builder. They parse; ``services.questionnaires`` validates the
whole row and writes it.

The forms take labels, help texts, widgets and field-level checks from the models
(``ModelForm``) but never build or validate an instance: the service does (``full_clean``),
and its ``ValidationError`` is shown next to the fields by the view.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core.forms import BootstrapFormMixin

from .models import Question, Questionnaire, QuestionnaireSection


class _ParseOnlyModelForm(BootstrapFormMixin, forms.ModelForm):
    def _post_clean(self) -> None:
        # The service validates and saves; the instance stays untouched when it refuses.
        pass


class QuestionnaireForm(_ParseOnlyModelForm):
    class Meta:
        model = Questionnaire
        fields = ["title", "introduction", "thanks"]
        widgets = {
            "introduction": forms.Textarea(attrs={"rows": 3}),
            "thanks": forms.Textarea(attrs={"rows": 2}),
        }


class SectionForm(_ParseOnlyModelForm):
    class Meta:
        model = QuestionnaireSection
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


SERVICE_FIELDS = (
    "kind",
    "text",
    "help_text",
    "required",
    "comment_below",
    "service",
    "sla_target",
    "service_ref",
    "target_ref",
    "options",
)


class QuestionForm(_ParseOnlyModelForm):
    comment_below = forms.TypedChoiceField(
        label=Question._meta.get_field("comment_below").verbose_name,
        help_text=Question._meta.get_field("comment_below").help_text,
        choices=[("", _("never")), *[(n, str(n)) for n in range(2, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    options = forms.CharField(
        label=_("choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Single and multiple choice only: one choice per line, at least two, at most 30."),
    )

    class Meta:
        model = Question
        fields = [name for name in SERVICE_FIELDS if name != "options"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "options" not in self.initial:
            self.initial["options"] = "\n".join(option.label for option in self.instance.options.all())

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]

    def service_fields(self) -> dict:
        """The cleaned data as ``question_create`` / ``question_update`` take it."""
        return {name: self.cleaned_data[name] for name in SERVICE_FIELDS}
