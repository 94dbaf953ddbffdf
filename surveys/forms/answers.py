"""The customer's answer form, built from a questionnaire's content.

``SurveyAnswerForm(content, data=None)`` has one field per question, named ``q<id>``, and a
``q<id>_comment`` remark under each rating. Every field is optional for Django: whether a
question must be answered, ranges, choices and the comment under a low rating are decided by
``surveys.answers.answer_problems`` — the same rules ``response_submit`` applies — and each
message is attached to its question's field (or its comment field). After ``is_valid()``,
``answer_inputs()`` gives the answers as ``AnswerInput``s (unanswered optional questions left
out). ``sections`` pairs the content with the bound fields for ``_survey_form.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..answers import (
    MAX_TEXT_LENGTH,
    NPS_RANGE,
    AnswerInput,
    QuestionContent,
    QuestionnaireContent,
    SectionContent,
    answer_problems,
)
from ..choices import QuestionKind

RATING_CHOICES = [
    (1, _("Very dissatisfied")),
    (2, _("Dissatisfied")),
    (3, _("Neutral")),
    (4, _("Satisfied")),
    (5, _("Very satisfied")),
]
YES_NO_CHOICES = [(1, _("Yes")), (0, _("No"))]
NOT_SHOWN = _("Please choose from the answers shown.")


def field_name(question_id: int) -> str:
    return f"q{question_id}"


def comment_name(question_id: int) -> str:
    return f"q{question_id}_comment"


def _text_widget(rows: int) -> forms.Textarea:
    # The length limit is a hint to the browser; the rule (and its message) is answer_problems'.
    return forms.Textarea(attrs={"rows": rows, "maxlength": MAX_TEXT_LENGTH, "class": "form-control"})


def _field_for(question: QuestionContent) -> forms.Field:
    common: dict[str, Any] = {"label": question.text, "help_text": question.help_text, "required": False}
    radio: dict[str, Any] = {"coerce": int, "empty_value": None, "widget": forms.RadioSelect}
    errors = {"invalid_choice": NOT_SHOWN}
    kind = question.kind
    if kind == QuestionKind.RATING:
        return forms.TypedChoiceField(choices=RATING_CHOICES, error_messages=errors, **radio, **common)
    if kind == QuestionKind.NPS:
        return forms.TypedChoiceField(
            choices=[(n, str(n)) for n in NPS_RANGE], error_messages=errors, **radio, **common
        )
    if kind == QuestionKind.YES_NO:
        return forms.TypedChoiceField(choices=YES_NO_CHOICES, error_messages=errors, **radio, **common)
    choices = [(option.id, option.label) for option in question.options]
    if kind == QuestionKind.SINGLE:
        return forms.TypedChoiceField(choices=choices, error_messages=errors, **radio, **common)
    if kind == QuestionKind.MULTIPLE:
        return forms.TypedMultipleChoiceField(
            choices=choices,
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"invalid_choice": NOT_SHOWN, "invalid_list": NOT_SHOWN},
            **common,
        )
    return forms.CharField(widget=_text_widget(4), **common)


@dataclass(frozen=True)
class QuestionRow:
    """One question with its bound fields, as the template renders it."""

    question: QuestionContent
    field: forms.BoundField
    comment: forms.BoundField | None

    @property
    def help_id(self) -> str:
        return f"{self.field.auto_id}_help"

    @property
    def error_id(self) -> str:
        return f"{self.field.auto_id}_error"

    @property
    def comment_error_id(self) -> str:
        return f"{self.comment.auto_id}_error" if self.comment is not None else ""

    @property
    def describedby(self) -> str:
        """The ids ``aria-describedby`` names: the help text and the question's errors."""
        ids = []
        if self.question.help_text:
            ids.append(self.help_id)
        if self.field.errors:
            ids.append(self.error_id)
        return " ".join(ids)


@dataclass(frozen=True)
class SectionRows:
    section: SectionContent
    rows: list[QuestionRow]


class SurveyAnswerForm(forms.Form):
    """One field per question of ``content`` (see the module docstring)."""

    def __init__(self, content: QuestionnaireContent, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.content = content
        self._inputs: list[AnswerInput] | None = None
        for question in content.questions:
            self.fields[field_name(question.id)] = _field_for(question)
            if question.kind == QuestionKind.RATING:
                self.fields[comment_name(question.id)] = forms.CharField(
                    label=_("Your comment"), required=False, widget=_text_widget(2)
                )

    @property
    def has_required(self) -> bool:
        return any(question.required for question in self.content.questions)

    @cached_property
    def sections(self) -> list[SectionRows]:
        """The content's sections (empty ones left out) with each question's bound fields."""
        return [
            SectionRows(
                section=section,
                rows=[
                    QuestionRow(
                        question=question,
                        field=self[field_name(question.id)],
                        comment=self[comment_name(question.id)] if question.kind == QuestionKind.RATING else None,
                    )
                    for question in section.questions
                ],
            )
            for section in self.content.sections
            if section.questions
        ]

    def _input_for(self, question: QuestionContent) -> AnswerInput | None:
        data = self.cleaned_data
        value = data.get(field_name(question.id))
        comment = data.get(comment_name(question.id)) or ""
        kind = question.kind
        if kind in (QuestionKind.RATING, QuestionKind.NPS, QuestionKind.YES_NO):
            answer = AnswerInput(question_id=question.id, value=value, comment=comment)
        elif kind == QuestionKind.SINGLE:
            answer = AnswerInput(question_id=question.id, option_ids=() if value is None else (value,))
        elif kind == QuestionKind.MULTIPLE:
            answer = AnswerInput(question_id=question.id, option_ids=tuple(value or ()))
        else:
            answer = AnswerInput(question_id=question.id, text=value or "")
        if answer.is_empty and not answer.comment.strip():
            return None  # not answered
        return answer

    def clean(self):
        cleaned = super().clean()
        refused = set(self.errors)  # a field's own error (a tampered choice) says enough
        inputs = [
            answer
            for question in self.content.questions
            if field_name(question.id) not in refused and (answer := self._input_for(question)) is not None
        ]
        for problem in answer_problems(self.content, inputs):
            name = field_name(problem.question_id)
            if name in refused:
                continue
            target = comment_name(problem.question_id) if problem.on_comment else name
            self.add_error(target, problem.message)
        self._inputs = inputs
        return cleaned

    def answer_inputs(self) -> list[AnswerInput]:
        """The answers, in question order; only after ``is_valid()`` returned True."""
        if not self.is_valid() or self._inputs is None:
            raise ValueError("answer_inputs() needs a valid form")
        return list(self._inputs)
