"""Survey results selectors: every figure of a small campaign computed by hand.

The campaign (``results_campaign``) has three organisations:

=============  =====  ======================================  ========
organisation   dept   invitations                             answered
=============  =====  ======================================  ========
Alpha          A1     answered (R1), answered (R2), sent       2 / 3
Alpha          A2     answered (R3), bounced                   1 / 1
Beta           B1     answered (R4), sent, pending             1 / 2
Gamma          —      answered (R5), bounced, sent+unsubscribed 1 / 2
=============  =====  ======================================  ========

11 invited, 8 sent (sent or answered), 5 answered, 2 bounced, 1 pending, 1 unsubscribed:
response rate 5 / 8 = 62.5 %. Answers per response (R1 … R5):

* rating r1: 5, 4, 3, 2, 5            → 1:0 2:1 3:1 4:1 5:2, average 3.8, satisfied 3/5 = 60 %
* rating r2: 4 ("Quick reply"), 1 ("Too slow"), 5, 4, —  → average 3.5, satisfied 3/4 = 75 %
* nps:       10, 9, 9, 7, 3           → promoters 3, detractors 1: NPS 40, average 7.6
* yes / no:  yes, no, yes, yes, —     → yes 3 (75 %), no 1 (25 %)
* single:    A, B, A, A, C            → A 3 (60 %), B 1, C 1 (20 %)
* multiple:  X+Y, Y, X+Y+Z, —, Z      → 4 respondents: X 2 (50 %), Y 3 (75 %), Z 2 (50 %)
* text:      "Great service", —, "More training", —, —  → 2 answers

All ratings: 9 answers, 6 of them 4–5 → 66.7 %, average 33 / 9 = 3.67.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from itsm.core.charts import meta, render_svg
from surveys import results
from surveys.choices import CampaignStatus, InvitationStatus, QuestionKind
from surveys.models import Campaign, Question, QuestionOption
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory
from tests.surveys.factories import (
    AnswerFactory,
    CampaignFactory,
    InvitationFactory,
    OptionFactory,
    QuestionFactory,
    QuestionnaireFactory,
    ResponseFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class ResultsData:
    campaign: Campaign
    questions: dict[str, Question]
    options: dict[str, QuestionOption]
    organisations: dict[str, object] = field(default_factory=dict)
    departments: dict[str, object] = field(default_factory=dict)
    responses: list = field(default_factory=list)


def make_invitation(campaign, organisation, department, status, **fields):
    contact = ContactFactory(organisation=organisation, department=department)
    now = timezone.now()
    if status == InvitationStatus.ANSWERED:
        fields.setdefault("answered_at", now)
    if status in (InvitationStatus.SENT, InvitationStatus.ANSWERED):
        fields.setdefault("sent_at", now - timedelta(days=1))
    if status == InvitationStatus.BOUNCED:
        fields.setdefault("bounced_at", now)
    return InvitationFactory(campaign=campaign, contact=contact, status=status, **fields)


def answer(response, question, **fields):
    return AnswerFactory(response=response, question=question, **fields)


def build_questionnaire():
    questionnaire = QuestionnaireFactory(title="Service satisfaction")
    first = SectionFactory(questionnaire=questionnaire, title="Service", position=0)
    second = SectionFactory(questionnaire=questionnaire, title="Details", position=1)
    q = {
        "r1": QuestionFactory(section=first, position=0, kind=QuestionKind.RATING, text="Speed of service"),
        "r2": QuestionFactory(section=first, position=1, kind=QuestionKind.RATING, text="Attitude of staff"),
        "nps": QuestionFactory(section=first, position=2, kind=QuestionKind.NPS, text="Would you recommend us?"),
        "yn": QuestionFactory(section=second, position=0, kind=QuestionKind.YES_NO, text="Was the fault fixed?"),
        "single": QuestionFactory(section=second, position=1, kind=QuestionKind.SINGLE, text="Main channel"),
        "multi": QuestionFactory(section=second, position=2, kind=QuestionKind.MULTIPLE, text="Services used"),
        "text": QuestionFactory(section=second, position=3, kind=QuestionKind.TEXT, text="Anything else?"),
    }
    options = {
        label: OptionFactory(question=q[key], label=label, position=position)
        for key, labels in (("single", "ABC"), ("multi", "XYZ"))
        for position, label in enumerate(labels)
    }
    return questionnaire, q, options


def build_results(status: str = CampaignStatus.RUNNING) -> ResultsData:
    questionnaire, q, o = build_questionnaire()
    campaign = CampaignFactory(
        questionnaire=questionnaire, status=status, launched_at=timezone.now(), title="H1 survey"
    )
    data = ResultsData(campaign=campaign, questions=q, options=o)
    alpha = OrganisationFactory(name="Alpha")
    beta = OrganisationFactory(name="Beta")
    gamma = OrganisationFactory(name="Gamma")
    a1 = DepartmentFactory(organisation=alpha, name="A1")
    a2 = DepartmentFactory(organisation=alpha, name="A2")
    b1 = DepartmentFactory(organisation=beta, name="B1")
    data.organisations = {"Alpha": alpha, "Beta": beta, "Gamma": gamma}
    data.departments = {"A1": a1, "A2": a2, "B1": b1}
    A, S, P, B = InvitationStatus.ANSWERED, InvitationStatus.SENT, InvitationStatus.PENDING, InvitationStatus.BOUNCED
    answered = [
        make_invitation(campaign, alpha, a1, A),
        make_invitation(campaign, alpha, a1, A),
        make_invitation(campaign, alpha, a2, A),
        make_invitation(campaign, beta, b1, A),
        make_invitation(campaign, gamma, None, A),
    ]
    make_invitation(campaign, alpha, a1, S)
    make_invitation(campaign, alpha, a2, B)
    make_invitation(campaign, beta, b1, S)
    make_invitation(campaign, beta, b1, P)
    make_invitation(campaign, gamma, None, B)
    make_invitation(campaign, gamma, None, S, unsubscribed_at=timezone.now())
    base = timezone.now() - timedelta(hours=10)
    r = [
        ResponseFactory(invitation=invitation, submitted_at=base + timedelta(hours=i))
        for i, invitation in enumerate(answered)
    ]
    data.responses = r
    for response, value in zip(r, [5, 4, 3, 2, 5], strict=True):
        answer(response, q["r1"], value=value)
    answer(r[0], q["r2"], value=4, comment="Quick reply")
    answer(r[1], q["r2"], value=1, comment="Too slow")
    answer(r[2], q["r2"], value=5)
    answer(r[3], q["r2"], value=4)
    for response, value in zip(r, [10, 9, 9, 7, 3], strict=True):
        answer(response, q["nps"], value=value)
    for response, value in zip(r, [1, 0, 1, 1], strict=False):
        answer(response, q["yn"], value=value)
    for response, label in zip(r, "ABAAC", strict=True):
        answer(response, q["single"], option=o[label])
    for response, labels in zip(r, ["XY", "Y", "XYZ", "", "Z"], strict=True):
        for label in labels:
            answer(response, q["multi"], option=o[label])
    answer(r[0], q["text"], text="Great service")
    answer(r[2], q["text"], text="More training <b>please</b>")
    return data


@pytest.fixture
def data() -> ResultsData:
    return build_results()


def test_campaign_summary(data, django_assert_num_queries):
    with django_assert_num_queries(2):
        summary = results.campaign_summary(data.campaign)
    assert summary == results.CampaignSummary(
        invited=11,
        sent=8,
        answered=5,
        bounced=2,
        pending=1,
        unsubscribed=1,
        rating_answers=9,
        satisfied_answers=6,
        nps_answers=5,
        response_rate=62.5,
        satisfaction=66.7,
        average_rating=3.67,
        nps=40,
    )
    assert summary.has_results


def test_empty_campaign_has_no_figures_and_no_division_by_zero():
    questionnaire, _q, _o = build_questionnaire()
    campaign = CampaignFactory(questionnaire=questionnaire, status=CampaignStatus.RUNNING)
    summary = results.campaign_summary(campaign)
    assert (summary.invited, summary.sent, summary.answered, summary.bounced) == (0, 0, 0, 0)
    assert summary.response_rate is None
    assert summary.satisfaction is None
    assert summary.average_rating is None
    assert summary.nps is None
    assert not summary.has_results
    assert results.response_rates(campaign).organisations == []
    assert results.results_by_organisation(campaign) == []
    assert results.results_by_department(campaign) == []
    assert results.free_text_answers(campaign).count() == 0
    for result in results.question_results(campaign):
        assert result.count == 0
        assert result.average is None and result.satisfaction is None and result.nps is None
        assert all(bucket.count == 0 and bucket.percent is None for bucket in result.distribution)
        if result.kind == QuestionKind.RATING:
            assert [b.label for b in result.distribution] == ["1", "2", "3", "4", "5"]


def test_sent_only_invitations_give_a_zero_rate_not_none():
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    make_invitation(campaign, OrganisationFactory(), None, InvitationStatus.SENT)
    make_invitation(campaign, OrganisationFactory(), None, InvitationStatus.BOUNCED)
    summary = results.campaign_summary(campaign)
    assert summary.response_rate == 0.0
    assert summary.satisfaction is None


def test_response_rates_per_organisation_and_department(data, django_assert_num_queries):
    with django_assert_num_queries(1):
        rates = results.response_rates(data.campaign)
    assert [(r.organisation, r.invited, r.sent, r.answered, r.bounced, r.rate) for r in rates.organisations] == [
        ("Alpha", 5, 4, 3, 1, 75.0),
        ("Beta", 3, 2, 1, 0, 50.0),
        ("Gamma", 3, 2, 1, 1, 50.0),
    ]
    assert all(r.is_total and r.department_id is None for r in rates.organisations)
    assert [
        (r.organisation, r.department, r.invited, r.sent, r.answered, r.bounced, r.rate) for r in rates.departments
    ] == [
        ("Alpha", "A1", 3, 3, 2, 0, 66.7),
        ("Alpha", "A2", 2, 1, 1, 1, 100.0),
        ("Beta", "B1", 3, 2, 1, 0, 50.0),
        ("Gamma", "", 3, 2, 1, 1, 50.0),
    ]
    assert [r.department for r in rates.departments_of(data.organisations["Alpha"].pk)] == ["A1", "A2"]


def test_question_results(data, django_assert_num_queries):
    with django_assert_num_queries(6), translation.override("en"):
        by_text = {r.question.text: r for r in results.question_results(data.campaign)}
    assert list(by_text) == [
        "Speed of service",
        "Attitude of staff",
        "Would you recommend us?",
        "Was the fault fixed?",
        "Main channel",
        "Services used",
        "Anything else?",
    ]
    r1 = by_text["Speed of service"]
    assert r1.kind == QuestionKind.RATING
    assert r1.count == 5
    assert [(b.label, b.count, b.percent) for b in r1.distribution] == [
        ("1", 0, 0.0),
        ("2", 1, 20.0),
        ("3", 1, 20.0),
        ("4", 1, 20.0),
        ("5", 2, 40.0),
    ]
    assert (r1.average, r1.satisfaction, r1.nps, r1.comments) == (3.8, 60.0, None, 0)

    r2 = by_text["Attitude of staff"]
    assert r2.count == 4
    assert [b.count for b in r2.distribution] == [1, 0, 0, 2, 1]
    assert (r2.average, r2.satisfaction, r2.comments) == (3.5, 75.0, 2)

    nps = by_text["Would you recommend us?"]
    assert nps.count == 5
    assert [b.label for b in nps.distribution] == [str(v) for v in range(11)]
    assert [b.count for b in nps.distribution] == [0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 1]
    assert (nps.average, nps.nps, nps.satisfaction) == (7.6, 40, None)

    yn = by_text["Was the fault fixed?"]
    assert [(b.label, b.count, b.percent) for b in yn.distribution] == [("Yes", 3, 75.0), ("No", 1, 25.0)]
    assert yn.count == 4 and yn.average is None

    single = by_text["Main channel"]
    assert single.count == 5
    assert [(b.label, b.count, b.percent) for b in single.distribution] == [
        ("A", 3, 60.0),
        ("B", 1, 20.0),
        ("C", 1, 20.0),
    ]
    multi = by_text["Services used"]
    assert multi.count == 4  # respondents, not chosen options
    assert [(b.label, b.count, b.percent) for b in multi.distribution] == [
        ("X", 2, 50.0),
        ("Y", 3, 75.0),
        ("Z", 2, 50.0),
    ]
    text = by_text["Anything else?"]
    assert text.is_text and text.text_answers == 2 and text.distribution == []


def test_question_results_queries_do_not_grow_with_answers(data, django_assert_num_queries):
    questions = results.campaign_questions(data.campaign)
    with django_assert_num_queries(4):
        results.question_results(data.campaign, questions)
    # Twenty more responses: the same four queries.
    for _ in range(20):
        invitation = make_invitation(
            data.campaign, data.organisations["Beta"], data.departments["B1"], InvitationStatus.ANSWERED
        )
        response = ResponseFactory(invitation=invitation)
        answer(response, data.questions["r1"], value=4, comment="fine")
        answer(response, data.questions["multi"], option=data.options["X"])
        answer(response, data.questions["text"], text="ok")
    with django_assert_num_queries(4):
        updated = {r.question.text: r for r in results.question_results(data.campaign, questions)}
    assert updated["Speed of service"].count == 25
    assert updated["Services used"].count == 24
    assert updated["Anything else?"].text_answers == 22


def test_results_by_organisation(data, django_assert_num_queries):
    with django_assert_num_queries(2):
        rows = results.results_by_organisation(data.campaign)
    assert [(r.organisation, r.responses, r.rating_answers, r.satisfaction, r.average_rating) for r in rows] == [
        ("Alpha", 3, 6, 66.7, 3.67),
        ("Beta", 1, 2, 50.0, 3.0),
        ("Gamma", 1, 1, 100.0, 5.0),
    ]


def test_results_by_department(data, django_assert_num_queries):
    with django_assert_num_queries(2):
        rows = results.results_by_department(data.campaign)
    assert [
        (r.organisation, r.department, r.responses, r.rating_answers, r.satisfaction, r.average_rating) for r in rows
    ] == [
        ("Alpha", "A1", 2, 4, 75.0, 3.5),
        ("Alpha", "A2", 1, 2, 50.0, 4.0),
        ("Beta", "B1", 1, 2, 50.0, 3.0),
        ("Gamma", "", 1, 1, 100.0, 5.0),
    ]


def test_a_group_without_ratings_has_no_satisfaction(data):
    delta = OrganisationFactory(name="Delta")
    invitation = make_invitation(data.campaign, delta, None, InvitationStatus.ANSWERED)
    response = ResponseFactory(invitation=invitation)
    answer(response, data.questions["text"], text="Only words")
    row = next(r for r in results.results_by_organisation(data.campaign) if r.organisation == "Delta")
    assert (row.responses, row.rating_answers, row.satisfaction, row.average_rating) == (1, 0, None, None)


def test_free_text_answers(data, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(results.free_text_answers(data.campaign))
    # Newest response first: R3 (text), R2 (comment), R1 (comment, text by pk order).
    assert [(a.text, a.comment) for a in rows] == [
        ("More training <b>please</b>", ""),
        ("", "Too slow"),
        ("Great service", ""),
        ("", "Quick reply"),
    ]
    first = rows[0]
    with django_assert_num_queries(0):
        assert first.question.text == "Anything else?"
        assert first.organisation.name == "Alpha"
        assert first.department.name == "A2"
        assert first.response.submitted_at is not None
    only_r2 = results.free_text_answers(data.campaign, data.questions["r2"])
    assert sorted(only_r2.values_list("comment", flat=True)) == ["Quick reply", "Too slow"]
    assert "contact" not in str(results.free_text_answers(data.campaign).query).lower()


def test_results_of_another_campaign_do_not_mix(data):
    other = CampaignFactory(questionnaire=data.campaign.questionnaire, status=CampaignStatus.RUNNING)
    invitation = make_invitation(other, data.organisations["Alpha"], None, InvitationStatus.ANSWERED)
    response = ResponseFactory(invitation=invitation)
    answer(response, data.questions["r1"], value=1, comment="elsewhere")
    summary = results.campaign_summary(data.campaign)
    assert (summary.invited, summary.rating_answers, summary.satisfaction) == (11, 9, 66.7)
    assert "elsewhere" not in list(results.free_text_answers(data.campaign).values_list("comment", flat=True))
    assert results.campaign_summary(other).satisfaction == 0.0


def test_rounding_is_half_up():
    assert results.percent(1, 8) == 12.5
    assert results.percent(1, 3) == 33.3
    assert results.percent(2, 3) == 66.7
    assert results.percent(1, 16) == 6.3  # 6.25 → 6.3, not banker's 6.2
    assert results.percent(0, 0) is None
    assert results.nps_score(1, 0, 8) == 13  # 12.5 → 13
    assert results.nps_score(0, 1, 8) == -13
    assert results.nps_score(0, 0, 0) is None
    assert results.nps_score(5, 0, 5) == 100 and results.nps_score(0, 5, 5) == -100


def test_question_charts(data):
    charts_by_kind = {r.kind: results.question_chart(r) for r in results.question_results(data.campaign)}
    assert charts_by_kind[QuestionKind.TEXT] is None
    for kind in (
        QuestionKind.RATING,
        QuestionKind.NPS,
        QuestionKind.YES_NO,
        QuestionKind.SINGLE,
        QuestionKind.MULTIPLE,
    ):
        assert render_svg(charts_by_kind[kind]).startswith("<svg")
    assert ["A", "3 (60 %)"] in meta(charts_by_kind[QuestionKind.SINGLE])["rows"]
    assert "5: 2 (40 %)" in render_svg(results.question_chart(results.question_results(data.campaign)[0]))
