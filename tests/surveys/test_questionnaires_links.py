"""A question links what it measures to the service catalogue and an SLA target, and the
links survive a new version, show in the builder and the results, and go through the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from itsm.core.roles import Role
from sla.choices import AgreementKind, ServiceStatus
from sla.models import Service
from surveys.answers import questionnaire_content
from surveys.choices import QuestionKind
from surveys.services.questionnaires import (
    question_create,
    question_update,
    questionnaire_lock,
    questionnaire_new_version,
)
from tests.sla.factories import AgreementFactory, ServiceFactory, TargetFactory
from tests.surveys.factories import QuestionnaireFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_user):
    return make_user(Role.SATISFACTION_OWNER)


@pytest.fixture
def links():
    service = ServiceFactory(code="desk", name="Service desk")
    agreement = AgreementFactory(kind=AgreementKind.SLA, number="SLA-2026-001")
    agreement.services.add(service)
    return service, TargetFactory(agreement=agreement)


def test_a_question_links_a_service_and_an_sla_target(owner, links):
    service, target = links
    section = SectionFactory()
    question = question_create(
        section=section, kind=QuestionKind.RATING, text="Desk speed", service=service, sla_target=target, actor=owner
    )
    assert (question.service, question.sla_target) == (service, target)
    (content_question,) = questionnaire_content(section.questionnaire).questions
    assert content_question.service_label == "desk Service desk"
    assert content_question.target_label.startswith("SLA-2026-001 P1")


def test_an_ola_target_or_a_target_not_covering_the_service_is_refused(owner, links):
    service, _target = links
    ola_target = TargetFactory(agreement=AgreementFactory(kind=AgreementKind.OLA))
    other_target = TargetFactory(agreement=AgreementFactory(kind=AgreementKind.SLA))
    section = SectionFactory()
    with pytest.raises(ValidationError) as raised:
        question_create(section=section, kind=QuestionKind.RATING, text="x", sla_target=ola_target, actor=owner)
    assert "sla_target" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        question_create(
            section=section, kind=QuestionKind.RATING, text="x", service=service, sla_target=other_target, actor=owner
        )
    assert "sla_target" in raised.value.message_dict


def test_a_retired_service_is_refused(owner):
    retired = ServiceFactory()
    Service.objects.filter(pk=retired.pk).update(status=ServiceStatus.RETIRED)
    retired.refresh_from_db()
    with pytest.raises(ValidationError) as raised:
        question_create(section=SectionFactory(), kind=QuestionKind.RATING, text="x", service=retired, actor=owner)
    assert "service" in raised.value.message_dict


def test_links_are_copied_into_a_new_version_and_can_be_changed(owner, links):
    service, target = links
    section = SectionFactory()
    question_create(
        section=section, kind=QuestionKind.RATING, text="Desk", service=service, sla_target=target, actor=owner
    )
    questionnaire_lock(questionnaire=section.questionnaire)
    copy = questionnaire_new_version(questionnaire=section.questionnaire, actor=owner)
    copied = copy.questions.get()
    assert (copied.service_id, copied.sla_target_id) == (service.pk, target.pk)
    question_update(question=copied, sla_target=None, actor=owner)
    copied.refresh_from_db()
    assert copied.sla_target is None


def test_the_builder_shows_the_links(client_as, links):
    service, target = links
    client = client_as(Role.SATISFACTION_OWNER)
    section = SectionFactory(questionnaire=QuestionnaireFactory())
    question_create(
        section=section, kind=QuestionKind.RATING, text="Desk", service=service, sla_target=target, actor=client.user
    )
    body = client.get(reverse("questionnaire_detail", args=[section.questionnaire_id])).content.decode()
    assert 'data-testid="service-link"' in body and "Service desk" in body
    assert "SLA-2026-001" in body


def test_the_question_form_offers_services_and_sla_targets(client_as, links):
    service, target = links
    client = client_as(Role.SATISFACTION_OWNER)
    section = SectionFactory(questionnaire=QuestionnaireFactory())
    url = reverse("question_create", args=[section.questionnaire_id, section.pk])
    response = client.post(
        url, {"kind": "rating", "text": "Desk", "required": "on", "service": service.pk, "sla_target": target.pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    question = section.questions.get()
    assert (question.service_id, question.sla_target_id) == (service.pk, target.pk)


def test_the_api_takes_and_shows_the_links(api_as, links):
    service, target = links
    api = api_as(Role.SATISFACTION_OWNER)
    section = SectionFactory(questionnaire=QuestionnaireFactory())
    response = api.post(
        f"/api/v1/questionnaires/{section.questionnaire_id}/questions/",
        {"section": section.pk, "kind": "rating", "text": "Desk", "service": service.pk, "sla_target": target.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    detail = api.get(f"/api/v1/questionnaires/{section.questionnaire_id}/").json()
    question = detail["sections"][0]["questions"][0]
    assert (question["service"], question["sla_target"]) == (service.pk, target.pk)
