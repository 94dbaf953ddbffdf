"""Forms of the questionnaire builder. They parse; ``services.questionnaires`` validates the
whole row and writes it.

The forms take labels, help texts, widgets and field-level checks from the models
(``ModelForm``) but never build or validate an instance: the service does (``full_clean``),
and its ``ValidationError`` is shown next to the fields by the view.

Every text has a Chinese and an English input; ``layout()`` pairs them so the template
(``surveys/_bilingual_form.html``) shows the two side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core.forms import BootstrapFormMixin
from itsm.core.pickers import use_picker
from sla import pickers as sla_pickers

from ..bilingual import EN_SUFFIX, columns
from ..models import Question, Questionnaire, QuestionnaireSection


@dataclass(frozen=True)
class LayoutRow:
    """One line of a form: a text's Chinese and English fields (``en`` set), or one field."""

    field: forms.BoundField
    en: forms.BoundField | None = None


class _ParseOnlyModelForm(BootstrapFormMixin, forms.ModelForm):
    def _post_clean(self) -> None:
        # The service validates and saves; the instance stays untouched when it refuses.
        pass

    def layout(self) -> list[LayoutRow]:
        """The visible fields in order, each text's two languages on one row."""
        rows = []
        for name in self.fields:
            if name.endswith(EN_SUFFIX) and name.removesuffix(EN_SUFFIX) in self.fields:
                continue  # shown beside its Chinese twin
            twin = f"{name}{EN_SUFFIX}"
            rows.append(LayoutRow(self[name], self[twin] if twin in self.fields else None))
        return rows


def _texts(rows: int, *names: str) -> dict[str, forms.Widget]:
    return {name: forms.Textarea(attrs={"rows": rows}) for name in columns(list(names))}


class QuestionnaireForm(_ParseOnlyModelForm):
    class Meta:
        model = Questionnaire
        fields = columns(Questionnaire.TEXTS)
        widgets = {**_texts(3, "introduction"), **_texts(2, "thanks")}


class SectionForm(_ParseOnlyModelForm):
    class Meta:
        model = QuestionnaireSection
        fields = columns(QuestionnaireSection.TEXTS)
        widgets = _texts(2, "description")


SERVICE_FIELDS = (
    "kind",
    *columns(Question.TEXTS),
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
    # One choice per line in each language; line n of one box is the translation of line n of
    # the other (wrap="off": a long label stays on its line, so the boxes line up).
    options = forms.CharField(
        label=_("choices (Chinese)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "wrap": "off"}),
        help_text=_("Single and multiple choice only: one choice per line, at least two, at most 30."),
    )
    options_en = forms.CharField(
        label=_("choices (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "wrap": "off"}),
        help_text=_(
            "The same choices in the same order, one per line; leave a line empty where a translation is missing."
        ),
    )

    class Meta:
        model = Question
        fields = [name for name in SERVICE_FIELDS if name != "options"]
        widgets = _texts(2, "text")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Type-ahead, never a full list; a target is offered with its agreement's number, and
        # once a service is chosen only the targets of agreements covering it.
        use_picker(self.fields["service"], sla_pickers.services, {"current": 1})
        use_picker(
            self.fields["sla_target"],
            sla_pickers.targets,
            {"kind": "sla"},
            depends={"service": f"id_{self.add_prefix('service')}"},
        )
        self.fields["sla_target"].label_from_instance = lambda target: sla_pickers.targets.label(target)
        if self.instance.pk is not None and "options" not in self.initial:
            options = list(self.instance.options.order_by("position", "pk"))
            self.initial["options"] = "\n".join(option.label for option in options)
            self.initial["options_en"] = "\n".join(option.label_en for option in options)

    def clean(self):
        cleaned = super().clean()
        lines = zip_longest(
            cleaned.get("options", "").splitlines(), cleaned.get("options_en", "").splitlines(), fillvalue=""
        )
        cleaned["options"] = [(zh_hans.strip(), en.strip()) for zh_hans, en in lines if zh_hans.strip() or en.strip()]
        return cleaned

    def service_fields(self) -> dict:
        """The cleaned data as ``question_create`` / ``question_update`` take it (``options``:
        ``(Chinese, English)`` pairs)."""
        return {name: self.cleaned_data[name] for name in SERVICE_FIELDS}
