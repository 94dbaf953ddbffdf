"""Questionnaires in two languages (issue 9 item 6): every text has a Chinese and an English
version, the contact reads their own (else the other, marked with its ``lang``), the builder
flags each missing translation and counts them, the API reads and writes both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from itsm.core.choices import Language
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written, user_with_role
from sla.choices import Priority
from surveys.answers import questionnaire_content
from surveys.bilingual import Bilingual
from surveys.choices import QuestionKind
from surveys.forms.questionnaires import QuestionForm
from surveys.models import Question, Questionnaire, QuestionnaireSection, QuestionOption
from surveys.services import questionnaires as services
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory
from tests.sla.factories import AgreementFactory, ServiceFactory, TargetFactory
from tests.surveys.campaign_flow import launch_campaign, links_to
from tests.surveys.factories import OptionFactory, QuestionFactory, QuestionnaireFactory, SectionFactory

pytestmark = pytest.mark.django_db

LAUNCH = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 Asia/Shanghai


def bilingual_questionnaire() -> Questionnaire:
    """Everything translated but the section's description (Chinese only) and one choice
    (English only)."""
    questionnaire = QuestionnaireFactory(
        title="服务满意度调查",
        title_en="Service satisfaction survey",
        introduction="感谢您的参与",
        introduction_en="Thank you for taking part",
        thanks="谢谢！",
        thanks_en="Thanks a lot!",
    )
    section = SectionFactory(
        questionnaire=questionnaire, title="我们的服务", title_en="Our service", description="关于服务台"
    )
    QuestionFactory(
        section=section, kind=QuestionKind.RATING, text="总体满意度", text_en="Overall satisfaction", position=0
    )
    choice = QuestionFactory(
        section=section, kind=QuestionKind.SINGLE, text="常用渠道", text_en="Usual channel", position=1
    )
    OptionFactory(question=choice, label="电话", label_en="Phone", position=0)
    OptionFactory(question=choice, label="", label_en="Portal", position=1)
    return questionnaire


# --- the pair ------------------------------------------------------------------------------------


def test_a_text_shows_in_the_active_language_else_the_other():
    text = Bilingual("满意", "Satisfied")
    with translation.override("en"):
        assert str(text) == "Satisfied" and not text.is_fallback
    with translation.override("zh-hans"):
        assert str(text) == "满意" and text.lang == "zh-hans"
    chinese_only = Bilingual("满意", "")
    with translation.override("en"):
        assert str(chinese_only) == "满意" and chinese_only.is_fallback and chinese_only.lang == "zh-hans"
    assert chinese_only.missing_en and not chinese_only.missing_zh_hans
    assert Bilingual("", "Satisfied").missing_zh_hans
    assert Bilingual().is_complete and not Bilingual()


# --- services ----------------------------------------------------------------------------------


def test_a_text_in_one_language_is_enough_but_one_is_needed(make_user):
    owner = make_user(Role.SATISFACTION_OWNER)
    questionnaire = services.questionnaire_create(title_en="Only English", actor=owner)
    assert questionnaire.title == "" and str(questionnaire) == "Only English v1"
    section = services.section_create(questionnaire=questionnaire, title_en="Section", actor=owner)
    with assert_nothing_written(QuestionnaireSection), pytest.raises(ValidationError) as caught:
        services.section_create(questionnaire=questionnaire, title=" ", title_en="", actor=owner)
    assert "title" in caught.value.message_dict
    with assert_nothing_written(Question), pytest.raises(ValidationError) as caught:
        services.question_create(section=section, kind=QuestionKind.RATING, actor=owner)
    assert "text" in caught.value.message_dict


def test_choices_are_pairs_kept_in_order_and_rows_survive_a_one_language_edit(make_user):
    owner = make_user(Role.SATISFACTION_OWNER)
    section = SectionFactory()
    question = services.question_create(
        section=section,
        kind=QuestionKind.SINGLE,
        text="渠道",
        text_en="Channel",
        options=[("电话", "Phone"), {"label": "邮件", "label_en": "E-mail"}, "微信"],
        actor=owner,
    )
    rows = list(question.options.order_by("position"))
    assert [(o.label, o.label_en) for o in rows] == [("电话", "Phone"), ("邮件", "E-mail"), ("微信", "")]
    services.question_update(
        question=question, options=[("电话", "Telephone"), ("邮件", "E-mail"), ("微信", "WeChat")], actor=owner
    )
    after = list(question.options.order_by("position"))
    assert [o.pk for o in after] == [o.pk for o in rows]  # answers keep pointing at the same choices
    assert [o.label_en for o in after] == ["Telephone", "E-mail", "WeChat"]


def test_duplicate_choices_in_either_language_are_refused(make_user):
    owner = make_user(Role.SATISFACTION_OWNER)
    section = SectionFactory()
    with assert_nothing_written(Question, QuestionOption), pytest.raises(ValidationError) as caught:
        services.question_create(
            section=section,
            kind=QuestionKind.SINGLE,
            text="渠道",
            options=[("电话", "Phone"), ("邮件", "phone")],
            actor=owner,
        )
    assert "phone" in " ".join(caught.value.message_dict["options"])


def test_missing_translations_are_counted_as_warnings_not_problems():
    content = questionnaire_content(bilingual_questionnaire())
    with translation.override("en"):
        warnings = services.content_warnings(content)
    assert warnings == [
        "1 text has no English version yet: English-speaking contacts read it in Chinese.",
        "1 text has no Chinese version yet: Chinese-speaking contacts read it in English.",
    ]
    assert services.content_problems(content) == []


def test_a_new_version_copies_both_languages(make_user):
    owner = make_user(Role.SATISFACTION_OWNER)
    questionnaire = bilingual_questionnaire()
    services.questionnaire_lock(questionnaire=questionnaire)
    copy = services.questionnaire_new_version(questionnaire=questionnaire, actor=owner)
    assert copy.title_en == "Service satisfaction survey"
    labels = QuestionOption.objects.filter(question__questionnaire=copy).order_by("position")
    assert [(o.label, o.label_en) for o in labels] == [("电话", "Phone"), ("", "Portal")]
    assert Question.objects.filter(questionnaire=copy, text_en="Usual channel").exists()


# --- the builder ---------------------------------------------------------------------------------


def test_the_builder_flags_each_missing_translation(client):
    questionnaire = bilingual_questionnaire()
    client.force_login(user_with_role(Role.SATISFACTION_OWNER, preferred_language=Language.EN))
    page = client.get(reverse("questionnaire_detail", args=[questionnaire.pk])).content.decode()
    assert page.count('data-testid="missing-translation"') == 2
    assert "no English" in page and "no Chinese" in page
    assert 'data-testid="translation-warnings"' in page
    assert "Service satisfaction survey" in page and "Overall satisfaction" in page


def test_the_question_form_pairs_the_choice_lines():
    form = QuestionForm(
        data={
            "kind": QuestionKind.SINGLE,
            "text": "渠道",
            "text_en": "Channel",
            "required": "on",
            "options": "电话\n\n微信\n",
            "options_en": "Phone\nE-mail\n",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["options"] == [("电话", "Phone"), ("", "E-mail"), ("微信", "")]
    assert [row.en is not None for row in form.layout()][:2] == [False, True]  # kind alone, then text pair


def test_the_question_form_edits_the_choices_of_both_languages():
    question = QuestionFactory(kind=QuestionKind.SINGLE, text="渠道")
    OptionFactory(question=question, label="电话", label_en="Phone", position=0)
    OptionFactory(question=question, label="微信", label_en="", position=1)
    form = QuestionForm(instance=question)
    assert form.initial["options"] == "电话\n微信" and form.initial["options_en"] == "Phone\n"


def test_the_sla_target_picker_names_each_targets_agreement_and_lists_none_in_the_page():
    first, second = AgreementFactory(number="SLA-101"), AgreementFactory(number="SLA-102")
    service = ServiceFactory()
    first.services.add(service, ServiceFactory(), ServiceFactory())  # three services: no repeated rows
    second.services.add(ServiceFactory())
    target = TargetFactory(agreement=first)
    TargetFactory(agreement=second)
    question = QuestionFactory(service=service, sla_target=target)
    html = str(QuestionForm(instance=question)["sla_target"])
    assert html.count("<option") == 2  # the empty one and the chosen target: no full list
    assert "SLA-101 · " in html and "SLA-102" not in html
    assert 'data-picker-depends="{&quot;service&quot;: &quot;id_service&quot;}"' in html


def test_the_target_picker_offers_the_targets_of_agreements_covering_a_service(client):
    first, second = AgreementFactory(number="SLA-201"), AgreementFactory(number="SLA-202")
    service = ServiceFactory()
    first.services.add(service, ServiceFactory(), ServiceFactory())
    TargetFactory(agreement=first, priority=Priority.P1)
    TargetFactory(agreement=first, priority=Priority.P2)
    TargetFactory(agreement=second)
    client.force_login(user_with_role(Role.SATISFACTION_OWNER))
    response = client.get(reverse("pick_targets"), {"kind": "sla", "service": service.pk})
    texts = [row["text"] for row in response.json()["results"]]
    assert len(texts) == 2 and all(text.startswith("SLA-201 · ") for text in texts)


# --- the customer's page -----------------------------------------------------------------------


@pytest.fixture
def links(make_user, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory()
    department = DepartmentFactory(organisation=organisation)
    chinese = ContactFactory(organisation=organisation, department=department)
    english = ContactFactory(organisation=organisation, department=department, preferred_language=Language.EN)
    with time_machine.travel(LAUNCH, tick=False), django_capture_on_commit_callbacks(execute=True):
        launch_campaign(make_user, [organisation], questionnaire=bilingual_questionnaire())
    with time_machine.travel(LAUNCH + timedelta(hours=1), tick=False):
        yield {"zh": links_to(chinese.email)[0], "en": links_to(english.email)[0]}


def test_each_contact_reads_their_language_and_the_fallback_is_marked(client, links):
    english = client.get(reverse("survey_answer", args=[links["en"]])).content.decode()
    assert "Overall satisfaction" in english and "Our service" in english and "Thank you for taking part" in english
    assert "总体满意度" not in english
    assert '<span lang="zh-hans">关于服务台</span>' in english  # no English description: Chinese, marked
    assert "Portal" in english and "Phone" in english
    chinese = client.get(reverse("survey_answer", args=[links["zh"]])).content.decode()
    assert "总体满意度" in chinese and "感谢您的参与" in chinese and "Overall satisfaction" not in chinese
    assert "电话" in chinese and "Portal" in chinese  # the English-only choice, as the fallback


def test_the_preview_shows_either_language(client):
    questionnaire = bilingual_questionnaire()
    client.force_login(user_with_role(Role.SATISFACTION_OWNER))
    url = reverse("questionnaire_preview", args=[questionnaire.pk])
    assert "Usual channel" in client.get(url, {"lang": "en"}).content.decode()
    assert "常用渠道" in client.get(url, {"lang": "zh-hans"}).content.decode()


# --- the API -------------------------------------------------------------------------------------


def test_the_api_reads_and_writes_both_languages(api_client):
    questionnaire = bilingual_questionnaire()
    section = questionnaire.sections.get()
    api_client.force_authenticate(user_with_role(Role.SATISFACTION_OWNER))
    url = f"/api/v1/questionnaires/{questionnaire.pk}/"
    data = api_client.get(url).json()
    assert (data["title"], data["title_en"]) == ("服务满意度调查", "Service satisfaction survey")
    read = data["sections"][0]
    assert (read["description"], read["description_en"]) == ("关于服务台", "")
    options = read["questions"][1]["options"]
    assert [(o["label"], o["label_en"]) for o in options] == [("电话", "Phone"), ("", "Portal")]
    response = api_client.post(
        f"{url}questions/",
        {
            "section": section.pk,
            "kind": "single",
            "text_en": "Which office?",
            "options": [{"label": "北京", "label_en": "Beijing"}, {"label_en": "Shanghai"}, "深圳"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["text"], body["text_en"]) == ("", "Which office?")
    assert [(o["label"], o["label_en"]) for o in body["options"]] == [
        ("北京", "Beijing"),
        ("", "Shanghai"),
        ("深圳", ""),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "rating"}, "text"),
        ({"kind": "single", "text": "x", "options": [{"label": "a", "colour": "red"}, "b"]}, "options"),
        ({"kind": "single", "text": "x", "options": [7, "b"]}, "options"),
        ({"kind": "rating", "text": "", "text_en": ""}, "text"),
    ],
)
def test_bad_bilingual_input_is_a_400_and_writes_nothing(api_client, body, field):
    section = SectionFactory()
    api_client.force_authenticate(user_with_role(Role.SATISFACTION_OWNER))
    with assert_nothing_written(Question, QuestionOption):
        response = api_client.post(
            f"/api/v1/questionnaires/{section.questionnaire_id}/questions/",
            {"section": section.pk, **body},
            format="json",
        )
    assert response.status_code == 400, response.content
    assert any(key == field or key.startswith(f"{field}.") for key in response.json()["errors"]), response.json()
