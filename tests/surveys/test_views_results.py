"""Survey results pages: who may read them, what they show, their query counts, the answer
export and the publication mail."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from improvement.models import ImprovementItem
from itsm.core.roles import Role
from itsm.core.testing import assert_constant_queries
from surveys import results
from surveys.choices import CampaignStatus, InvitationStatus
from surveys.models import Answer, Campaign
from tests.factories import DepartmentFactory, OrganisationFactory
from tests.surveys.factories import CampaignFactory, ResponseFactory
from tests.surveys.test_results import answer, build_questionnaire, build_results, make_invitation

pytestmark = pytest.mark.django_db

READERS = [
    Role.SATISFACTION_OWNER,
    Role.QUALITY_MANAGER,
    Role.BR_MANAGER,
    Role.DEPARTMENT_HEAD,
    Role.MANAGEMENT_REP,
    Role.PROCESS_OWNER,
    Role.SERVICE_LEVEL_MANAGER,
    Role.AUDITOR,
]
REFUSED = [Role.SERVICE_DESK, None]


@pytest.fixture
def data():
    return build_results()


def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _results_url(campaign) -> str:
    return reverse("campaign_results", args=[campaign.pk])


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_reading_role_sees_the_results(client_as, data, role):
    response = client_as(role).get(_results_url(data.campaign))
    assert response.status_code == 200
    assert response.templates[0].name == "surveys/results.html"
    assert 'data-testid="headline"' in response.content.decode()
    assert reverse("campaign_free_text", args=[data.campaign.pk]) in response.content.decode()


@pytest.mark.parametrize("role", REFUSED)
def test_other_roles_are_refused_before_the_lookup(client_as, data, role):
    client = client_as(role)
    for name in ("campaign_results", "campaign_free_text"):
        assert client.get(reverse(name, args=[data.campaign.pk])).status_code == 403
        assert client.get(reverse(name, args=[data.campaign.pk + 1000])).status_code == 403
    for fmt in ("csv", "xlsx"):
        assert client.get(reverse("campaign_answers_export", args=[data.campaign.pk, fmt])).status_code == 403


def test_signed_out_users_go_to_the_login_page(client, data):
    for url in (
        _results_url(data.campaign),
        reverse("campaign_free_text", args=[data.campaign.pk]),
        reverse("campaign_answers_export", args=[data.campaign.pk, "csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_unknown_campaign_is_a_404(client_as, data):
    client = client_as(Role.AUDITOR)
    missing = data.campaign.pk + 1000
    assert client.get(reverse("campaign_results", args=[missing])).status_code == 404
    assert client.get(reverse("campaign_free_text", args=[missing])).status_code == 404
    assert client.get(reverse("campaign_answers_export", args=[missing, "csv"])).status_code == 404


def test_post_is_not_allowed(client_as, data):
    assert client_as(Role.AUDITOR).post(_results_url(data.campaign)).status_code == 405


@pytest.mark.parametrize("status", [CampaignStatus.DRAFT, CampaignStatus.IN_REVIEW, CampaignStatus.APPROVED])
def test_before_launch_the_page_says_there_are_no_results(client_as, status):
    campaign = CampaignFactory(status=status)
    response = _english(client_as(Role.SATISFACTION_OWNER)).get(_results_url(campaign))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="results-not-launched"' in body
    assert "No results before launch" in body
    assert 'data-testid="headline"' not in body


# --- content -----------------------------------------------------------------------------------


def test_results_page_shows_the_figures(client_as, data):
    # An item of the register raised from these results (the register itself is tested there).
    _register_item(data.campaign, "Faster replies", data.questions["r2"])
    data.campaign.analysis = "Staff attitude <needs> work."
    data.campaign.save()
    response = _english(client_as(Role.DEPARTMENT_HEAD)).get(_results_url(data.campaign))
    body = response.content.decode()
    context = response.context
    assert context["summary"] == results.campaign_summary(data.campaign)
    assert 'data-testid="response-rate">62.5 %' in body
    assert 'data-testid="satisfaction">66.7 %' in body
    assert 'data-testid="nps">40<' in body
    assert 'data-testid="average-rating">3.67<' in body
    assert "5 answered of 8 sent" in body
    assert "11 invited · 2 address invalid · 1 not sent yet · 1 unsubscribed" in body
    assert ">live<" in body  # running: the rate is live
    # Response rates: organisation totals with their departments under them.
    assert body.count('data-testid="rate-organisation"') == 3
    assert body.count('data-testid="rate-department"') == 4
    # One block per question, each with its chart (free text has none).
    assert body.count('data-testid="question-block"') == 7
    assert body.count('class="itsm-chart"') == 6 + 1  # six question charts and the organisation chart
    assert f'id="question-{data.questions["r1"].pk}"' in body
    # Results by organisation / department and the analysis notes (escaped).
    assert [row.organisation for row in context["by_organisation"]] == ["Alpha", "Beta", "Gamma"]
    assert len(context["by_department"]) == 4
    assert "Staff attitude &lt;needs&gt; work." in body
    assert "Faster replies" in body
    # Running: improvements are proposed once closed.
    assert 'data-testid="propose-improvement"' not in body
    assert context["free_text_count"] == 4
    # Respondents are not named.
    for contact_email in data.campaign.invitations.values_list("email", flat=True):
        assert contact_email not in body


def test_results_page_offers_improvements_once_closed(client_as):
    data = build_results(status=CampaignStatus.CLOSED)
    body = client_as(Role.BR_MANAGER).get(_results_url(data.campaign)).content.decode()
    assert 'data-testid="propose-improvement"' in body
    create = reverse("improvement_item_create")
    question = data.questions["r1"].pk
    assert f"{create}?source=survey_question&amp;id={data.campaign.pk}&amp;part={question}" in body
    # A reader gets no such link.
    body = client_as(Role.AUDITOR).get(_results_url(data.campaign)).content.decode()
    assert create not in body


def test_launched_campaign_without_answers_shows_dashes(client_as):
    questionnaire, _q, _o = build_questionnaire()
    campaign = CampaignFactory(questionnaire=questionnaire, status=CampaignStatus.RUNNING)
    response = client_as(Role.AUDITOR).get(_results_url(campaign))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="response-rate">—' in body
    assert 'data-testid="nps">—' in body
    assert body.count('data-testid="question-block"') == 7


def _register_item(campaign, title, question):
    """An item of the register from ``campaign``'s results, written directly: a running
    campaign takes none through the service, the page shows what is there."""
    return ImprovementItem.objects.create(
        reference=f"IMP-T-{ImprovementItem.objects.count() + 1}",
        title=title,
        priority="high",
        source_kind="survey_question",
        source_type=ContentType.objects.get_for_model(Campaign),
        source_id=campaign.pk,
        source_part_id=question.pk,
    )


def _add_responses(campaign, questions, options):
    """``make_rows`` for the query-count checks: each row is a response from a new organisation
    and department, answering every question, plus an improvement item."""

    def make(count: int) -> None:
        for _ in range(count):
            organisation = OrganisationFactory()
            department = DepartmentFactory(organisation=organisation)
            invitation = make_invitation(campaign, organisation, department, InvitationStatus.ANSWERED)
            make_invitation(campaign, organisation, department, InvitationStatus.BOUNCED)
            response = ResponseFactory(invitation=invitation)
            answer(response, questions["r1"], value=4, comment="fine")
            answer(response, questions["r2"], value=2)
            answer(response, questions["nps"], value=9)
            answer(response, questions["yn"], value=1)
            answer(response, questions["single"], option=options["B"])
            answer(response, questions["multi"], option=options["X"])
            answer(response, questions["multi"], option=options["Z"])
            answer(response, questions["text"], text="Some words")
            _register_item(campaign, "More", questions["r1"])

    return make


def test_results_page_runs_constant_queries(client_as):
    data = build_results(status=CampaignStatus.CLOSED)
    client = client_as(Role.SATISFACTION_OWNER)
    assert_constant_queries(
        client, _results_url(data.campaign), _add_responses(data.campaign, data.questions, data.options), few=3, many=15
    )


def test_free_text_page_runs_constant_queries(client_as):
    data = build_results()
    client = client_as(Role.AUDITOR)
    url = reverse("campaign_free_text", args=[data.campaign.pk])
    make = _add_responses(data.campaign, data.questions, data.options)
    assert_constant_queries(client, url, make, few=3, many=40)
    assert_constant_queries(client, f"{url}?question={data.questions['r1'].pk}", make, few=1, many=5)


# --- free text ---------------------------------------------------------------------------------


def test_free_text_page_lists_answers_and_comments_anonymously(client_as, data):
    client = _english(client_as(Role.MANAGEMENT_REP))
    url = reverse("campaign_free_text", args=[data.campaign.pk])
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="free-text-answer"') == 4
    assert "More training &lt;b&gt;please&lt;/b&gt;" in body  # escaped
    assert "Quick reply" in body and "Too slow" in body
    assert "Alpha / A2" in body
    for invitation in data.campaign.invitations.select_related("contact"):
        assert invitation.email not in body
        assert invitation.contact.name not in body
    # Filtered by question.
    response = client.get(url, {"question": data.questions["r2"].pk})
    assert response.content.decode().count('data-testid="free-text-answer"') == 2
    # A question of another questionnaire: an error and no rows, never "everything".
    _questionnaire, foreign, _o = build_questionnaire()
    response = client.get(url, {"question": foreign["text"].pk})
    assert response.status_code == 200
    assert 'data-testid="free-text-answer"' not in response.content.decode()


def test_free_text_page_is_paginated(client_as, data):
    make = _add_responses(data.campaign, data.questions, data.options)
    make(30)  # 30 texts + 30 comments + the fixture's 4
    client = client_as(Role.AUDITOR)
    url = reverse("campaign_free_text", args=[data.campaign.pk])
    first = client.get(url)
    assert first.context["page_obj"].paginator.count == 64
    assert len(first.context["answers"]) == 50
    second = client.get(url, {"page": 2})
    assert len(second.context["answers"]) == 14
    assert client.get(url, {"page": "nonsense"}).status_code == 200


# --- export ------------------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def test_csv_export_has_one_row_per_answer_and_no_contacts(client_as, data):
    client = _english(client_as(Role.AUDITOR))
    response = client.get(reverse("campaign_answers_export", args=[data.campaign.pk, "csv"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"survey-{data.campaign.pk}-answers-" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == [
        "Response",
        "Submitted at",
        "Organisation",
        "Department",
        "Section",
        "Question",
        "Question type",
        "Value",
        "Choice",
        "Text",
        "Comment",
        "Language",
    ]
    assert len(rows) - 1 == Answer.objects.filter(campaign=data.campaign).count() == 32
    first_response = data.responses[0]
    mine = [row for row in rows[1:] if row[0] == str(first_response.pk)]
    assert [row[5] for row in mine] == [
        "Speed of service",
        "Attitude of staff",
        "Would you recommend us?",
        "Was the fault fixed?",
        "Main channel",
        "Services used",
        "Services used",
        "Anything else?",
    ]
    assert mine[1][4] == "Service" and mine[1][7] == "4" and mine[1][10] == "Quick reply"
    assert mine[1][6] == "Rating 1–5"
    assert mine[5][8] == "X" and mine[6][8] == "Y"
    assert mine[7][9] == "Great service"
    assert mine[0][2] == "Alpha" and mine[0][3] == "A1"
    local = timezone.localtime(first_response.submitted_at).strftime("%Y-%m-%d %H:%M:%S")
    assert mine[0][1] == local
    text = "\n".join(",".join(row) for row in rows)
    for invitation in data.campaign.invitations.select_related("contact"):
        assert invitation.email not in text
        assert invitation.contact.name not in text


def test_xlsx_export_opens_with_openpyxl(client_as, data):
    response = client_as(Role.SATISFACTION_OWNER).get(
        reverse("campaign_answers_export", args=[data.campaign.pk, "xlsx"])
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 32
    assert len(rows[0]) == 12
    values = [row[7] for row in rows[1:] if row[7] is not None]
    assert all(isinstance(value, int) for value in values)


def test_export_of_an_unknown_format_is_a_404(client_as, data):
    assert client_as(Role.AUDITOR).get(f"/surveys/campaigns/{data.campaign.pk}/answers.pdf").status_code == 404


def test_export_holds_only_this_campaigns_answers(client_as, data):
    other = CampaignFactory(questionnaire=data.campaign.questionnaire, status=CampaignStatus.RUNNING)
    invitation = make_invitation(other, OrganisationFactory(), None, InvitationStatus.ANSWERED)
    answer(ResponseFactory(invitation=invitation), data.questions["r1"], value=1)
    response = client_as(Role.AUDITOR).get(reverse("campaign_answers_export", args=[data.campaign.pk, "csv"]))
    assert len(_csv_rows(response)) == 1 + 32


# --- the publication mail ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_results_published_mail_renders(data, language):
    data.campaign.closed_at = timezone.now()
    context = {
        "campaign": data.campaign,
        "summary": results.campaign_summary(data.campaign),
        "url": "https://itsm.example/surveys/campaigns/1/results/",
        "recipient_name": "Li Lei",
    }
    with translation.override(language):
        subject = render_to_string("surveys/email/results_published.subject.txt", context)
        text = render_to_string("surveys/email/results_published.txt", context)
        html = render_to_string("surveys/email/results_published.html", context)
    assert "H1 survey" in subject
    assert "\n" not in subject.strip()
    for body in (text, html):
        assert "Li Lei" in body
        assert "62.5 %" in body
        assert "66.7 %" in body
        assert "40" in body
        assert "https://itsm.example/surveys/campaigns/1/results/" in body
        assert timezone.localtime(data.campaign.launched_at).strftime("%Y-%m-%d") in body


def test_results_published_mail_without_answers_and_with_special_characters():
    campaign = CampaignFactory(title="R&D <survey>", status=CampaignStatus.CLOSED)
    context = {
        "campaign": campaign,
        "summary": results.campaign_summary(campaign),
        "url": "https://itsm.example/r",
        "recipient_name": "O'Brien",
    }
    with translation.override("en"):
        text = render_to_string("surveys/email/results_published.txt", context)
        html = render_to_string("surveys/email/results_published.html", context)
    assert "R&D <survey>" in text and "O'Brien" in text  # plain text is not HTML-escaped
    assert "R&amp;D &lt;survey&gt;" in html
    assert "Response rate: —" in text
    assert "Net promoter score: —" in text


def test_campaign_summary_holds_numbers_only(data):
    # What the publication mail carries: figures, nothing about who answered.
    summary = results.campaign_summary(data.campaign)
    assert all(isinstance(getattr(summary, name), int | float | type(None)) for name in summary.__dataclass_fields__)
