"""One customer's answers, as plain data: what the answer form produces and the service stores.

``AnswerInput`` is the shape shared by the public answer form, the preview and
``surveys.services.invitations.response_submit``. The validation rules (required questions,
ranges per type, choices belonging to the question, a comment under a low rating) live in
``answer_errors`` so the form and the service apply exactly the same ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from .bilingual import Bilingual, bilingual
from .choices import CHOICE_KINDS, NUMERIC_KINDS, QuestionKind

if TYPE_CHECKING:
    from .models import Questionnaire


@dataclass(frozen=True)
class AnswerInput:
    """The answer to one question. ``value``: rating 1–5, NPS 0–10, yes 1 / no 0;
    ``option_ids``: the chosen options (one for single choice); ``text``: free text;
    ``comment``: the remark under a rating."""

    question_id: int
    value: int | None = None
    option_ids: tuple[int, ...] = ()
    text: str = ""
    comment: str = ""

    @property
    def is_empty(self) -> bool:
        return self.value is None and not self.option_ids and not self.text.strip()


# --- the questionnaire as plain data -----------------------------------------------------------


# Every text below is a ``Bilingual``: shown, it is in the active language (the contact's on
# the public page, the viewer's elsewhere) with the other language as fallback.


@dataclass(frozen=True)
class OptionContent:
    """One choice of a single- or multiple-choice question."""

    id: int
    label: Bilingual
    position: int = 0

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True)
class QuestionContent:
    """One question as the form, the validation and the results read it."""

    id: int
    section_id: int
    kind: str
    text: Bilingual
    help_text: Bilingual = Bilingual()
    required: bool = True
    comment_below: int | None = None
    service_ref: str = ""
    target_ref: str = ""
    service_id: int | None = None
    sla_target_id: int | None = None
    service_label: str = ""
    target_label: str = ""
    position: int = 0
    options: tuple[OptionContent, ...] = ()

    @property
    def pk(self) -> int:
        return self.id

    @property
    def kind_label(self) -> str:
        return str(QuestionKind(self.kind).label)

    @property
    def option_ids(self) -> frozenset[int]:
        return frozenset(option.id for option in self.options)

    @property
    def is_rating(self) -> bool:
        return self.kind == QuestionKind.RATING

    @property
    def is_choice(self) -> bool:
        return self.kind in CHOICE_KINDS

    @property
    def texts(self) -> list[Bilingual]:
        """The question's own texts and its choices' labels (for the translation checks)."""
        return [self.text, self.help_text, *(option.label for option in self.options)]


@dataclass(frozen=True)
class SectionContent:
    id: int
    title: Bilingual
    description: Bilingual = Bilingual()
    position: int = 0
    questions: tuple[QuestionContent, ...] = ()

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True)
class QuestionnaireContent:
    """One questionnaire version's sections, questions and options, in order.

    Iterating it yields the sections (``for section in content``); ``questions`` lists every
    question in order and ``question(id)`` finds one. Built by ``questionnaire_content``.
    """

    id: int
    title: Bilingual
    introduction: Bilingual = Bilingual()
    thanks: Bilingual = Bilingual()
    version: int = 1
    sections: tuple[SectionContent, ...] = ()

    def __iter__(self) -> Iterator[SectionContent]:
        return iter(self.sections)

    def __len__(self) -> int:
        return len(self.sections)

    @property
    def questions(self) -> list[QuestionContent]:
        return [question for section in self.sections for question in section.questions]

    @cached_property
    def _by_id(self) -> dict[int, QuestionContent]:
        return {question.id: question for question in self.questions}

    def question(self, question_id: int) -> QuestionContent | None:
        return self._by_id.get(question_id)

    @property
    def texts(self) -> list[Bilingual]:
        """Every text of the questionnaire: its own, its sections', questions' and choices'."""
        own = [self.title, self.introduction, self.thanks]
        sections = [text for section in self.sections for text in (section.title, section.description)]
        return [*own, *sections, *(text for question in self.questions for text in question.texts)]


def _metric_label(metric: str | None) -> str:
    from sla.choices import Metric

    return str(Metric(metric).label) if metric in Metric.values else ""


def questionnaire_content(questionnaire: Questionnaire) -> QuestionnaireContent:
    """Load ``questionnaire``'s sections, questions and options in three queries, whatever
    their number, ordered by position (then id), every text in both languages. A question
    whose section belongs to another questionnaire is left out."""
    from .models import Question, QuestionnaireSection, QuestionOption

    sections = list(
        QuestionnaireSection.objects.filter(questionnaire_id=questionnaire.pk)
        .order_by("position", "pk")
        .values("id", "title", "title_en", "description", "description_en", "position")
    )
    questions = list(
        Question.objects.filter(questionnaire_id=questionnaire.pk)
        .order_by("position", "pk")
        .values(
            "id",
            "section_id",
            "kind",
            "text",
            "text_en",
            "help_text",
            "help_text_en",
            "required",
            "comment_below",
            "service_ref",
            "target_ref",
            "service_id",
            "sla_target_id",
            "service__code",
            "service__name",
            "sla_target__agreement__number",
            "sla_target__priority",
            "sla_target__metric",
            "position",
        )
    )
    options: dict[int, list[OptionContent]] = defaultdict(list)
    choice_ids = [row["id"] for row in questions if row["kind"] in CHOICE_KINDS]
    if choice_ids:
        for question_id, option_id, label, label_en, position in (
            QuestionOption.objects.filter(question_id__in=choice_ids)
            .order_by("position", "pk")
            .values_list("question_id", "id", "label", "label_en", "position")
        ):
            options[question_id].append(
                OptionContent(id=option_id, label=Bilingual(label, label_en), position=position)
            )
    by_section: dict[int, list[QuestionContent]] = defaultdict(list)
    for row in questions:
        fields: dict[str, Any] = dict(row)
        for name in ("text", "help_text"):
            fields[name] = bilingual(fields, name)
            del fields[f"{name}_en"]
        code, name = fields.pop("service__code"), fields.pop("service__name")
        number = fields.pop("sla_target__agreement__number")
        priority, metric = fields.pop("sla_target__priority"), fields.pop("sla_target__metric")
        fields["service_label"] = f"{code} {name}" if code else ""
        fields["target_label"] = " ".join(part for part in (number, priority, _metric_label(metric)) if part)
        by_section[row["section_id"]].append(QuestionContent(**fields, options=tuple(options.get(row["id"], ()))))
    return QuestionnaireContent(
        id=questionnaire.pk,
        title=questionnaire.title_i18n,
        introduction=questionnaire.introduction_i18n,
        thanks=questionnaire.thanks_i18n,
        version=questionnaire.version,
        sections=tuple(
            SectionContent(
                id=row["id"],
                title=bilingual(row, "title"),
                description=bilingual(row, "description"),
                position=row["position"],
                questions=tuple(by_section.get(row["id"], ())),
            )
            for row in sections
        ),
    )


# --- the rules ---------------------------------------------------------------------------------

MAX_TEXT_LENGTH = 4000
RATING_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)
YES_NO_VALUES = (0, 1)


@dataclass(frozen=True)
class AnswerProblem:
    """Why one answer is refused; ``on_comment``: the message is about the comment under a rating."""

    question_id: int
    message: str
    on_comment: bool = False


def _too_long(text: str) -> str:
    return _("Please shorten your answer to at most %(max)s characters (it has %(length)s).") % {
        "max": MAX_TEXT_LENGTH,
        "length": len(text),
    }


def _shape_ok(question: QuestionContent, answer: AnswerInput) -> bool:
    """Whether ``answer`` carries only the parts its question's kind uses."""
    kind = question.kind
    if kind in NUMERIC_KINDS:
        uses_value = answer.value is None or (isinstance(answer.value, int) and not isinstance(answer.value, bool))
        return (
            uses_value
            and not answer.option_ids
            and not answer.text
            and (kind == QuestionKind.RATING or not answer.comment)
        )
    if kind in CHOICE_KINDS:
        return (
            answer.value is None
            and not answer.text
            and not answer.comment
            and all(isinstance(option_id, int) for option_id in answer.option_ids)
        )
    # Free text.
    return answer.value is None and not answer.option_ids and not answer.comment


def _value_problem(question: QuestionContent, answer: AnswerInput) -> str | None:
    kind, value = question.kind, answer.value
    if kind == QuestionKind.RATING and value not in RATING_RANGE:
        return _("Choose a rating from 1 to 5.")
    if kind == QuestionKind.NPS and value not in NPS_RANGE:
        return _("Please choose a number from 0 to 10.")
    if kind == QuestionKind.YES_NO and value not in YES_NO_VALUES:
        return _("Please answer yes or no.")
    if kind in CHOICE_KINDS:
        chosen = answer.option_ids
        if len(set(chosen)) != len(chosen) or not set(chosen) <= question.option_ids:
            return _("Please choose from the answers shown.")
        if kind == QuestionKind.SINGLE and len(chosen) != 1:
            return _("Please choose one answer.")
    if kind == QuestionKind.TEXT and len(answer.text) > MAX_TEXT_LENGTH:
        return _too_long(answer.text)
    return None


def _answer_problems(question: QuestionContent, answer: AnswerInput) -> list[AnswerProblem]:
    qid = question.id
    if not _shape_ok(question, answer):
        return [AnswerProblem(qid, _("This answer does not fit the question."))]
    problems: list[AnswerProblem] = []
    comment = answer.comment.strip()
    if answer.is_empty:
        if comment:  # a remark under a rating, but no rating
            problems.append(AnswerProblem(qid, _("Please choose a rating to go with your comment.")))
        elif question.required:
            problems.append(AnswerProblem(qid, _("Please answer this question.")))
    else:
        message = _value_problem(question, answer)
        if message is not None:
            problems.append(AnswerProblem(qid, message))
        elif (
            question.kind == QuestionKind.RATING
            and question.comment_below is not None
            and answer.value is not None
            and answer.value < question.comment_below
            and not comment
        ):
            problems.append(
                AnswerProblem(
                    qid,
                    _("Please tell us what we should improve (required for a rating below %(n)s).")
                    % {"n": question.comment_below},
                    on_comment=True,
                )
            )
    if len(answer.comment) > MAX_TEXT_LENGTH:
        problems.append(AnswerProblem(qid, _too_long(answer.comment), on_comment=True))
    return problems


def answer_problems(content: QuestionnaireContent, inputs: Iterable[AnswerInput]) -> list[AnswerProblem]:
    """Every reason to refuse ``inputs`` as answers to ``content``, in question order.

    The complete rule set, shared by the answer form and ``response_submit``: each answer
    names a question of the questionnaire, once; it has the shape of its question's kind
    (a number for rating / NPS / yes-no, chosen options for choices, text for free text, a
    comment only under a rating); numbers are in range (rating 1–5, NPS 0–10, yes 1 / no 0);
    chosen options belong to the question and a single choice has exactly one; texts and
    comments have at most ``MAX_TEXT_LENGTH`` characters; required questions are answered;
    a rating below the question's ``comment_below`` has a comment. An unanswered optional
    question may be left out or sent empty.
    """
    given: dict[int, AnswerInput] = {}
    problems: list[AnswerProblem] = []
    for answer in inputs:
        question = content.question(answer.question_id)
        if question is None:
            problems.append(AnswerProblem(answer.question_id, _("This question is not part of this survey.")))
        elif answer.question_id in given:
            problems.append(AnswerProblem(answer.question_id, _("This question was answered more than once.")))
        else:
            given[answer.question_id] = answer
    for question in content.questions:
        problems.extend(_answer_problems(question, given.get(question.id, AnswerInput(question_id=question.id))))
    return problems


def answer_errors(content: QuestionnaireContent, inputs: Iterable[AnswerInput]) -> dict[int, list[str]]:
    """``answer_problems`` as messages keyed by question id (empty: the answers are accepted).

    Messages are translated into the active language and written for the customer.
    """
    errors: dict[int, list[str]] = {}
    for problem in answer_problems(content, inputs):
        messages = errors.setdefault(problem.question_id, [])
        if problem.message not in messages:
            messages.append(problem.message)
    return errors
