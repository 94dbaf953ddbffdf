"""A satisfaction survey from the empty questionnaire to its results, in Chromium.

The satisfaction owner builds a questionnaire (a section, a rating with "comment required
below 3", a single choice, an optional free text; one question moved up) and previews it,
plans a campaign over a fresh customer organisation (set up here with the ORM: two contacts
with an address, one of them English-speaking, and one without) and submits it; the BR
manager approves it in another browser; the owner launches it. The English contact opens the
link from the invitation mail on a phone: a low rating without a comment is refused, question
by question; then the answer is recorded, and the link says so when opened again. The owner
reads the results: one response, the response rate, the rating's distribution and chart, the
free text. The live server runs in this process: its mail is Django's locmem outbox and
Celery runs eagerly.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation
from playwright.sync_api import expect

from itsm.core.choices import Language, OrganisationKind
from itsm.core.models import Contact, Department, Organisation
from itsm.core.tokens import TokenNotFound
from surveys.choices import InvitationStatus
from surveys.models import (
    Answer,
    Campaign,
    Invitation,
    Question,
    Questionnaire,
    QuestionnaireSection,
    SurveyResponse,
)

from .conftest import PHONE, pick
from .test_complaints import deliver_held_mail

pytestmark = pytest.mark.e2e

QUESTIONNAIRE = "Service desk satisfaction 2026"
THANKS = "Thank you: we read every answer."
SECTION = "The service desk"
RATING = "How satisfied are you with the service desk?"
CHOICE = "How did you usually reach us?"
CHOICES = ["Phone", "Email", "Self-service portal"]
FREE_TEXT = "Anything else you would like to tell us?"
CAMPAIGN = "Qingshan Water service desk survey"
COMMENT = "The second-line team took two days to call back."
FREE_ANSWER = "Please publish the planned maintenance windows earlier."


@pytest.fixture
def customer(demo_data):
    """A customer organisation of its own: two contacts with an address (one prefers
    English), one without (left out of the audience)."""
    organisation = Organisation.objects.create(
        name="青山水务", code="qs-water", kind=OrganisationKind.CUSTOMER, is_key_customer=False
    )
    it = Department.objects.create(organisation=organisation, name="信息中心")
    service = Department.objects.create(organisation=organisation, name="客户服务部")
    english = Contact.objects.create(
        organisation=organisation,
        department=it,
        name="Emma Clarke",
        email="emma.clarke@qs-water.example",
        preferred_language=Language.EN,
    )
    chinese = Contact.objects.create(
        organisation=organisation,
        department=service,
        name="周晓明",
        email="zhou.xiaoming@qs-water.example",
        preferred_language=Language.ZH_HANS,
    )
    Contact.objects.create(organisation=organisation, department=service, name="孙无邮", email="")
    return organisation, english, chinese


def save(page, form) -> None:
    """Submit a staff form and land on the next page with its success message."""
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("main .alert-success")).to_be_visible()


def add_question(page, section: QuestionnaireSection, *, kind: str, text: str, **fields) -> Question:
    """Add a question to ``section`` through the builder's "add a question" page."""
    page.locator(f"#section-{section.pk} a[href$='/sections/{section.pk}/questions/new/']").click()
    expect(page.locator("#id_kind")).to_be_visible()
    page.select_option("#id_kind", kind)
    page.fill("#id_text", text)
    if "comment_below" in fields:
        page.select_option("#id_comment_below", str(fields["comment_below"]))
    if "options" in fields:
        page.fill("#id_options", "\n".join(fields["options"]))
    if fields.get("required", True) is False:
        page.uncheck("#id_required")
    save(page, page.locator("main form:has(#id_kind)"))
    question = Question.objects.get(section=section, text=text)
    expect(page).to_have_url(
        re.compile(rf"/surveys/questionnaires/{section.questionnaire_id}/#question-{question.pk}$")
    )
    return question


def expect_builder_order(page, questions: list[Question]) -> None:
    rows = page.locator("[data-testid=builder-question]")
    expect(rows).to_have_count(len(questions))
    for index, question in enumerate(questions):
        expect(rows.nth(index)).to_have_attribute("id", f"question-{question.pk}")


def act(page, action: str, status: str) -> None:
    """Perform a workflow action from its form on the campaign page; the campaign is then ``status``."""
    form = page.locator(f"#actions form[data-action={action}]")
    save(page, form)
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-status", status)


def label_of(page, question: Question, value: str):
    """The button-like label of one answer on the survey page."""
    field = page.locator(f"input[name=q{question.pk}][value='{value}']")
    return page.locator(f"label[for='{field.get_attribute('id')}']")


def choose(page, question: Question, value: str) -> None:
    """Pick an answer on the survey page by tapping its button-like label."""
    label_of(page, question, value).click()
    expect(page.locator(f"input[name=q{question.pk}][value='{value}']")).to_be_checked()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_survey_from_the_questionnaire_to_its_results(new_page, log_in, browser_problems, customer, live_server):
    organisation, emma, zhou = customer

    # --- the questionnaire -------------------------------------------------------------------
    owner = new_page()
    log_in(owner, "satisfaction")
    owner.goto("/surveys/questionnaires/")
    with owner.expect_navigation():
        owner.locator("main a[href$='/surveys/questionnaires/new/']").click()
    owner.fill("#id_title", QUESTIONNAIRE)
    owner.fill("#id_introduction", "Five minutes about our service desk in 2026.")
    owner.fill("#id_thanks", THANKS)
    save(owner, owner.locator("main form:has(#id_thanks)"))
    questionnaire = Questionnaire.objects.get(title=QUESTIONNAIRE)
    expect(owner).to_have_url(re.compile(rf"/surveys/questionnaires/{questionnaire.pk}/$"))
    expect(owner.locator("[data-testid=no-sections]")).to_be_visible()

    section_form = owner.locator(f"form[action$='/surveys/questionnaires/{questionnaire.pk}/sections/new/']")
    expect(section_form).to_be_visible()  # the "add a section" panel is open while there is none
    section_form.locator("#id_title").fill(SECTION)
    save(owner, section_form)
    section = QuestionnaireSection.objects.get(questionnaire=questionnaire, title=SECTION)
    expect(owner.locator("[data-testid=builder-section]")).to_have_count(1)
    expect(owner.locator(f"#section-{section.pk}")).to_contain_text(SECTION)

    rating = add_question(owner, section, kind="rating", text=RATING, comment_below=3)
    choice = add_question(owner, section, kind="single", text=CHOICE, options=CHOICES)
    free_text = add_question(owner, section, kind="text", text=FREE_TEXT, required=False)
    assert (rating.kind, rating.required, rating.comment_below) == ("rating", True, 3)
    assert list(choice.options.values_list("label", flat=True)) == CHOICES
    assert (free_text.kind, free_text.required) == ("text", False)
    expect_builder_order(owner, [rating, choice, free_text])
    expect(owner.locator("[data-testid=problems]")).to_have_count(0)  # ready for a campaign

    # The free text moves up, above the choice.
    move_up = owner.locator(
        f"form[action$='/questions/{free_text.pk}/move/']:has(input[name=direction][value=up]) button[type=submit]"
    )
    with owner.expect_navigation():
        move_up.click()
    expect_builder_order(owner, [rating, free_text, choice])
    assert list(section.questions.order_by("position").values_list("pk", flat=True)) == [
        rating.pk,
        free_text.pk,
        choice.pk,
    ]
    expect(owner.locator(f"#question-{rating.pk}")).to_contain_text("3")  # comment required below 3
    for label in CHOICES:
        expect(owner.locator(f"#question-{choice.pk}")).to_contain_text(label)

    # The preview: the customer's page, nothing saved.
    with owner.expect_navigation():
        owner.locator("[data-testid=preview-link]").click()
    expect(owner).to_have_url(re.compile(rf"/surveys/questionnaires/{questionnaire.pk}/preview/$"))
    expect(owner.locator("[data-testid=preview-ribbon]")).to_be_visible()
    shown = owner.locator("[data-testid=survey-question]")
    expect(shown).to_have_count(3)
    for index, question in enumerate([rating, free_text, choice]):
        expect(shown.nth(index)).to_have_attribute("data-question", str(question.pk))
        expect(shown.nth(index)).to_contain_text(question.text)
    expect(owner.locator(f"input[name=q{rating.pk}]")).to_have_count(5)
    expect(owner.locator(f"textarea[name=q{rating.pk}_comment]")).to_be_visible()
    expect(owner.locator(f"textarea[name=q{free_text.pk}]")).to_be_visible()
    for label in CHOICES:
        expect(shown.nth(2).locator("label", has_text=label)).to_be_visible()

    # --- the campaign ------------------------------------------------------------------------
    owner.goto("/surveys/campaigns/")
    with owner.expect_navigation():
        owner.locator("[data-testid=campaign-create]").click()
    plan = owner.locator("[data-testid=plan-form]")
    owner.fill("#id_title", CAMPAIGN)
    owner.select_option("#id_kind", "project")
    owner.fill("#id_objective", "How the service desk did this year, by department.")
    owner.select_option("#id_questionnaire", str(questionnaire.pk))
    expect(owner.locator("input[name=audience_mode][value=all]")).to_be_checked()
    pick(owner, "id_organisations", organisation.name, organisation.name)  # a type-ahead picker
    closes_at = timezone.localtime() + timedelta(days=14)
    owner.fill("#id_closes_at", closes_at.strftime("%Y-%m-%dT%H:%M"))
    save(owner, plan)
    campaign = Campaign.objects.get(title=CAMPAIGN)
    expect(owner).to_have_url(re.compile(rf"/surveys/campaigns/{campaign.pk}/$"))
    expect(owner.locator("[data-testid=status]")).to_have_attribute("data-status", "draft")
    expect(owner.locator("[data-testid=organisations]")).to_have_text(organisation.name)

    # The audience panel: three contacts, one without an address, two invited.
    audience = owner.locator("[data-testid=audience-summary]")
    expect(audience.locator("[data-count=contacts]")).to_have_text("3")
    expect(audience.locator("[data-count=no_email]")).to_have_text("1")
    expect(audience.locator("[data-count=eligible]")).to_have_text("2")
    expect(audience.locator("[data-count=invited]")).to_have_text("2")
    expect(audience.locator("[data-count=coverage]")).to_have_text("67 %")
    expect(owner.locator("[data-testid=department-coverage] tbody tr")).to_have_count(2)
    expect(owner.locator("#actions form[data-action=approve]")).to_have_count(0)  # not the owner's to approve

    act(owner, "submit", "in_review")
    expect(owner.locator("[data-testid=questionnaire-locked]")).to_be_visible()
    expect(owner.locator("#actions form[data-action]")).to_have_count(0)  # waiting for the review
    questionnaire.refresh_from_db()
    assert questionnaire.locked_at is not None

    # The BR manager finds it on the list, in review, and approves it.
    brm = new_page()
    log_in(brm, "brm")
    brm.goto("/surveys/campaigns/")
    row = brm.locator(f"[data-testid=campaign-table] tr[data-campaign='{campaign.pk}']")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "in_review")
    with brm.expect_navigation():
        row.get_by_role("link", name=CAMPAIGN).click()
    expect(brm).to_have_url(re.compile(rf"/surveys/campaigns/{campaign.pk}/$"))
    expect(brm.locator("#actions form[data-action=launch]")).to_have_count(0)
    act(brm, "approve", "approved")
    campaign.refresh_from_db()
    assert campaign.approved_by is not None and campaign.approved_by.username == "brm"

    # The owner launches it: one invitation per contact with an address.
    mail.outbox.clear()
    owner.goto(f"/surveys/campaigns/{campaign.pk}/")
    act(owner, "launch", "running")
    counts = owner.locator("[data-testid=invitation-counts]")
    expect(counts.locator("[data-count=total]")).to_have_text("2")
    expect(counts.locator("[data-count=answered]")).to_have_text("0")
    invitations = {i.contact_id: i for i in Invitation.objects.filter(campaign=campaign)}
    assert set(invitations) == {emma.pk, zhou.pk}
    assert invitations[emma.pk].language == "en"

    deliver_held_mail()
    to_emma = [m for m in mail.outbox if m.to == [emma.email]]
    assert len(to_emma) == 1, [m.subject for m in mail.outbox]
    invitation_mail = to_emma[0]
    assert CAMPAIGN in invitation_mail.subject and "Dear Emma Clarke" in invitation_mail.body
    assert [m for m in mail.outbox if m.to == [zhou.email]]  # the Chinese contact has hers too
    link = re.search(r"https?://\S+?/s/[\w-]+/(?=\s)", invitation_mail.body)
    assert link, invitation_mail.body
    path = urlsplit(link.group(0)).path

    # --- the customer, on a phone --------------------------------------------------------------
    phone = new_page(viewport=PHONE, locale="en-US")
    response = phone.goto(path)
    assert response is not None and response.status == 200
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    card = phone.locator("[data-testid=survey-answer]")
    expect(card).to_contain_text(CAMPAIGN)
    expect(card.locator("[data-testid=survey-question]")).to_have_count(3)
    assert no_sideways_scroll(phone)
    box = label_of(phone, rating, "5").bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44  # a comfortable tap target

    # A 2 without a comment (and the choice left out): refused, question by question.
    choose(phone, rating, "2")
    with phone.expect_navigation() as sent:
        phone.locator("[data-testid=survey-submit]").click()
    assert sent.value is not None and sent.value.status == 400
    expect(phone).to_have_url(re.compile(rf"{re.escape(path)}$"))
    expect(card.locator(".alert-danger")).to_be_visible()
    comment_error = phone.locator(f"#id_q{rating.pk}_comment_error")
    expect(comment_error).to_be_visible()
    expect(comment_error).to_contain_text("3")
    expect(phone.locator(f"#id_q{rating.pk}_comment")).to_have_attribute("aria-invalid", "true")
    expect(phone.locator(f"#id_q{rating.pk}_error")).to_have_count(0)  # the rating itself is fine
    expect(phone.locator(f"#id_q{choice.pk}_error")).to_be_visible()  # required, not answered
    expect(phone.locator(f"#id_q{free_text.pk}_error")).to_have_count(0)  # optional
    expect(phone.locator(f"input[name=q{rating.pk}][value='2']")).to_be_checked()  # kept
    assert no_sideways_scroll(phone)
    assert not Invitation.objects.get(pk=invitations[emma.pk].pk).answered_at

    # With the comment and a choice: recorded.
    phone.fill(f"#id_q{rating.pk}_comment", COMMENT)
    email_option = choice.options.get(label="Email")
    choose(phone, choice, str(email_option.pk))
    phone.fill(f"#id_q{free_text.pk}", FREE_ANSWER)
    with phone.expect_navigation() as sent:
        phone.locator("[data-testid=survey-submit]").click()
    assert sent.value is not None and sent.value.status == 200
    thanks = phone.locator("[data-testid=survey-thanks]")
    expect(thanks).to_be_visible()
    expect(thanks).to_contain_text(THANKS)
    assert no_sideways_scroll(phone)

    invitation = Invitation.objects.get(pk=invitations[emma.pk].pk)
    assert invitation.status == InvitationStatus.ANSWERED and invitation.answered_at is not None
    answers = {a.question_id: a for a in Answer.objects.filter(response__invitation=invitation)}
    assert (answers[rating.pk].value, answers[rating.pk].comment) == (2, COMMENT)
    assert answers[choice.pk].option_id == email_option.pk
    assert answers[free_text.pk].text == FREE_ANSWER

    # The link works once: opening it again says the answer was recorded (410).
    response = phone.goto(path)
    assert response is not None and response.status == 410
    expect(phone.locator("[data-token-error]")).to_have_attribute("data-token-error", "used")
    expect(phone.locator("[data-testid=survey-submit]")).to_have_count(0)
    assert no_sideways_scroll(phone)

    # --- the results -------------------------------------------------------------------------------
    owner.goto(f"/surveys/campaigns/{campaign.pk}/")
    expect(owner.locator("[data-testid=invitation-counts] [data-count=answered]")).to_have_text("1")
    with owner.expect_navigation():
        owner.locator("[data-testid=results-link]").click()
    expect(owner).to_have_url(re.compile(rf"/surveys/campaigns/{campaign.pk}/results/$"))
    expect(owner.locator("[data-testid=response-rate]")).to_have_text("50.0 %")  # 1 answered of 2 sent
    expect(owner.locator("[data-testid=average-rating]")).to_have_text("2.00")
    expect(owner.locator("[data-testid=satisfaction]")).to_have_text("0.0 %")
    blocks = owner.locator("[data-testid=question-block]")
    expect(blocks).to_have_count(3)
    rated = owner.locator(f"#question-{rating.pk}")
    expect(rated).to_have_attribute("data-kind", "rating")
    expect(rated.locator("svg")).to_be_visible()
    expect(rated.locator("[data-testid=distribution] thead th:not(:first-child)")).to_have_text(
        ["1", "2", "3", "4", "5"]
    )
    expect(rated.locator("[data-testid=distribution] tbody tr").first.locator("td")).to_have_text(
        ["0", "1", "0", "0", "0"]
    )
    expect(rated.locator("[data-testid=question-average]")).to_contain_text("2.00")
    chosen = owner.locator(f"#question-{choice.pk}")
    expect(chosen.locator("svg")).to_be_visible()
    expect(chosen.locator("[data-testid=distribution] tbody tr", has_text="Email").locator("td").nth(1)).to_have_text(
        "1"
    )
    expect(owner.locator("[data-testid=rate-organisation]")).to_contain_text(organisation.name)
    by_organisation = owner.locator("[data-testid=by-organisation] tbody tr", has_text=organisation.name)
    expect(by_organisation.locator("td").nth(1)).to_have_text("1")  # one response
    assert SurveyResponse.objects.filter(campaign=campaign).count() == 1

    # The free text and the comment, not signed.
    with owner.expect_navigation():
        owner.locator("[data-testid=free-text-link]").click()
    expect(owner).to_have_url(re.compile(rf"/surveys/campaigns/{campaign.pk}/results/free-text/$"))
    written = owner.locator("[data-testid=free-text-answer]")
    expect(written).to_have_count(2)
    expect(owner.locator("[data-testid=free-text-answers]")).to_contain_text(COMMENT)
    expect(owner.locator("[data-testid=free-text-answers]")).to_contain_text(FREE_ANSWER)
    expect(owner.locator("[data-testid=free-text-answers]")).not_to_contain_text("Emma")

    # The campaign list shows it running with its live response rate.
    owner.goto("/surveys/campaigns/")
    row = owner.locator(f"[data-testid=campaign-table] tr[data-campaign='{campaign.pk}']")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "running")
    expect(row.locator("[data-testid=invited]")).to_have_text("2")
    expect(row.locator("[data-testid=answered]")).to_have_text("1")
    expect(row.locator("[data-testid=rate]")).to_have_text("50 %")

    # The only failed requests were the refused answer and the second visit.
    url = f"{live_server.url}{path}"
    assert browser_problems.errors == [f"HTTP 400: POST {url}", f"HTTP 410: GET {url}"]


def test_an_unknown_survey_link_says_so_on_a_phone(new_page, browser_problems, live_server):
    """A link nobody issued: the token error page (404), in the site's language since no
    contact is known, never a server error; the same for its unsubscribe page."""
    phone = new_page(viewport=PHONE)
    token = secrets.token_urlsafe(32)
    assert len(token) == 43
    with translation.override(settings.LANGUAGE_CODE):
        title, message = str(TokenNotFound.title), str(TokenNotFound.message)
    expected = []
    for path in (f"/s/{token}/", f"/s/{token}/unsubscribe/"):
        response = phone.goto(path)
        assert response is not None and response.status == 404
        expected.append(f"HTTP 404: GET {live_server.url}{path}")
        expect(phone.locator("html")).to_have_attribute("lang", settings.LANGUAGE_CODE)
        card = phone.locator("[data-token-error]")
        expect(card).to_have_attribute("data-token-error", "invalid")
        expect(card.locator("h1")).to_have_text(title)
        expect(card).to_contain_text(message)
        expect(phone.locator("form")).to_have_count(0)
        assert no_sideways_scroll(phone)
    assert browser_problems.errors == expected
