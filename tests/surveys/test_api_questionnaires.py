"""The questionnaire API: /api/v1/questionnaires/, its new versions, sections and questions
(SPEC §9, issue 4 item 8).

Question edits live under their questionnaire: ``{id}/questions/`` (POST) and
``{id}/questions/{question_id}/`` (PATCH, DELETE); sections alike. A version in use by a
campaign is frozen: every edit is a 400 and writes nothing.
"""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command

from itsm.core.roles import Role
from itsm.core.testing import (
    ANONYMOUS,
    NO_ROLE,
    Resource,
    api_matrix,
    assert_constant_queries,
    assert_nothing_written,
    check_api_access,
    user_with_role,
)
from surveys.choices import QuestionKind
from surveys.models import Question, Questionnaire, QuestionnaireSection, QuestionOption
from surveys.services.questionnaires import locked_message, questionnaire_lock, questionnaire_new_version
from tests.surveys.campaign_flow import build_questionnaire
from tests.surveys.factories import OptionFactory, QuestionFactory, QuestionnaireFactory, SectionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/questionnaires/"
OWNER, QUALITY, BRM, AUDITOR = Role.SATISFACTION_OWNER, Role.QUALITY_MANAGER, Role.BR_MANAGER, Role.AUDITOR
CONTENT = (Questionnaire, QuestionnaireSection, Question, QuestionOption)

_n = itertools.count(1)


def detail(questionnaire) -> str:
    return f"{URL}{questionnaire.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    for field in fields:
        keys = [key for key in body["errors"] if key == field or key.startswith(f"{field}.")]
        assert keys, body
        for key in keys:
            messages = body["errors"][key]
            assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages), body
    return body


def as_role(api_client, role: str):
    user = user_with_role(role)
    api_client.force_authenticate(user)
    return user


def payload() -> dict:
    n = next(_n)
    return {"title": f"Questionnaire {n}", "introduction": "Thank you for your time.", "thanks": f"Thanks {n}!"}


def locked_questionnaire() -> Questionnaire:
    questionnaire = build_questionnaire()
    questionnaire_lock(questionnaire=questionnaire)
    return questionnaire


# --- access ----------------------------------------------------------------------------------

QUESTIONNAIRES = Resource.for_model(Questionnaire, QuestionnaireFactory, pages=(), api_payload=payload)
MATRIX = [case for case in api_matrix(QUESTIONNAIRES) if case.action != "destroy"]


@pytest.mark.parametrize("case", MATRIX, ids=str)
def test_api_access(api_client, case):
    check_api_access(api_client, case)


def test_the_matrix_expects_what_the_roles_table_says():
    allowed = {(c.action, c.role) for c in MATRIX if c.allowed}
    planners = {OWNER.value, QUALITY.value}
    assert {r for a, r in allowed if a == "create"} == planners
    assert {r for a, r in allowed if a == "update"} == planners
    assert {r for a, r in allowed if a == "list"} == {r.value for r in Role} - {Role.SERVICE_DESK.value}
    assert not {r for a, r in allowed if r in (NO_ROLE, ANONYMOUS)}


@pytest.mark.parametrize("role", [OWNER, AUDITOR, ANONYMOUS])
def test_there_is_no_delete(api_client, role):
    questionnaire = QuestionnaireFactory()
    if role != ANONYMOUS:
        as_role(api_client, role)
    with assert_nothing_written(*CONTENT):
        response = api_client.delete(detail(questionnaire))
    # A method the resource lacks is a 405 for everyone, before authentication.
    assert response.status_code == 405 and response.json()["message"]


def _sub_requests(questionnaire):
    section = questionnaire.sections.first()
    question = questionnaire.questions.first()
    return [
        ("post", f"{detail(questionnaire)}new-version/", {}),
        ("post", f"{detail(questionnaire)}sections/", {"title": "More"}),
        ("patch", f"{detail(questionnaire)}sections/{section.pk}/", {"title": "Renamed"}),
        ("delete", f"{detail(questionnaire)}sections/{section.pk}/", {}),
        ("post", f"{detail(questionnaire)}questions/", {"section": section.pk, "kind": "yes_no", "text": "Fixed?"}),
        ("patch", f"{detail(questionnaire)}questions/{question.pk}/", {"text": "Changed"}),
        ("delete", f"{detail(questionnaire)}questions/{question.pk}/", {}),
    ]


@pytest.mark.parametrize("role", [BRM, AUDITOR, Role.SERVICE_DESK, Role.PROCESS_OWNER, NO_ROLE, ANONYMOUS])
def test_roles_that_may_not_edit_get_403_on_every_sub_resource(api_client, role):
    questionnaire = build_questionnaire()
    if role != ANONYMOUS:
        as_role(api_client, role)
    with assert_nothing_written(*CONTENT):
        for method, url, body in _sub_requests(questionnaire):
            response = getattr(api_client, method)(url, body, format="json")
            assert response.status_code == (401 if role == ANONYMOUS else 403), (method, url)
            assert response.json()["message"]


def test_sub_resources_of_a_missing_row_are_a_404(api_client):
    questionnaire, other = build_questionnaire(), build_questionnaire()
    as_role(api_client, OWNER)
    missing = QUESTIONNAIRES.missing_pk()
    foreign_section, foreign_question = other.sections.first(), other.questions.first()
    with assert_nothing_written(*CONTENT):
        for method, url, body in [
            ("post", f"{URL}{missing}/new-version/", {}),
            ("post", f"{URL}{missing}/sections/", {"title": "x"}),
            ("post", f"{URL}{missing}/questions/", {}),
            ("patch", f"{detail(questionnaire)}sections/{foreign_section.pk}/", {"title": "x"}),
            ("delete", f"{detail(questionnaire)}sections/{foreign_section.pk}/", {}),
            ("patch", f"{detail(questionnaire)}questions/{foreign_question.pk}/", {"text": "x"}),
            ("delete", f"{detail(questionnaire)}questions/{foreign_question.pk}/", {}),
            ("delete", f"{detail(questionnaire)}questions/999999/", {}),
        ]:
            response = getattr(api_client, method)(url, body, format="json")
            assert response.status_code == 404, (method, url)
            assert response.json()["message"]


# --- list and retrieve -------------------------------------------------------------------------


def test_the_list_shows_the_latest_version_of_each_questionnaire(api_client):
    first = locked_questionnaire()
    owner = user_with_role(OWNER)
    second_version = questionnaire_new_version(questionnaire=first, actor=owner)
    other = QuestionnaireFactory(title="Annual quality survey")
    as_role(api_client, AUDITOR)

    def listed(**params):
        return set(ids(api_client.get(URL, params)))

    assert listed() == {second_version.pk, other.pk}
    assert listed(all_versions="true") == {first.pk, second_version.pk, other.pk}
    assert listed(all_versions="false") == {second_version.pk, other.pk}
    assert ids(api_client.get(URL, {"family": str(first.family)})) == [second_version.pk, first.pk]
    assert listed(q="annual") == {other.pk}
    assert listed(locked="true") == set()
    assert listed(locked="true", all_versions="true") == {first.pk}
    assert listed(locked="false") == {second_version.pk, other.pk}
    row = {r["id"]: r for r in api_client.get(URL).json()["results"]}[second_version.pk]
    assert (row["version"], row["family"], row["locked"], row["question_count"]) == (2, str(first.family), False, 4)
    assert row["created_by"] == owner.pk and row["created_by_name"] == str(owner)
    # An older version is still reachable directly.
    assert api_client.get(detail(first)).json()["version"] == 1
    assert_invalid(api_client.get(URL, {"family": "not-a-uuid"}), "family")


def test_retrieve_nests_sections_questions_and_choices_in_order(api_client):
    questionnaire = QuestionnaireFactory(title="Desk survey", introduction="Hello", thanks="Bye")
    later = SectionFactory(questionnaire=questionnaire, title="Later", position=1)
    first = SectionFactory(questionnaire=questionnaire, title="First", position=0)
    rating = QuestionFactory(
        section=first, kind=QuestionKind.RATING, text="Overall", comment_below=3, position=0, service_ref="Desk"
    )
    choice = QuestionFactory(section=first, kind=QuestionKind.MULTIPLE, text="Channels", position=1, required=False)
    OptionFactory(question=choice, label="Email", position=1)
    OptionFactory(question=choice, label="Phone", position=0)
    QuestionFactory(section=later, kind=QuestionKind.TEXT, text="Anything else?", position=0, target_ref="T-1")
    as_role(api_client, Role.DEPARTMENT_HEAD)
    data = api_client.get(detail(questionnaire)).json()
    assert (data["title"], data["introduction"], data["thanks"], data["version"]) == ("Desk survey", "Hello", "Bye", 1)
    assert [s["title"] for s in data["sections"]] == ["First", "Later"]
    questions = data["sections"][0]["questions"]
    assert [q["text"] for q in questions] == ["Overall", "Channels"]
    assert questions[0] == {
        "id": rating.pk,
        "section": first.pk,
        "position": 0,
        "kind": "rating",
        "text": "Overall",
        "text_en": "",
        "help_text": "",
        "help_text_en": "",
        "required": True,
        "comment_below": 3,
        "service": None,
        "sla_target": None,
        "service_ref": "Desk",
        "target_ref": "",
        "options": [],
    }
    assert [o["label"] for o in questions[1]["options"]] == ["Phone", "Email"] and questions[1]["required"] is False
    assert data["sections"][1]["questions"][0]["target_ref"] == "T-1"


def test_retrieve_runs_a_constant_number_of_queries(api_client):
    questionnaire = QuestionnaireFactory()
    api_client.force_authenticate(user_with_role(AUDITOR))

    def content(n):
        for _ in range(n):
            section = SectionFactory(questionnaire=questionnaire)
            QuestionFactory(section=section)
            OptionFactory.create_batch(2, question=QuestionFactory(section=section, kind=QuestionKind.SINGLE))

    count = assert_constant_queries(api_client, detail(questionnaire), content, few=2, many=20)
    assert count <= 6


def test_list_runs_a_constant_number_of_queries(api_client):
    api_client.force_authenticate(user_with_role(AUDITOR))

    def questionnaires(n):
        for _ in range(n):
            QuestionFactory.create_batch(2, section=SectionFactory(questionnaire=locked_questionnaire()))

    count = assert_constant_queries(api_client, f"{URL}?page_size=100", questionnaires, few=3, many=25)
    assert count <= 4


# --- create, update, new version -----------------------------------------------------------------


def test_create_starts_version_one(api_client):
    user = as_role(api_client, QUALITY)
    response = api_client.post(URL, {"title": "Key customer survey", "introduction": "Dear customer"}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    questionnaire = Questionnaire.objects.get(pk=data["id"])
    assert (questionnaire.version, questionnaire.created_by, questionnaire.introduction) == (1, user, "Dear customer")
    assert (data["version"], data["locked"], data["sections"], data["question_count"]) == (1, False, [], 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"introduction": "no title"}, "title"),
        ({"title": "t", "version": 3}, "version"),
        ({"title": "t", "locked": True}, "locked"),
        ({"title": "t", "family": "00000000-0000-0000-0000-000000000000"}, "family"),
        ({"title": "t", "sections": []}, "sections"),
        ({"title": "t", "colour": "red"}, "colour"),
    ],
)
def test_bad_create_is_a_400_naming_the_field_and_writes_nothing(api_client, body, field):
    as_role(api_client, OWNER)
    with assert_nothing_written(*CONTENT):
        assert_invalid(api_client.post(URL, body, format="json"), field)


def test_update_changes_the_texts(api_client):
    questionnaire = QuestionnaireFactory()
    as_role(api_client, OWNER)
    response = api_client.patch(detail(questionnaire), {"thanks": "Much appreciated"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["thanks"] == "Much appreciated"
    response = api_client.put(detail(questionnaire), {"title": "Renamed"}, format="json")
    assert response.status_code == 200
    questionnaire.refresh_from_db()
    assert (questionnaire.title, questionnaire.thanks) == ("Renamed", "Much appreciated")
    assert_invalid(api_client.patch(detail(questionnaire), {"title": ""}, format="json"), "title")


def test_a_version_in_use_is_refused_with_a_400_saying_so(api_client):
    questionnaire = locked_questionnaire()
    section, question = questionnaire.sections.first(), questionnaire.questions.first()
    as_role(api_client, OWNER)
    with assert_nothing_written(*CONTENT):
        for method, url, body in [
            ("patch", detail(questionnaire), {"title": "Changed"}),
            ("put", detail(questionnaire), {"title": "Changed"}),
            ("post", f"{detail(questionnaire)}sections/", {"title": "More"}),
            ("patch", f"{detail(questionnaire)}sections/{section.pk}/", {"title": "Renamed"}),
            ("delete", f"{detail(questionnaire)}sections/{section.pk}/", {}),
            ("post", f"{detail(questionnaire)}questions/", {"section": section.pk, "kind": "yes_no", "text": "Ok?"}),
            ("patch", f"{detail(questionnaire)}questions/{question.pk}/", {"text": "Changed"}),
            ("delete", f"{detail(questionnaire)}questions/{question.pk}/", {}),
        ]:
            body = assert_invalid(getattr(api_client, method)(url, body, format="json"))
            assert body["errors"]["non_field_errors"] == [locked_message()], (method, url)


def test_new_version_copies_a_version_in_use(api_client):
    questionnaire = locked_questionnaire()
    user = as_role(api_client, QUALITY)
    response = api_client.post(f"{detail(questionnaire)}new-version/", format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    copy = Questionnaire.objects.get(pk=data["id"])
    assert (copy.family, copy.version, copy.created_by, copy.is_locked) == (questionnaire.family, 2, user, False)
    assert data["question_count"] == 4 and data["family"] == str(questionnaire.family)
    original = api_client.get(detail(questionnaire)).json()["sections"]
    texts = [[q["text"] for q in s["questions"]] for s in data["sections"]]
    assert texts == [[q["text"] for q in s["questions"]] for s in original]
    # A second copy while the first is still a draft is refused; so is copying a draft.
    with assert_nothing_written(*CONTENT):
        assert_invalid(api_client.post(f"{detail(questionnaire)}new-version/", format="json"))
        assert_invalid(api_client.post(f"{detail(copy)}new-version/", format="json"))


# --- sections ----------------------------------------------------------------------------------


def test_sections_are_added_renamed_and_deleted(api_client):
    questionnaire = QuestionnaireFactory()
    as_role(api_client, OWNER)
    url = f"{detail(questionnaire)}sections/"
    first = api_client.post(url, {"title": "Service", "description": "About our service"}, format="json")
    second = api_client.post(url, {"title": "People"}, format="json")
    assert first.status_code == second.status_code == 201, first.content
    assert first.json() == {
        "id": first.json()["id"],
        "position": 0,
        "title": "Service",
        "title_en": "",
        "description": "About our service",
        "description_en": "",
        "questions": [],
    }
    assert second.json()["position"] == 1
    response = api_client.patch(f"{url}{first.json()['id']}/", {"title": "Our service"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Our service"
    assert response.json()["description"] == "About our service"
    assert api_client.delete(f"{url}{first.json()['id']}/").status_code == 204
    sections = api_client.get(detail(questionnaire)).json()["sections"]
    assert [(s["title"], s["position"]) for s in sections] == [("People", 0)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "t", "position": 3}, "position"),
    ],
)
def test_bad_section_is_a_400_and_writes_nothing(api_client, body, field):
    questionnaire = QuestionnaireFactory()
    as_role(api_client, QUALITY)
    with assert_nothing_written(*CONTENT):
        assert_invalid(api_client.post(f"{detail(questionnaire)}sections/", body, format="json"), field)


# --- questions ---------------------------------------------------------------------------------


def test_questions_of_every_kind_are_added_through_the_service(api_client):
    questionnaire = QuestionnaireFactory()
    section = SectionFactory(questionnaire=questionnaire)
    as_role(api_client, OWNER)
    url = f"{detail(questionnaire)}questions/"
    bodies = [
        {"kind": "rating", "text": "Overall", "comment_below": 3, "service_ref": "Desk", "target_ref": "RT-4h"},
        {"kind": "nps", "text": "Recommend?", "help_text": "0 = never, 10 = surely"},
        {"kind": "single", "text": "Channel", "options": ["Phone", " Email ", ""]},
        {"kind": "multiple", "text": "Topics", "options": ["Speed", "Manner", "Result"], "required": False},
        {"kind": "yes_no", "text": "Fixed?"},
        {"kind": "text", "text": "Anything else?", "required": False},
    ]
    created = []
    for body in bodies:
        response = api_client.post(url, {"section": section.pk, **body}, format="json")
        assert response.status_code == 201, (body, response.content)
        created.append(response.json())
    assert [q["position"] for q in created] == [0, 1, 2, 3, 4, 5]
    assert created[0]["comment_below"] == 3 and created[0]["target_ref"] == "RT-4h"
    assert [o["label"] for o in created[2]["options"]] == ["Phone", "Email"]
    assert created[3]["required"] is False and len(created[3]["options"]) == 3
    nested = api_client.get(detail(questionnaire)).json()["sections"][0]["questions"]
    assert nested == created


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "rating"}, "text"),
        ({"text": "No kind"}, "kind"),
        ({"kind": "essay", "text": "t"}, "kind"),
        ({"kind": "single", "text": "t", "options": ["Only one"]}, "options"),
        ({"kind": "single", "text": "t", "options": ["Same", "same"]}, "options"),
        ({"kind": "single", "text": "t", "options": "a,b"}, "options"),
        ({"kind": "rating", "text": "t", "options": ["a", "b"]}, "options"),
        ({"kind": "nps", "text": "t", "comment_below": 3}, "comment_below"),
        ({"kind": "rating", "text": "t", "comment_below": 9}, "comment_below"),
        ({"kind": "rating", "text": "x" * 501}, "text"),
        ({"kind": "rating", "text": "t", "section": "OTHER"}, "section"),
        ({"kind": "rating", "text": "t", "section": None}, "section"),
        ({"kind": "rating", "text": "t", "position": 0}, "position"),
    ],
)
def test_bad_question_is_a_400_naming_the_field_and_writes_nothing(api_client, body, field):
    questionnaire = QuestionnaireFactory()
    section = SectionFactory(questionnaire=questionnaire)
    other = SectionFactory()
    body = {"section": section.pk, **body}
    if body["section"] == "OTHER":
        body["section"] = other.pk
    as_role(api_client, OWNER)
    with assert_nothing_written(*CONTENT):
        assert_invalid(api_client.post(f"{detail(questionnaire)}questions/", body, format="json"), field)


def test_a_question_is_edited_and_deleted(api_client):
    questionnaire = build_questionnaire()
    choice = questionnaire.questions.get(kind=QuestionKind.SINGLE)
    kept = choice.options.get(label="Email")
    as_role(api_client, QUALITY)
    url = f"{detail(questionnaire)}questions/{choice.pk}/"
    response = api_client.patch(url, {"text": "Preferred channel", "options": ["Email", "Chat"]}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["text"] == "Preferred channel" and [o["label"] for o in data["options"]] == ["Email", "Chat"]
    assert data["options"][0]["id"] == kept.pk  # unchanged labels keep their rows
    with assert_nothing_written(*CONTENT):
        assert_invalid(api_client.patch(url, {"kind": "text"}, format="json"), "options")
        assert_invalid(api_client.patch(url, {"section": choice.section_id}, format="json"), "section")
        assert_invalid(api_client.patch(url, {"required": "perhaps"}, format="json"), "required")
    response = api_client.patch(url, {"kind": "text", "options": []}, format="json")
    assert response.status_code == 200 and response.json()["options"] == []
    assert api_client.delete(url).status_code == 204
    assert not Question.objects.filter(pk=choice.pk).exists()
    positions = list(
        Question.objects.filter(section=choice.section).order_by("position").values_list("position", flat=True)
    )
    assert positions == list(range(len(positions)))


# --- schema ------------------------------------------------------------------------------------


def test_schema_documents_the_questionnaire_endpoints(tmp_path):
    import yaml

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    assert set(paths[URL]) >= {"get", "post"} and "delete" not in paths[f"{URL}{{id}}/"]
    assert "post" in paths[f"{URL}{{id}}/new-version/"]
    assert "post" in paths[f"{URL}{{id}}/sections/"]
    assert {"patch", "delete"} <= set(paths[f"{URL}{{id}}/sections/{{section_id}}/"])
    assert "post" in paths[f"{URL}{{id}}/questions/"]
    question = paths[f"{URL}{{id}}/questions/{{question_id}}/"]
    assert {"patch", "delete"} <= set(question) and question["patch"]["description"]
    params = {p["name"] for p in paths[URL]["get"]["parameters"]}
    assert {"q", "locked", "all_versions", "family", "page"} <= params
    detail_schema = paths[f"{URL}{{id}}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert detail_schema["$ref"].endswith("/QuestionnaireDetail")


def test_the_browsable_api_renders_the_questionnaire_endpoints(api_client):
    questionnaire = build_questionnaire()
    api_client.force_login(user_with_role(OWNER))
    for url in [URL, detail(questionnaire)]:
        response = api_client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
