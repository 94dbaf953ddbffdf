"""Questionnaire pages: the role matrix, the builder's edits through forms, versions in use,
the preview (the customer's page, nothing saved, in either language) and query counts."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from itsm.core.roles import Role
from itsm.core.testing import Resource, assert_constant_queries, assert_nothing_written, check_page_access, page_matrix
from surveys.choices import QuestionKind
from surveys.models import Answer, Question, Questionnaire, QuestionnaireSection, QuestionOption, SurveyResponse
from tests.surveys.factories import (
    CampaignFactory,
    OptionFactory,
    QuestionFactory,
    QuestionnaireFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

EDIT_MODELS = (Questionnaire, QuestionnaireSection, Question, QuestionOption)

QUESTIONNAIRES = Resource.for_model(Questionnaire, QuestionnaireFactory, pages=("list", "detail", "create", "edit"))


@pytest.mark.parametrize("case", page_matrix(QUESTIONNAIRES), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.fixture
def owner(client_as, settings):
    """The satisfaction owner's client, pages in English."""
    client = client_as(Role.SATISFACTION_OWNER)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _built(locked: bool = False) -> tuple[Questionnaire, QuestionnaireSection, Question]:
    questionnaire = QuestionnaireFactory(title="Half-yearly survey", locked_at=timezone.now() if locked else None)
    section = SectionFactory(questionnaire=questionnaire, title="The service desk")
    question = QuestionFactory(section=section, kind=QuestionKind.SINGLE, text="Which channel do you use?")
    OptionFactory(question=question, label="Phone")
    OptionFactory(question=question, label="Email")
    return questionnaire, section, question


def _urls(questionnaire, section, question) -> dict[str, tuple[str, str]]:
    """(method, url) of every page that writes."""
    q, s, qu = questionnaire.pk, section.pk, question.pk
    return {
        "create": ("get", reverse("questionnaire_create")),
        "edit": ("get", reverse("questionnaire_edit", args=[q])),
        "new_version": ("post", reverse("questionnaire_new_version", args=[q])),
        "section_create": ("get", reverse("questionnaire_section_create", args=[q])),
        "section_edit": ("get", reverse("questionnaire_section_edit", args=[q, s])),
        "section_delete": ("post", reverse("questionnaire_section_delete", args=[q, s])),
        "section_move": ("post", reverse("questionnaire_section_move", args=[q, s])),
        "question_create": ("get", reverse("question_create", args=[q, s])),
        "question_edit": ("get", reverse("question_edit", args=[q, qu])),
        "question_delete": ("post", reverse("question_delete", args=[q, qu])),
        "question_move": ("post", reverse("question_move", args=[q, qu])),
    }


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.BR_MANAGER, Role.AUDITOR, None])
def test_write_pages_refused_without_the_role(client_as, role):
    client = client_as(role)
    for name, (method, url) in _urls(*_built()).items():
        with assert_nothing_written(*EDIT_MODELS):
            assert getattr(client, method)(url).status_code == 403, name
            assert client.post(url, {"title": "x", "direction": "up"}).status_code == 403, name


def test_service_desk_cannot_even_read(client_as):
    client = client_as(Role.SERVICE_DESK)
    questionnaire, _section, _question = _built()
    for url in (
        reverse("questionnaire_list"),
        reverse("questionnaire_detail", args=[questionnaire.pk]),
        reverse("questionnaire_preview", args=[questionnaire.pk]),
    ):
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", [Role.BR_MANAGER, Role.DEPARTMENT_HEAD, Role.AUDITOR, Role.QUALITY_MANAGER])
def test_readers_see_the_builder_without_edit_controls(client_as, role):
    questionnaire, section, question = _built()
    client = client_as(role)
    response = client.get(reverse("questionnaire_detail", args=[questionnaire.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    can_edit = role == Role.QUALITY_MANAGER
    assert (reverse("question_edit", args=[questionnaire.pk, question.pk]) in page) is can_edit
    assert (reverse("questionnaire_section_create", args=[questionnaire.pk]) in page) is can_edit
    assert client.get(reverse("questionnaire_preview", args=[questionnaire.pk])).status_code == 200


def test_every_page_renders_for_the_owner(owner):
    questionnaire, section, question = _built()
    for name, (method, url) in _urls(questionnaire, section, question).items():
        if method == "get":
            assert owner.get(url).status_code == 200, name
    for url in (
        reverse("questionnaire_list"),
        reverse("questionnaire_list") + "?q=half&page=1",
        reverse("questionnaire_detail", args=[questionnaire.pk]),
        reverse("questionnaire_preview", args=[questionnaire.pk]),
    ):
        assert owner.get(url).status_code == 200, url


def test_unknown_ids_are_404(owner):
    questionnaire, section, question = _built()
    other_section = SectionFactory()  # of another questionnaire
    other_question = QuestionFactory()
    q = questionnaire.pk
    missing = Questionnaire.objects.order_by("-pk").first().pk + 100
    urls = [
        ("get", reverse("questionnaire_detail", args=[missing])),
        ("get", reverse("questionnaire_edit", args=[missing])),
        ("get", reverse("questionnaire_preview", args=[missing])),
        ("post", reverse("questionnaire_new_version", args=[missing])),
        ("get", reverse("questionnaire_section_create", args=[missing])),
        ("get", reverse("questionnaire_section_edit", args=[q, other_section.pk])),
        ("post", reverse("questionnaire_section_delete", args=[q, other_section.pk])),
        ("post", reverse("questionnaire_section_move", args=[q, section.pk + 1000])),
        ("get", reverse("question_create", args=[q, other_section.pk])),
        ("get", reverse("question_edit", args=[q, other_question.pk])),
        ("post", reverse("question_delete", args=[q, other_question.pk])),
        ("post", reverse("question_move", args=[q, question.pk + 1000])),
    ]
    with assert_nothing_written(*EDIT_MODELS):
        for method, url in urls:
            assert getattr(owner, method)(url).status_code == 404, url


# --- list --------------------------------------------------------------------------------------


def test_list_shows_the_latest_version_of_each_family(owner):
    old = QuestionnaireFactory(title="Annual quality survey", locked_at=timezone.now())
    latest = QuestionnaireFactory(family=old.family, version=2, title="Annual quality survey 2026")
    QuestionFactory.create_batch(3, section=SectionFactory(questionnaire=latest))
    QuestionFactory(section=SectionFactory(questionnaire=old))
    other = QuestionnaireFactory(title="Project survey", locked_at=timezone.now())
    response = owner.get(reverse("questionnaire_list"))
    rows = {q.pk: q for q in response.context["questionnaires"]}
    assert set(rows) == {latest.pk, other.pk}
    assert (rows[latest.pk].version_count, rows[latest.pk].question_count, rows[latest.pk].in_use_count) == (2, 3, 1)
    assert (rows[other.pk].version_count, rows[other.pk].question_count, rows[other.pk].in_use_count) == (1, 0, 1)
    page = response.content.decode()
    assert "Annual quality survey 2026" in page and "1 older version in use" in page
    response = owner.get(reverse("questionnaire_list"), {"q": "project"})
    assert [q.pk for q in response.context["questionnaires"]] == [other.pk]


def test_list_queries_do_not_grow(owner):
    def make_rows(n):
        for _ in range(n):
            questionnaire = QuestionnaireFactory(locked_at=timezone.now())
            QuestionnaireFactory(family=questionnaire.family, version=2)
            QuestionFactory(section=SectionFactory(questionnaire=questionnaire))

    assert_constant_queries(owner, reverse("questionnaire_list"), make_rows, few=3, many=30)


# --- the builder -------------------------------------------------------------------------------


def test_builder_queries_do_not_grow(owner):
    questionnaire = QuestionnaireFactory(locked_at=timezone.now())
    CampaignFactory.create_batch(2, questionnaire=questionnaire)

    def make_rows(n):
        section = SectionFactory(questionnaire=questionnaire)
        for _ in range(n):
            question = QuestionFactory(section=section, kind=QuestionKind.MULTIPLE)
            OptionFactory.create_batch(3, question=question)
        QuestionnaireFactory(family=questionnaire.family, version=questionnaire.version + n, locked_at=timezone.now())

    assert_constant_queries(owner, reverse("questionnaire_detail", args=[questionnaire.pk]), make_rows, few=2, many=25)
    draft = QuestionnaireFactory()
    assert_constant_queries(
        owner,
        reverse("questionnaire_detail", args=[draft.pk]),
        lambda n: [QuestionFactory(section=SectionFactory(questionnaire=draft)) for _ in range(n)],
        few=2,
        many=20,
    )


def test_builder_shows_everything_in_order(owner):
    questionnaire, section, question = _built()
    later = SectionFactory(questionnaire=questionnaire, title="Overall", position=section.position + 1)
    QuestionFactory(
        section=later,
        kind=QuestionKind.RATING,
        text="Overall satisfaction?",
        comment_below=3,
        service_ref="Desktop support",
        target_ref="Resolution in 8 h",
    )
    page = owner.get(reverse("questionnaire_detail", args=[questionnaire.pk])).content.decode()
    assert (
        page.index("The service desk") < page.index("Which channel do you use?") < page.index("Overall satisfaction?")
    )
    assert page.index("Phone") < page.index("Email")
    assert "Desktop support" in page and "Resolution in 8 h" in page and "comment required below 3" in page
    assert 'data-testid="locked-banner"' not in page and 'data-testid="problems"' not in page


def test_builder_lists_problems(owner):
    questionnaire = QuestionnaireFactory()
    SectionFactory(questionnaire=questionnaire)
    page = owner.get(reverse("questionnaire_detail", args=[questionnaire.pk])).content.decode()
    assert "The questionnaire has no questions yet." in page


def test_owner_builds_a_questionnaire_through_the_pages(owner):
    response = owner.post(reverse("questionnaire_create"), {"title": ""})
    assert response.status_code == 400
    response = owner.post(
        reverse("questionnaire_create"), {"title": "Key customer survey", "introduction": "Dear customer"}
    )
    questionnaire = Questionnaire.objects.get(title="Key customer survey")
    assert response.status_code == 302 and response["Location"] == questionnaire.get_absolute_url()
    assert questionnaire.created_by == owner.user

    response = owner.post(reverse("questionnaire_section_create", args=[questionnaire.pk]), {"title": ""})
    assert response.status_code == 400
    owner.post(reverse("questionnaire_section_create", args=[questionnaire.pk]), {"title": "Support"})
    section = questionnaire.sections.get()

    url = reverse("question_create", args=[questionnaire.pk, section.pk])
    response = owner.post(url, {"kind": "single", "text": "Channel?", "required": "on", "options": "Phone"})
    assert response.status_code == 400
    assert "Give at least two choices, one per line." in response.content.decode()
    response = owner.post(url, {"kind": "nps", "text": "Recommend us?", "comment_below": "3", "options": ""})
    assert response.status_code == 400
    assert "Only rating questions can require a comment." in response.content.decode()
    response = owner.post(
        url,
        {
            "kind": "single",
            "text": "Channel?",
            "required": "on",
            "service_ref": "Service desk",
            "options": "Phone\n\n Email \nPortal",
        },
    )
    assert response.status_code == 302
    choice = Question.objects.get(text="Channel?")
    assert [o.label for o in choice.options.order_by("position")] == ["Phone", "Email", "Portal"]
    assert (choice.required, choice.service_ref) == (True, "Service desk")
    owner.post(url, {"kind": "rating", "text": "Speed?", "comment_below": "3"})
    rating = Question.objects.get(text="Speed?")
    assert (rating.required, rating.comment_below, rating.position) == (False, 3, 1)

    edit = reverse("question_edit", args=[questionnaire.pk, choice.pk])
    form = owner.get(edit).context["form"]
    assert form.initial["options"] == "Phone\nEmail\nPortal"
    email = choice.options.get(label="Email").pk
    response = owner.post(edit, {"kind": "multiple", "text": "Channels?", "options": "Email\nChat"})
    assert response.status_code == 302
    choice.refresh_from_db()
    assert (choice.kind, choice.text, choice.required) == ("multiple", "Channels?", False)
    assert list(choice.options.order_by("position").values_list("label", "pk"))[0] == ("Email", email)

    owner.post(reverse("question_move", args=[questionnaire.pk, rating.pk]), {"direction": "up"})
    assert list(section.questions.order_by("position").values_list("text", flat=True)) == ["Speed?", "Channels?"]
    response = owner.post(reverse("question_move", args=[questionnaire.pk, rating.pk]), {"direction": "sideways"})
    assert response.status_code == 302

    second = QuestionnaireSection.objects.create(questionnaire=questionnaire, title="Overall", position=1)
    owner.post(reverse("questionnaire_section_move", args=[questionnaire.pk, second.pk]), {"direction": "up"})
    assert list(questionnaire.sections.order_by("position").values_list("title", flat=True)) == ["Overall", "Support"]
    response = owner.post(
        reverse("questionnaire_section_edit", args=[questionnaire.pk, second.pk]),
        {"title": "Overall view", "description": "All in all"},
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.title, second.description) == ("Overall view", "All in all")
    response = owner.post(
        reverse("questionnaire_edit", args=[questionnaire.pk]), {"title": "Key customers", "thanks": "Thanks!"}
    )
    assert response.status_code == 302
    questionnaire.refresh_from_db()
    assert (questionnaire.title, questionnaire.introduction, questionnaire.thanks) == ("Key customers", "", "Thanks!")

    owner.post(reverse("question_delete", args=[questionnaire.pk, rating.pk]))
    assert not Question.objects.filter(pk=rating.pk).exists()
    owner.post(reverse("questionnaire_section_delete", args=[questionnaire.pk, section.pk]))
    assert list(questionnaire.sections.values_list("title", flat=True)) == ["Overall view"]
    assert not Question.objects.filter(questionnaire=questionnaire).exists()


# --- versions in use -----------------------------------------------------------------------------


def test_a_version_in_use_shows_the_banner_and_refuses_edits(owner):
    questionnaire, section, question = _built(locked=True)
    campaign = CampaignFactory(questionnaire=questionnaire, title="H1 company survey")
    page = owner.get(reverse("questionnaire_detail", args=[questionnaire.pk])).content.decode()
    assert 'data-testid="locked-banner"' in page and campaign.title in page
    assert 'data-testid="new-version"' in page
    assert reverse("question_edit", args=[questionnaire.pk, question.pk]) not in page
    urls = _urls(questionnaire, section, question)
    with assert_nothing_written(*EDIT_MODELS):
        for name in ("edit", "section_create", "section_edit", "question_create", "question_edit"):
            response = owner.get(urls[name][1])
            assert response.status_code == 302 and response["Location"] == questionnaire.get_absolute_url(), name
        response = owner.post(urls["question_edit"][1], {"kind": "text", "text": "Changed"})
        assert response.status_code == 400
        assert "in use by a campaign" in response.content.decode()
        for name in ("section_delete", "section_move", "question_delete", "question_move"):
            response = owner.post(urls[name][1], {"direction": "down"}, follow=True)
            assert "in use by a campaign" in response.content.decode(), name
    question.refresh_from_db()
    assert question.text == "Which channel do you use?"


def test_make_a_new_version_from_the_builder(owner):
    questionnaire, section, question = _built(locked=True)
    response = owner.post(reverse("questionnaire_new_version", args=[questionnaire.pk]))
    copy = Questionnaire.objects.get(family=questionnaire.family, version=2)
    assert response.status_code == 302 and response["Location"] == copy.get_absolute_url()
    assert [q.text for q in copy.questions.all()] == ["Which channel do you use?"]
    page = owner.get(reverse("questionnaire_detail", args=[questionnaire.pk])).content.decode()
    assert 'data-testid="new-version"' not in page  # a draft exists: the banner links to it
    assert copy.get_absolute_url() in page
    with assert_nothing_written(*EDIT_MODELS):
        response = owner.post(reverse("questionnaire_new_version", args=[questionnaire.pk]), follow=True)
    assert "Version 2 of this questionnaire is a draft" in response.content.decode()
    page = owner.get(copy.get_absolute_url()).content.decode()
    assert reverse("question_edit", args=[copy.pk, copy.questions.get().pk]) in page
    assert 'data-testid="versions"' in page


# --- the preview -------------------------------------------------------------------------------


def _preview_questionnaire():
    questionnaire = QuestionnaireFactory(title="Half-yearly survey", introduction="Dear customer", thanks="Bye!")
    section = SectionFactory(questionnaire=questionnaire, title="Service desk", description="The last six months")
    rating = QuestionFactory(section=section, kind=QuestionKind.RATING, text="Speed?", comment_below=3, help_text="Hm")
    yes_no = QuestionFactory(section=section, kind=QuestionKind.YES_NO, text="Fixed first time?")
    nps = QuestionFactory(section=section, kind=QuestionKind.NPS, text="Recommend us?", required=False)
    text = QuestionFactory(section=section, kind=QuestionKind.TEXT, text="Anything else?", required=False)
    multiple = QuestionFactory(section=section, kind=QuestionKind.MULTIPLE, text="Channels?", required=False)
    OptionFactory(question=multiple, label="Phone")
    OptionFactory(question=multiple, label="Email")
    return questionnaire, {"rating": rating, "yes_no": yes_no, "nps": nps, "text": text, "multiple": multiple}


def test_preview_is_the_customers_page(owner):
    questionnaire, q = _preview_questionnaire()
    response = owner.get(reverse("questionnaire_preview", args=[questionnaire.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="preview-ribbon"' in page and "Preview — answers are not saved" in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert "Main navigation" not in page and reverse("logout") not in page  # no staff navigation
    assert "Dear customer" in page and "The last six months" in page
    for question in q.values():
        assert f'name="q{question.pk}"' in page
    assert f'name="q{q["rating"].pk}_comment"' in page
    assert page.count("<form") == 1  # the page's own form; the partial adds none
    assert "survey-scale-5" in page and "survey-scale-11" in page


def test_preview_post_validates_and_writes_nothing(owner):
    questionnaire, q = _preview_questionnaire()
    url = reverse("questionnaire_preview", args=[questionnaire.pk])
    with assert_nothing_written(*EDIT_MODELS, SurveyResponse, Answer):
        response = owner.post(url, {f"q{q['rating'].pk}": "2", f"q{q['text'].pk}": "Fine"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please tell us what we should improve (required for a rating below 3)." in page
    assert "Please answer this question." in page
    comment_id = f"id_q{q['rating'].pk}_comment"
    assert f'aria-describedby="{comment_id}_error"' in page and f'id="{comment_id}_error"' in page
    yes_no_error = f"id_q{q['yes_no'].pk}_error"
    assert f'aria-describedby="{yes_no_error}"' in page and 'aria-invalid="true"' in page
    assert 'data-testid="preview-accepted"' not in page
    assert 'value="2" autocomplete="off" checked' in page and "Fine</textarea>" in page  # answers kept
    with assert_nothing_written(*EDIT_MODELS, SurveyResponse, Answer):
        response = owner.post(
            url, {f"q{q['rating'].pk}": "2", f"q{q['rating'].pk}_comment": "Slow", f"q{q['yes_no'].pk}": "1"}
        )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="preview-accepted"' in page and "Bye!" in page


def test_preview_in_either_language(client_as):
    questionnaire, q = _preview_questionnaire()
    client = client_as(Role.SATISFACTION_OWNER)  # prefers Chinese
    url = reverse("questionnaire_preview", args=[questionnaire.pk])
    response = client.get(url)
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page and response["Content-Language"] == "zh-hans"
    assert ">是</label>" in page and ">否</label>" in page and "5 = 非常满意，1 = 非常不满意" in page
    response = client.get(url, {"lang": "en"})
    page = response.content.decode()
    assert '<html lang="en">' in page and response["Content-Language"] == "en"
    assert ">Yes</label>" in page and ">No</label>" in page and "5 = very satisfied, 1 = very dissatisfied" in page
    # The answers are checked in the language shown.
    response = client.post(url + "?lang=en", {f"q{q['rating'].pk}": "9"})
    assert "Please choose from the answers shown." in response.content.decode()
    english_cookie = {settings.LANGUAGE_COOKIE_NAME: "en"}
    client.cookies.load(english_cookie)
    page = client.get(url, {"lang": "zh-hans"}).content.decode()
    assert '<html lang="zh-hans">' in page and ">是</label>" in page
    page = client.get(url, {"lang": "xx"}).content.decode()
    assert '<html lang="en">' in page


def test_preview_queries_do_not_grow(owner):
    questionnaire = QuestionnaireFactory()

    def make_rows(n):
        section = SectionFactory(questionnaire=questionnaire)
        for _ in range(n):
            OptionFactory.create_batch(3, question=QuestionFactory(section=section, kind=QuestionKind.SINGLE))

    assert_constant_queries(owner, reverse("questionnaire_preview", args=[questionnaire.pk]), make_rows, few=2, many=20)
