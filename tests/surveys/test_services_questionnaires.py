"""Questionnaire services: every write, its refusals (a version in use above all), new versions,
reordering and the replacement of choices."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from surveys.choices import QuestionKind
from surveys.models import Question, Questionnaire, QuestionnaireSection, QuestionOption
from surveys.services.questionnaires import (
    question_create,
    question_delete,
    question_move,
    question_update,
    questionnaire_check_ready,
    questionnaire_create,
    questionnaire_lock,
    questionnaire_new_version,
    questionnaire_update,
    section_create,
    section_delete,
    section_move,
    section_update,
)
from tests.surveys.factories import OptionFactory, QuestionFactory, QuestionnaireFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """These tests read the English messages."""
    with translation.override("en"):
        yield


LOCKED = "in use by a campaign"
EDIT_MODELS = (Questionnaire, QuestionnaireSection, Question, QuestionOption)


@pytest.fixture
def owner(make_user):
    return make_user(Role.SATISFACTION_OWNER)


def _labels(question: Question) -> list[str]:
    return list(question.options.order_by("position").values_list("label", flat=True))


def _texts(section: QuestionnaireSection) -> list[str]:
    return list(Question.objects.filter(section=section).order_by("position", "pk").values_list("text", flat=True))


def _locked_questionnaire():
    questionnaire = QuestionnaireFactory(locked_at=timezone.now())
    section = SectionFactory(questionnaire=questionnaire)
    question = QuestionFactory(section=section, kind=QuestionKind.SINGLE)
    OptionFactory(question=question, label="A")
    OptionFactory(question=question, label="B")
    return questionnaire, section, question


# --- questionnaires ----------------------------------------------------------------------------


def test_create_starts_version_one_of_a_new_family(owner):
    first = questionnaire_create(title="Half-yearly survey", introduction="Dear customer", actor=owner)
    second = questionnaire_create(title="Project survey", actor=owner)
    assert (first.version, first.locked_at, first.created_by) == (1, None, owner)
    assert first.family != second.family
    assert LogEntry.objects.get_for_object(first).get().actor == owner


def test_create_refuses_a_blank_title_and_a_role_without_permission(owner, make_user):
    with assert_nothing_written(Questionnaire), pytest.raises(ValidationError) as caught:
        questionnaire_create(title="", actor=owner)
    assert "title" in caught.value.message_dict
    for role in (Role.SERVICE_DESK, Role.AUDITOR):
        actor = make_user(role)
        with assert_nothing_written(Questionnaire), pytest.raises(PermissionDenied):
            questionnaire_create(title="Survey", actor=actor)


def test_update_changes_texts(owner):
    questionnaire = QuestionnaireFactory()
    updated = questionnaire_update(questionnaire=questionnaire, actor=owner, title="New title", thanks="Thanks!")
    questionnaire.refresh_from_db()
    assert (updated.title, questionnaire.title, questionnaire.thanks) == ("New title", "New title", "Thanks!")
    with pytest.raises(ValidationError) as caught:
        questionnaire_update(questionnaire=questionnaire, actor=owner, title="x" * 201)
    assert "title" in caught.value.message_dict
    with pytest.raises(TypeError):
        questionnaire_update(questionnaire=questionnaire, actor=owner, locked_at=timezone.now())


def test_lock_is_set_once(owner):
    questionnaire = QuestionnaireFactory()
    questionnaire_lock(questionnaire=questionnaire)
    first = questionnaire.locked_at
    assert first is not None
    questionnaire_lock(questionnaire=questionnaire)
    questionnaire.refresh_from_db()
    assert questionnaire.locked_at == first
    stale = Questionnaire.objects.get(pk=questionnaire.pk)
    stale.locked_at = None  # a stale copy: the row is re-read
    assert questionnaire_lock(questionnaire=stale).locked_at == first


def test_every_edit_is_refused_on_a_version_in_use(owner):
    questionnaire, section, question = _locked_questionnaire()
    # The copies the caller holds may be stale: the service re-reads the row under a lock.
    stale = Questionnaire.objects.get(pk=questionnaire.pk)
    stale.locked_at = None
    edits = [
        lambda: questionnaire_update(questionnaire=stale, actor=owner, title="Changed"),
        lambda: section_create(questionnaire=stale, title="More", actor=owner),
        lambda: section_update(section=section, actor=owner, title="Changed"),
        lambda: section_delete(section=section, actor=owner),
        lambda: section_move(section=section, direction="down", actor=owner),
        lambda: question_create(section=section, kind=QuestionKind.TEXT, text="Anything else?", actor=owner),
        lambda: question_update(question=question, actor=owner, text="Changed", options=["A", "B", "C"]),
        lambda: question_delete(question=question, actor=owner),
        lambda: question_move(question=question, direction="up", actor=owner),
    ]
    for edit in edits:
        with assert_nothing_written(*EDIT_MODELS), pytest.raises(ValidationError) as caught:
            edit()
        assert LOCKED in caught.value.messages[0]
        assert "make a new version" in caught.value.messages[0]
    question.refresh_from_db()
    assert question.text != "Changed"


def test_edits_need_the_role(make_user):
    questionnaire = QuestionnaireFactory()
    section = SectionFactory(questionnaire=questionnaire)
    question = QuestionFactory(section=section)
    desk = make_user(Role.SERVICE_DESK)
    viewer = make_user(Role.BR_MANAGER)
    for actor in (desk, viewer):
        for edit in (
            lambda a: questionnaire_update(questionnaire=questionnaire, actor=a, title="x"),
            lambda a: section_create(questionnaire=questionnaire, title="x", actor=a),
            lambda a: section_delete(section=section, actor=a),
            lambda a: question_create(section=section, kind="text", text="x", actor=a),
            lambda a: question_update(question=question, actor=a, text="x"),
            lambda a: question_move(question=question, direction="up", actor=a),
            lambda a: question_delete(question=question, actor=a),
        ):
            with assert_nothing_written(*EDIT_MODELS), pytest.raises(PermissionDenied):
                edit(actor)


# --- sections ----------------------------------------------------------------------------------


def test_sections_are_added_at_the_end_edited_and_deleted(owner):
    questionnaire = QuestionnaireFactory()
    first = section_create(questionnaire=questionnaire, title="Service desk", actor=owner)
    second = section_create(questionnaire=questionnaire, title="On-site support", description="Visits", actor=owner)
    third = section_create(questionnaire=questionnaire, title="Overall", actor=owner)
    assert [first.position, second.position, third.position] == [0, 1, 2]
    section_update(section=second, actor=owner, title="On-site", description="")
    second.refresh_from_db()
    assert (second.title, second.description) == ("On-site", "")
    with pytest.raises(ValidationError) as caught:
        section_update(section=second, actor=owner, title="")
    assert "title" in caught.value.message_dict
    QuestionFactory(section=second)
    section_delete(section=second, actor=owner)
    assert not Question.objects.filter(section_id=second.pk).exists()
    assert list(questionnaire.sections.order_by("position").values_list("title", "position")) == [
        ("Service desk", 0),
        ("Overall", 1),
    ]


def test_section_move_swaps_and_stops_at_the_edges(owner):
    questionnaire = QuestionnaireFactory()
    a, b, c = (section_create(questionnaire=questionnaire, title=t, actor=owner) for t in "ABC")

    def order():
        return list(questionnaire.sections.order_by("position", "pk").values_list("title", flat=True))

    assert section_move(section=c, direction="up", actor=owner) is True
    assert order() == ["A", "C", "B"]
    assert section_move(section=a, direction="up", actor=owner) is False
    assert section_move(section=b, direction="down", actor=owner) is False
    assert order() == ["A", "C", "B"]
    assert section_move(section=a, direction="down", actor=owner) is True
    assert order() == ["C", "A", "B"]
    with pytest.raises(ValidationError):
        section_move(section=a, direction="sideways", actor=owner)


# --- questions ---------------------------------------------------------------------------------


def test_question_create_with_everything(owner):
    section = SectionFactory()
    rating = question_create(
        section=section,
        kind=QuestionKind.RATING,
        text="How satisfied are you with the service desk?",
        help_text="Think of the last three months.",
        comment_below=3,
        service_ref="Service desk",
        target_ref="First-call resolution ≥ 70%",
        actor=owner,
    )
    choice = question_create(
        section=section,
        kind=QuestionKind.MULTIPLE,
        text="Which channels do you use?",
        required=False,
        options=[" Phone ", "Email", "", "  ", "Portal"],
        actor=owner,
    )
    assert (rating.questionnaire_id, rating.position, choice.position) == (section.questionnaire_id, 0, 1)
    rating.refresh_from_db()
    assert (rating.comment_below, rating.service_ref, rating.target_ref) == (
        3,
        "Service desk",
        "First-call resolution ≥ 70%",
    )
    assert _labels(choice) == ["Phone", "Email", "Portal"]
    assert list(choice.options.order_by("position").values_list("position", flat=True)) == [0, 1, 2]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": QuestionKind.SINGLE, "options": ["Only one"]}, "options"),
        ({"kind": QuestionKind.SINGLE, "options": []}, "options"),
        ({"kind": QuestionKind.MULTIPLE, "options": ["Yes", "yes "]}, "options"),
        ({"kind": QuestionKind.SINGLE, "options": [f"Choice {n}" for n in range(31)]}, "options"),
        ({"kind": QuestionKind.SINGLE, "options": ["a" * 201, "b"]}, "options"),
        ({"kind": QuestionKind.RATING, "options": ["A", "B"]}, "options"),
        ({"kind": QuestionKind.NPS, "comment_below": 3}, "comment_below"),
        ({"kind": QuestionKind.RATING, "comment_below": 6}, "comment_below"),
        ({"kind": QuestionKind.RATING, "comment_below": 1}, "comment_below"),
        ({"kind": "slider"}, "kind"),
        ({"kind": QuestionKind.TEXT, "text": ""}, "text"),
        ({"kind": QuestionKind.TEXT, "text": "x" * 501}, "text"),
    ],
)
def test_question_create_refuses_invalid_fields(owner, fields, field):
    section = SectionFactory()
    fields = {"text": "A question?", **fields}
    with assert_nothing_written(*EDIT_MODELS), pytest.raises(ValidationError) as caught:
        question_create(section=section, actor=owner, **fields)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert not any("Constraint" in m for m in caught.value.messages)


def test_question_create_reports_every_field_at_once(owner):
    with pytest.raises(ValidationError) as caught:
        question_create(section=SectionFactory(), kind=QuestionKind.SINGLE, text="", options=["A"], actor=owner)
    assert {"text", "options"} <= set(caught.value.message_dict)


def test_question_update_replaces_choices_keeping_unchanged_rows(owner):
    question = question_create(
        section=SectionFactory(),
        kind=QuestionKind.SINGLE,
        text="Channel?",
        options=["Phone", "Email", "Fax"],
        actor=owner,
    )
    before = dict(question.options.values_list("label", "pk"))
    question_update(question=question, actor=owner, options=["Email", "Portal", "Phone"])
    after = dict(question.options.values_list("label", "pk"))
    assert _labels(question) == ["Email", "Portal", "Phone"]
    assert after["Email"] == before["Email"] and after["Phone"] == before["Phone"]
    assert "Fax" not in after and after["Portal"] not in before.values()
    # Without options, the choices stay; other fields change.
    question_update(question=question, actor=owner, text="Which channel?", required=False)
    question.refresh_from_db()
    assert (question.text, question.required, _labels(question)) == (
        "Which channel?",
        False,
        ["Email", "Portal", "Phone"],
    )


def test_question_update_changes_kind(owner):
    question = question_create(
        section=SectionFactory(), kind=QuestionKind.SINGLE, text="Channel?", options=["Phone", "Email"], actor=owner
    )
    with assert_nothing_written(*EDIT_MODELS), pytest.raises(ValidationError) as caught:
        question_update(question=question, actor=owner, kind=QuestionKind.RATING)  # choices still there
    assert "options" in caught.value.message_dict
    question = Question.objects.get(pk=question.pk)
    question_update(question=question, actor=owner, kind=QuestionKind.RATING, options=[], comment_below=4)
    question.refresh_from_db()
    assert (question.kind, question.comment_below, _labels(question)) == (QuestionKind.RATING, 4, [])
    with pytest.raises(ValidationError) as caught:
        question_update(question=question, actor=owner, kind=QuestionKind.NPS)  # comment_below stays 4
    assert "comment_below" in caught.value.message_dict
    question = Question.objects.get(pk=question.pk)
    with pytest.raises(ValidationError):
        question_update(question=question, actor=owner, kind=QuestionKind.MULTIPLE, comment_below=None)  # no choices
    with pytest.raises(TypeError):
        question_update(question=question, actor=owner, section=SectionFactory())


def test_question_move_within_its_section(owner):
    section = SectionFactory()
    other = SectionFactory(questionnaire=section.questionnaire)
    first, second, third = (
        question_create(section=section, kind="text", text=t, actor=owner) for t in ("One", "Two", "Three")
    )
    elsewhere = question_create(section=other, kind="text", text="Elsewhere", actor=owner)
    assert question_move(question=third, direction="up", actor=owner) is True
    assert _texts(section) == ["One", "Three", "Two"]
    assert question_move(question=first, direction="up", actor=owner) is False
    assert question_move(question=second, direction="down", actor=owner) is False  # last of its section
    assert question_move(question=elsewhere, direction="up", actor=owner) is False
    assert _texts(section) == ["One", "Three", "Two"] and _texts(other) == ["Elsewhere"]
    assert question_move(question=first, direction="down", actor=owner) is True
    assert _texts(section) == ["Three", "One", "Two"]


def test_question_move_copes_with_equal_positions(owner):
    section = SectionFactory()
    a = QuestionFactory(section=section, position=5, text="A")
    b = QuestionFactory(section=section, position=5, text="B")
    assert question_move(question=b, direction="up", actor=owner) is True
    assert _texts(section) == ["B", "A"]
    a.refresh_from_db()
    assert a.position == 1


def test_question_delete_closes_up(owner):
    section = SectionFactory()
    questions = [question_create(section=section, kind="text", text=t, actor=owner) for t in ("One", "Two", "Three")]
    choice = question_create(section=section, kind="single", text="Pick", options=["A", "B"], actor=owner)
    question_delete(question=questions[1], actor=owner)
    question_delete(question=choice, actor=owner)
    assert list(Question.objects.filter(section=section).order_by("position").values_list("text", "position")) == [
        ("One", 0),
        ("Three", 1),
    ]
    assert not QuestionOption.objects.filter(question_id=choice.pk).exists()


# --- readiness ---------------------------------------------------------------------------------


def test_check_ready():
    questionnaire = QuestionnaireFactory()
    SectionFactory(questionnaire=questionnaire)  # an empty section is fine
    assert questionnaire_check_ready(questionnaire) == ["The questionnaire has no questions yet."]
    section = SectionFactory(questionnaire=questionnaire)
    QuestionFactory(section=section, kind=QuestionKind.RATING)
    assert questionnaire_check_ready(questionnaire) == []
    lonely = QuestionFactory(section=section, kind=QuestionKind.MULTIPLE, text="Which one?")
    OptionFactory(question=lonely)
    problems = questionnaire_check_ready(questionnaire)
    assert len(problems) == 1 and "Which one?" in problems[0] and "two choices" in problems[0]
    OptionFactory(question=lonely)
    assert questionnaire_check_ready(questionnaire) == []


# --- new versions ------------------------------------------------------------------------------


def _rich_questionnaire():
    questionnaire = QuestionnaireFactory(title="Annual survey", introduction="Hello", thanks="Thanks", version=2)
    first = SectionFactory(questionnaire=questionnaire, position=0, title="Desk", description="The desk")
    second = SectionFactory(questionnaire=questionnaire, position=1, title="Overall")
    QuestionFactory(
        section=first,
        position=0,
        kind=QuestionKind.RATING,
        text="Speed?",
        help_text="Be honest",
        comment_below=3,
        service_ref="Desk",
        target_ref="Response 15 min",
    )
    choice = QuestionFactory(section=first, position=1, kind=QuestionKind.SINGLE, text="Channel?", required=False)
    OptionFactory(question=choice, position=0, label="Phone")
    OptionFactory(question=choice, position=1, label="Email")
    QuestionFactory(section=second, position=0, kind=QuestionKind.NPS, text="Recommend?")
    return questionnaire


def _snapshot(questionnaire: Questionnaire) -> list:
    rows = []
    for section in questionnaire.sections.order_by("position"):
        questions = []
        for q in Question.objects.filter(section=section).order_by("position"):
            questions.append(
                (
                    q.position,
                    q.kind,
                    q.text,
                    q.help_text,
                    q.required,
                    q.comment_below,
                    q.service_ref,
                    q.target_ref,
                    list(q.options.order_by("position").values_list("position", "label")),
                )
            )
        rows.append((section.position, section.title, section.description, questions))
    return rows


def test_new_version_is_a_deep_copy(owner):
    source = _rich_questionnaire()
    QuestionnaireFactory(family=source.family, version=1, locked_at=timezone.now())
    questionnaire_lock(questionnaire=source)
    before = _snapshot(source)
    locked_at = source.locked_at
    copy = questionnaire_new_version(questionnaire=source, actor=owner)
    assert (copy.family, copy.version, copy.locked_at, copy.created_by) == (source.family, 3, None, owner)
    assert (copy.title, copy.introduction, copy.thanks) == ("Annual survey", "Hello", "Thanks")
    assert _snapshot(copy) == before
    assert Question.objects.filter(questionnaire=copy).count() == 3
    assert not Question.objects.filter(questionnaire=copy, section__questionnaire=source).exists()
    assert not QuestionOption.objects.filter(question__questionnaire=copy, question__in=source.questions.all()).exists()
    source.refresh_from_db()
    assert source.locked_at == locked_at and _snapshot(source) == before
    # The copy is editable; the source is not.
    question_update(question=copy.questions.get(text="Speed?"), actor=owner, text="How fast?")
    assert source.questions.filter(text="Speed?").exists()


def test_new_version_refusals(owner, make_user):
    source = _rich_questionnaire()
    with assert_nothing_written(*EDIT_MODELS), pytest.raises(ValidationError) as caught:
        questionnaire_new_version(questionnaire=source, actor=owner)  # not in use yet
    assert "edit it directly" in caught.value.messages[0]
    questionnaire_lock(questionnaire=source)
    with pytest.raises(PermissionDenied):
        questionnaire_new_version(questionnaire=source, actor=make_user(Role.BR_MANAGER))
    draft = questionnaire_new_version(questionnaire=source, actor=owner)
    with assert_nothing_written(*EDIT_MODELS), pytest.raises(ValidationError) as caught:
        questionnaire_new_version(questionnaire=source, actor=owner)
    assert f"Version {draft.version}" in caught.value.messages[0]
    # Once the draft is in use too, another version can be made, from either.
    questionnaire_lock(questionnaire=draft)
    assert questionnaire_new_version(questionnaire=source, actor=owner).version == draft.version + 1


def test_rows_with_answers_are_never_deleted(owner):
    # Answers exist only for versions in use; should one exist on a draft, deleting refuses cleanly.
    from tests.surveys.factories import AnswerFactory

    question = question_create(section=SectionFactory(), kind="single", text="Pick", options=["A", "B"], actor=owner)
    AnswerFactory(question=question, option=question.options.get(label="A"))
    with pytest.raises(ValidationError) as caught:
        question_update(question=question, actor=owner, options=["B", "C"])
    assert "Answers were recorded" in caught.value.messages[0]
    assert _labels(Question.objects.get(pk=question.pk)) == ["A", "B"]
    for delete in (
        lambda: question_delete(question=question, actor=owner),
        lambda: section_delete(section=question.section, actor=owner),
    ):
        with pytest.raises(ValidationError):
            delete()
    assert Question.objects.filter(pk=question.pk).exists()
