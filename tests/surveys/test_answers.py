"""The questionnaire's content as plain data, the answer rules (``answer_errors``) and the
customer's answer form built on them."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.utils import translation

from surveys.answers import MAX_TEXT_LENGTH, AnswerInput, answer_errors, questionnaire_content
from surveys.choices import QuestionKind
from surveys.forms.answers import SurveyAnswerForm
from tests.surveys.factories import OptionFactory, QuestionFactory, QuestionnaireFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages compared in English (the default language is Chinese)."""
    with translation.override("en"):
        yield


REQUIRED = "Please answer this question."
SHAPE = "This answer does not fit the question."
NOT_SHOWN = "Please choose from the answers shown."


@pytest.fixture
def survey():
    """One question of each kind; the rating needs a comment below 3; free text is optional."""
    questionnaire = QuestionnaireFactory(introduction="Dear customer", thanks="Thank you")
    first = SectionFactory(questionnaire=questionnaire, position=0, title="The service desk")
    second = SectionFactory(questionnaire=questionnaire, position=1, title="Overall")
    SectionFactory(questionnaire=questionnaire, position=2, title="Empty")
    q = {
        "rating": QuestionFactory(section=first, position=0, kind=QuestionKind.RATING, comment_below=3),
        "nps": QuestionFactory(section=second, position=1, kind=QuestionKind.NPS),
        "single": QuestionFactory(section=first, position=1, kind=QuestionKind.SINGLE),
        "multiple": QuestionFactory(section=first, position=2, kind=QuestionKind.MULTIPLE),
        "yes_no": QuestionFactory(section=second, position=0, kind=QuestionKind.YES_NO),
        "text": QuestionFactory(section=second, position=2, kind=QuestionKind.TEXT, required=False),
    }
    options = {
        name: [OptionFactory(question=q[name], position=n, label=f"{name} {n}") for n in (1, 0, 2)]
        for name in ("single", "multiple")
    }
    return questionnaire, q, options


def _valid(q, options) -> list[AnswerInput]:
    return [
        AnswerInput(question_id=q["rating"].pk, value=4),
        AnswerInput(question_id=q["nps"].pk, value=9),
        AnswerInput(question_id=q["single"].pk, option_ids=(options["single"][0].pk,)),
        AnswerInput(question_id=q["multiple"].pk, option_ids=(options["multiple"][0].pk, options["multiple"][2].pk)),
        AnswerInput(question_id=q["yes_no"].pk, value=0),
    ]


def _replace(inputs: list[AnswerInput], answer: AnswerInput) -> list[AnswerInput]:
    return [answer if a.question_id == answer.question_id else a for a in inputs]


# --- the content -------------------------------------------------------------------------------


def test_content_in_order_in_three_queries(survey, django_assert_num_queries):
    questionnaire, q, options = survey
    with django_assert_num_queries(3):
        content = questionnaire_content(questionnaire)
    texts = (content.title, content.introduction, content.thanks)
    assert [str(text) for text in texts] == [questionnaire.title, "Dear customer", "Thank you"]
    assert [str(s.title) for s in content] == ["The service desk", "Overall", "Empty"]
    assert [question.id for question in content.questions] == [
        q["rating"].pk,
        q["single"].pk,
        q["multiple"].pk,
        q["yes_no"].pk,
        q["nps"].pk,
        q["text"].pk,
    ]
    single = content.question(q["single"].pk)
    assert [str(o.label) for o in single.options] == ["single 0", "single 1", "single 2"]
    assert single.option_ids == {o.pk for o in options["single"]}
    assert content.question(q["rating"].pk).comment_below == 3
    assert content.question(q["text"].pk).required is False
    assert content.question(-1) is None


def test_content_queries_do_not_grow(django_assert_num_queries):
    questionnaire = QuestionnaireFactory()
    for _ in range(4):
        section = SectionFactory(questionnaire=questionnaire)
        for _ in range(5):
            OptionFactory.create_batch(4, question=QuestionFactory(section=section, kind=QuestionKind.MULTIPLE))
    with django_assert_num_queries(3):
        content = questionnaire_content(questionnaire)
    assert len(content.questions) == 20 and all(len(question.options) == 4 for question in content.questions)


# --- answer_errors -----------------------------------------------------------------------------


def test_valid_answers_have_no_errors(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    assert answer_errors(content, _valid(q, options)) == {}
    # The optional text, a comment under a good rating, an empty answer to an optional question.
    extra = [
        *_replace(_valid(q, options), AnswerInput(question_id=q["rating"].pk, value=5, comment="Great")),
        AnswerInput(question_id=q["text"].pk, text="x" * MAX_TEXT_LENGTH),
    ]
    assert answer_errors(content, extra) == {}
    assert answer_errors(content, [*_valid(q, options), AnswerInput(question_id=q["text"].pk)]) == {}


def test_required_questions_must_be_answered(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    errors = answer_errors(content, [])
    assert set(errors) == {q[k].pk for k in ("rating", "nps", "single", "multiple", "yes_no")}
    assert all(messages == [REQUIRED] for messages in errors.values())
    blank = [AnswerInput(question_id=q["single"].pk), AnswerInput(question_id=q["multiple"].pk, option_ids=())]
    assert set(answer_errors(content, blank)) >= {q["single"].pk, q["multiple"].pk}
    required_text = QuestionFactory(section=questionnaire.sections.first(), kind=QuestionKind.TEXT)
    content = questionnaire_content(questionnaire)
    errors = answer_errors(content, [*_valid(q, options), AnswerInput(question_id=required_text.pk, text="   ")])
    assert errors == {required_text.pk: [REQUIRED]}


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("rating", 0, "Choose a rating from 1 to 5."),
        ("rating", 6, "Choose a rating from 1 to 5."),
        ("rating", -1, "Choose a rating from 1 to 5."),
        ("nps", 11, "Please choose a number from 0 to 10."),
        ("nps", -1, "Please choose a number from 0 to 10."),
        ("yes_no", 2, "Please answer yes or no."),
    ],
)
def test_numbers_out_of_range(survey, kind, value, message):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    inputs = _replace(_valid(q, options), AnswerInput(question_id=q[kind].pk, value=value))
    assert answer_errors(content, inputs) == {q[kind].pk: [message]}


@pytest.mark.parametrize(("kind", "value"), [("rating", 1), ("rating", 5), ("nps", 0), ("nps", 10), ("yes_no", 1)])
def test_numbers_at_the_edges(survey, kind, value):
    questionnaire, q, options = survey
    inputs = _replace(_valid(q, options), AnswerInput(question_id=q[kind].pk, value=value, comment="Because"))
    assert answer_errors(questionnaire_content(questionnaire), inputs) == (
        {} if kind == "rating" else {q[kind].pk: [SHAPE]}  # a comment only under a rating
    )


def test_choices(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    foreign = OptionFactory()  # another question's choice
    single, multiple = q["single"].pk, q["multiple"].pk
    own = [o.pk for o in options["single"]]
    cases = {
        AnswerInput(question_id=single, option_ids=(own[0], own[1])): "Please choose one answer.",
        AnswerInput(question_id=single, option_ids=(foreign.pk,)): NOT_SHOWN,
        AnswerInput(question_id=single, option_ids=(options["multiple"][0].pk,)): NOT_SHOWN,
        AnswerInput(question_id=multiple, option_ids=(options["multiple"][0].pk, foreign.pk)): NOT_SHOWN,
        AnswerInput(question_id=multiple, option_ids=(options["multiple"][0].pk,) * 2): NOT_SHOWN,
    }
    for answer, message in cases.items():
        assert answer_errors(content, _replace(_valid(q, options), answer)) == {answer.question_id: [message]}
    every = AnswerInput(question_id=multiple, option_ids=tuple(o.pk for o in options["multiple"]))
    assert answer_errors(content, _replace(_valid(q, options), every)) == {}


def test_text_length(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    long_text = AnswerInput(question_id=q["text"].pk, text="x" * (MAX_TEXT_LENGTH + 1))
    errors = answer_errors(content, [*_valid(q, options), long_text])
    assert list(errors) == [q["text"].pk] and "at most 4000 characters" in errors[q["text"].pk][0]
    long_comment = AnswerInput(question_id=q["rating"].pk, value=5, comment="x" * (MAX_TEXT_LENGTH + 1))
    errors = answer_errors(content, _replace(_valid(q, options), long_comment))
    assert list(errors) == [q["rating"].pk] and "at most 4000 characters" in errors[q["rating"].pk][0]


def test_comment_below_a_low_rating(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    rating = q["rating"].pk
    needs = "Please tell us what we should improve (required for a rating below 3)."
    for value, comment, expected in [
        (2, "", {rating: [needs]}),
        (1, "   ", {rating: [needs]}),
        (2, "The phone queue is long", {}),
        (3, "", {}),
        (5, "", {}),
    ]:
        inputs = _replace(_valid(q, options), AnswerInput(question_id=rating, value=value, comment=comment))
        assert answer_errors(content, inputs) == expected, (value, comment)
    only_comment = _replace(_valid(q, options), AnswerInput(question_id=rating, comment="Hm"))
    assert answer_errors(content, only_comment) == {rating: ["Please choose a rating to go with your comment."]}


def test_unknown_duplicate_and_wrongly_shaped_answers(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    other = QuestionFactory()  # a question of another questionnaire
    valid = _valid(q, options)
    assert answer_errors(content, [*valid, AnswerInput(question_id=other.pk, value=3)]) == {
        other.pk: ["This question is not part of this survey."]
    }
    assert answer_errors(content, [*valid, AnswerInput(question_id=q["nps"].pk, value=3)]) == {
        q["nps"].pk: ["This question was answered more than once."]
    }
    single_option = (options["single"][0].pk,)
    wrong = [
        AnswerInput(question_id=q["rating"].pk, value=4, text="four"),
        AnswerInput(question_id=q["rating"].pk, value=4, option_ids=single_option),
        AnswerInput(question_id=q["nps"].pk, value=True),
        AnswerInput(question_id=q["nps"].pk, value="9"),  # type: ignore[arg-type]
        AnswerInput(question_id=q["yes_no"].pk, value=1, comment="yes"),
        AnswerInput(question_id=q["single"].pk, value=1, option_ids=single_option),
        AnswerInput(question_id=q["single"].pk, option_ids=single_option, text="other"),
        AnswerInput(question_id=q["multiple"].pk, option_ids=("1",)),  # type: ignore[arg-type]
        AnswerInput(question_id=q["text"].pk, text="Fine", value=3),
        AnswerInput(question_id=q["text"].pk, text="Fine", comment="also"),
        AnswerInput(question_id=q["text"].pk, option_ids=single_option),
    ]
    for answer in wrong:
        errors = answer_errors(
            content, _replace(valid, answer) if answer.question_id != q["text"].pk else [*valid, answer]
        )
        assert errors == {answer.question_id: [SHAPE]}, answer


def test_messages_are_translated(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    inputs = _replace(_valid(q, options), AnswerInput(question_id=q["rating"].pk, value=9))
    with translation.override("zh-hans"):
        errors = answer_errors(content, inputs)
    assert errors[q["rating"].pk] != ["Choose a rating from 1 to 5."]


# --- the answer form ---------------------------------------------------------------------------


def _post(q, options, **overrides) -> dict:
    data = {
        f"q{q['rating'].pk}": "4",
        f"q{q['nps'].pk}": "9",
        f"q{q['single'].pk}": str(options["single"][0].pk),
        f"q{q['multiple'].pk}": [str(options["multiple"][0].pk), str(options["multiple"][2].pk)],
        f"q{q['yes_no'].pk}": "0",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_form_fields_one_per_question(survey):
    questionnaire, q, options = survey
    form = SurveyAnswerForm(questionnaire_content(questionnaire))
    names = list(form.fields)
    assert f"q{q['rating'].pk}_comment" in names and f"q{q['nps'].pk}_comment" not in names
    assert len(names) == 7
    assert [value for value, _label in form.fields[f"q{q['rating'].pk}"].choices] == [1, 2, 3, 4, 5]
    assert [value for value, _label in form.fields[f"q{q['nps'].pk}"].choices] == list(range(11))
    assert [value for value, _label in form.fields[f"q{q['single'].pk}"].choices] == [
        o.pk for o in sorted(options["single"], key=lambda o: o.position)
    ]
    assert [str(group.section.title) for group in form.sections] == ["The service desk", "Overall"]  # no empty one


def test_form_valid_gives_answer_inputs(survey):
    questionnaire, q, options = survey
    form = SurveyAnswerForm(
        questionnaire_content(questionnaire),
        _post(q, options, **{f"q{q['rating'].pk}_comment": "  Fine  ", f"q{q['text'].pk}": ""}),
    )
    assert form.is_valid(), form.errors
    assert form.answer_inputs() == [
        AnswerInput(question_id=q["rating"].pk, value=4, comment="Fine"),
        AnswerInput(question_id=q["single"].pk, option_ids=(options["single"][0].pk,)),
        AnswerInput(question_id=q["multiple"].pk, option_ids=(options["multiple"][0].pk, options["multiple"][2].pk)),
        AnswerInput(question_id=q["yes_no"].pk, value=0),
        AnswerInput(question_id=q["nps"].pk, value=9),
    ]  # the unanswered optional text question gives no input
    assert answer_errors(form.content, form.answer_inputs()) == {}


def test_form_errors_are_attached_to_their_question(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    form = SurveyAnswerForm(content, _post(q, options, **{f"q{q['nps'].pk}": None, f"q{q['yes_no'].pk}": None}))
    assert not form.is_valid()
    assert form.errors == {f"q{q['nps'].pk}": [REQUIRED], f"q{q['yes_no'].pk}": [REQUIRED]}
    with pytest.raises(ValueError):
        form.answer_inputs()
    form = SurveyAnswerForm(content, {})
    assert not form.is_valid() and len(form.errors) == 5


def test_form_comment_below_rule_on_the_comment_field(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    rating = f"q{q['rating'].pk}"
    form = SurveyAnswerForm(content, _post(q, options, **{rating: "2"}))
    assert not form.is_valid()
    assert form.errors == {
        f"{rating}_comment": ["Please tell us what we should improve (required for a rating below 3)."]
    }
    form = SurveyAnswerForm(content, _post(q, options, **{rating: "2", f"{rating}_comment": "Too slow"}))
    assert form.is_valid()
    form = SurveyAnswerForm(content, _post(q, options, **{rating: None, f"{rating}_comment": "Too slow"}))
    assert not form.is_valid()
    assert form.errors == {rating: ["Please choose a rating to go with your comment."]}


@pytest.mark.parametrize(
    ("name", "value"),
    [("rating", "7"), ("nps", "eleven"), ("yes_no", "2"), ("single", "999999"), ("multiple", ["999999"])],
)
def test_form_refuses_values_not_offered_once(survey, name, value):
    questionnaire, q, options = survey
    form = SurveyAnswerForm(questionnaire_content(questionnaire), _post(q, options, **{f"q{q[name].pk}": value}))
    assert not form.is_valid()
    assert form.errors == {f"q{q[name].pk}": [NOT_SHOWN]}


def test_form_text_too_long_and_single_choice(survey):
    questionnaire, q, options = survey
    content = questionnaire_content(questionnaire)
    form = SurveyAnswerForm(content, _post(q, options, **{f"q{q['text'].pk}": "x" * (MAX_TEXT_LENGTH + 1)}))
    assert not form.is_valid()
    assert list(form.errors) == [f"q{q['text'].pk}"]
    # A radio button posts one value; of two values for a single choice the last one counts.
    data = QueryDict(mutable=True)
    for key, value in _post(q, options, **{f"q{q['single'].pk}": [str(o.pk) for o in options["single"][:2]]}).items():
        data.setlist(key, value if isinstance(value, list) else [value])
    form = SurveyAnswerForm(content, data)
    assert form.is_valid()
    assert AnswerInput(question_id=q["single"].pk, option_ids=(options["single"][1].pk,)) in form.answer_inputs()
