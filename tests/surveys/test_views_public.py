"""The customer's survey page: no login, the contact's language, per-question validation,
one atomic submission, clear 404 / 410 pages, throttling, unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from itsm.core.choices import Language
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from itsm.core.tokens import TokenUsed
from surveys.answers import AnswerInput
from surveys.choices import InvitationStatus, QuestionKind
from surveys.models import Answer, Invitation, Question, SurveyResponse
from surveys.services.campaigns import campaign_transition
from surveys.services.invitations import SurveyClosed, response_submit
from surveys.views.public import POSTS_PER_LINK_PER_HOUR
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory
from tests.surveys.campaign_flow import UNSUBSCRIBE_LINK, form_data, good_answers, launch_campaign, links_to

pytestmark = pytest.mark.django_db

LAUNCH = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 Asia/Shanghai


@pytest.fixture
def survey(make_user, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(name="Acme")
    department = DepartmentFactory(organisation=organisation, name="Finance")
    chinese = ContactFactory(organisation=organisation, department=department)
    english = ContactFactory(organisation=organisation, department=department, preferred_language=Language.EN)
    with time_machine.travel(LAUNCH, tick=False), django_capture_on_commit_callbacks(execute=True):
        campaign = launch_campaign(make_user, [organisation])
    return {
        "campaign": campaign,
        "chinese": chinese,
        "english": english,
        "zh_token": links_to(chinese.email)[0],
        "en_token": links_to(english.email)[0],
    }


def _url(token: str) -> str:
    return reverse("survey_answer", args=[token])


@pytest.fixture(autouse=True)
def _during_the_campaign():
    with time_machine.travel(LAUNCH + timedelta(hours=1), tick=False):
        yield


def test_the_page_opens_without_login_in_the_contacts_language(client, survey):
    response = client.get(_url(survey["en_token"]))
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert "Send my answers" in response.content.decode()
    assert "Overall satisfaction" in response.content.decode()
    response = client.get(_url(survey["zh_token"]))
    assert response["Content-Language"] == "zh-hans"
    assert "Send my answers" not in response.content.decode()


def test_the_language_can_be_switched(client, survey):
    response = client.get(_url(survey["zh_token"]) + "?lang=en")
    assert response["Content-Language"] == "en"
    assert client.get(_url(survey["zh_token"]) + "?lang=xx")["Content-Language"] == "zh-hans"


def test_the_page_reveals_nothing_about_others(client, survey):
    body = client.get(_url(survey["en_token"])).content.decode()
    assert survey["chinese"].name not in body
    assert survey["chinese"].email not in body
    assert survey["english"].email not in body


def test_a_valid_submission_records_every_answer_and_thanks(client, survey):
    campaign = survey["campaign"]
    response = client.post(_url(survey["en_token"]), form_data(campaign))
    assert response.status_code == 200
    assert "Thank you for your answers" in response.content.decode()
    invitation = Invitation.objects.get(campaign=campaign, contact=survey["english"])
    assert invitation.status == InvitationStatus.ANSWERED
    recorded = SurveyResponse.objects.get(invitation=invitation)
    assert recorded.organisation_id == survey["english"].organisation_id
    answers = {a.question.kind: a for a in Answer.objects.filter(response=recorded).select_related("question")}
    assert answers[QuestionKind.RATING].value == 5
    assert answers[QuestionKind.NPS].value == 9
    assert answers[QuestionKind.SINGLE].option.label == "Phone"
    assert answers[QuestionKind.TEXT].text == "Keep it up"


def test_a_second_submission_gets_the_thank_you_page_with_410(client, survey):
    campaign = survey["campaign"]
    client.post(_url(survey["en_token"]), form_data(campaign))
    again = client.post(_url(survey["en_token"]), form_data(campaign, rating=1, comment="changed my mind"))
    assert again.status_code == 410
    assert client.get(_url(survey["en_token"])).status_code == 410
    assert SurveyResponse.objects.count() == 1
    assert set(Answer.objects.filter(question__kind=QuestionKind.RATING).values_list("value", flat=True)) == {5}


def test_validation_errors_are_shown_per_question_and_nothing_is_written(client, survey):
    campaign = survey["campaign"]
    data = form_data(campaign, rating=2, comment="")  # a rating of 2 needs a comment
    nps = Question.objects.get(questionnaire=campaign.questionnaire_id, kind=QuestionKind.NPS)
    data.pop(f"q{nps.pk}")  # required
    with assert_nothing_written(SurveyResponse, Answer):
        response = client.post(_url(survey["en_token"]), data)
    assert response.status_code == 400
    form = response.context["form"]
    rating = Question.objects.get(questionnaire=campaign.questionnaire_id, kind=QuestionKind.RATING)
    assert form.errors.get(f"q{nps.pk}")
    assert form.errors.get(f"q{rating.pk}_comment") or form.errors.get(f"q{rating.pk}")
    # the link still works: the customer fixes the answers and sends again
    fixed = form_data(campaign, rating=2, comment="too slow on Mondays")
    assert client.post(_url(survey["en_token"]), fixed).status_code == 200
    assert SurveyResponse.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"q0": "5"},
        {},
    ],
)
def test_garbage_input_is_a_400_never_a_500(client, survey, data):
    with assert_nothing_written(SurveyResponse, Answer):
        assert client.post(_url(survey["en_token"]), data).status_code == 400


def test_out_of_range_and_foreign_choices_are_refused(client, survey):
    campaign = survey["campaign"]
    rating = Question.objects.get(questionnaire=campaign.questionnaire_id, kind=QuestionKind.RATING)
    choice = Question.objects.get(questionnaire=campaign.questionnaire_id, kind=QuestionKind.SINGLE)
    for field, value in ((f"q{rating.pk}", "9"), (f"q{choice.pk}", "999999"), (f"q{rating.pk}", "<script>")):
        data = {**form_data(campaign), field: value}
        with assert_nothing_written(SurveyResponse, Answer):
            response = client.post(_url(survey["en_token"]), data)
        assert response.status_code == 400
        assert response.context["form"].errors.get(field)


def test_the_service_refuses_invalid_answers_and_keeps_the_link_usable(survey):
    campaign = survey["campaign"]
    nps = Question.objects.get(questionnaire=campaign.questionnaire_id, kind=QuestionKind.NPS)
    bad = [a if a.question_id != nps.pk else AnswerInput(question_id=nps.pk, value=11) for a in good_answers(campaign)]
    with assert_nothing_written(SurveyResponse, Answer), pytest.raises(ValidationError) as raised:
        response_submit(raw_token=survey["zh_token"], answers=bad)
    assert str(nps.pk) in raised.value.message_dict
    response_submit(raw_token=survey["zh_token"], answers=good_answers(campaign))
    with pytest.raises(TokenUsed):
        response_submit(raw_token=survey["zh_token"], answers=good_answers(campaign))


@pytest.mark.parametrize("token", ["nope", "x" * 43, "a" * 500, "%00"])
def test_unknown_links_get_404(client, survey, token):
    response = client.get(f"/s/{token}/")
    assert response.status_code == 404


def test_after_the_close_date_the_link_has_expired(client, survey):
    with time_machine.travel(survey["campaign"].closes_at + timedelta(minutes=1), tick=False):
        response = client.get(_url(survey["en_token"]))
    assert response.status_code == 410


def test_a_campaign_closed_early_says_so(client, survey, make_user):
    campaign_transition(campaign=survey["campaign"], action="close", actor=make_user(Role.SATISFACTION_OWNER))
    response = client.get(_url(survey["en_token"]))
    assert response.status_code == 410
    assert response.context["code"] == "closed"
    with pytest.raises(SurveyClosed):
        response_submit(raw_token=survey["zh_token"], answers=good_answers(survey["campaign"]))
    assert client.post(_url(survey["en_token"]), form_data(survey["campaign"])).status_code == 410


def test_submissions_are_throttled_per_link(client, survey):
    cache.clear()
    campaign = survey["campaign"]
    bad = form_data(campaign)
    bad.pop(next(iter(bad)))
    codes = [client.post(_url(survey["en_token"]), bad).status_code for _ in range(POSTS_PER_LINK_PER_HOUR + 1)]
    assert codes[:-1] == [400] * POSTS_PER_LINK_PER_HOUR
    assert codes[-1] == 429
    # another customer's link from the same address still works
    assert client.post(_url(survey["zh_token"]), form_data(campaign)).status_code == 200


def test_submissions_are_throttled_per_address(client, survey, settings):
    cache.clear()
    from surveys.views import public

    limit = public.POSTS_PER_ADDRESS_PER_HOUR
    codes = [client.post(f"/s/{'b' * 40}{n:03d}/", {}).status_code for n in range(limit + 1)]
    assert codes[:-1] == [404] * limit
    assert codes[-1] == 429


def test_unsubscribe_asks_first_then_records(client, survey):
    (raw,) = links_to(survey["english"].email, UNSUBSCRIBE_LINK)
    url = reverse("survey_unsubscribe", args=[raw])
    page = client.get(url)
    assert page.status_code == 200
    survey["english"].refresh_from_db()
    assert not survey["english"].unsubscribed
    done = client.post(url)
    assert done.status_code == 200
    survey["english"].refresh_from_db()
    assert survey["english"].unsubscribed
    invitation = Invitation.objects.get(campaign=survey["campaign"], contact=survey["english"])
    assert invitation.unsubscribed_at is not None
    assert client.post(url).status_code == 200  # twice is fine


def test_the_survey_link_does_not_unsubscribe(client, survey):
    response = client.post(reverse("survey_unsubscribe", args=[survey["en_token"]]))
    assert response.status_code == 404
