"""Drive a survey campaign through the real services, and read the links out of the mail.

``launch_campaign(...)`` builds a questionnaire (one rating question with a comment rule,
one NPS, one single choice, one optional free text), a campaign over the given contacts'
organisations, and submits, approves and launches it as the roles that may. Call it inside
``django_capture_on_commit_callbacks(execute=True)`` (or a transactional test) so the
invitations are mailed; with time frozen in working hours the mail leaves at once.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from itsm.core.roles import Role
from surveys.answers import AnswerInput
from surveys.choices import QuestionKind
from surveys.models import Campaign, Question
from surveys.services.campaigns import campaign_create, campaign_transition
from tests.surveys.factories import OptionFactory, QuestionFactory, QuestionnaireFactory, SectionFactory

SURVEY_LINK = re.compile(r"/s/([A-Za-z0-9_-]{16,128})/(?!unsubscribe)")
UNSUBSCRIBE_LINK = re.compile(r"/s/([A-Za-z0-9_-]{16,128})/unsubscribe/")


def build_questionnaire():
    questionnaire = QuestionnaireFactory(title="Service satisfaction")
    section = SectionFactory(questionnaire=questionnaire, title="Our service", position=0)
    QuestionFactory(section=section, kind=QuestionKind.RATING, text="Overall satisfaction", comment_below=3, position=0)
    QuestionFactory(section=section, kind=QuestionKind.NPS, text="Would you recommend us?", position=1)
    choice = QuestionFactory(section=section, kind=QuestionKind.SINGLE, text="Best channel", position=2)
    for position, label in enumerate(["Phone", "Email", "Portal"]):
        OptionFactory(question=choice, label=label, position=position)
    QuestionFactory(section=section, kind=QuestionKind.TEXT, text="Anything else?", required=False, position=3)
    return questionnaire


def launch_campaign(make_user, organisations, *, questionnaire=None, **fields) -> Campaign:
    owner = make_user(Role.SATISFACTION_OWNER)
    reviewer = make_user(Role.BR_MANAGER)
    fields.setdefault("kind", "half_yearly")
    fields.setdefault("title", "Half-yearly satisfaction survey")
    fields.setdefault("closes_at", timezone.now() + timedelta(days=14))
    campaign = campaign_create(
        actor=owner,
        organisations=list(organisations),
        questionnaire=questionnaire or build_questionnaire(),
        **fields,
    )
    campaign_transition(campaign=campaign, action="submit", actor=owner)
    campaign_transition(campaign=campaign, action="approve", actor=reviewer)
    return campaign_transition(campaign=campaign, action="launch", actor=owner)


def links_to(email: str, pattern: re.Pattern = SURVEY_LINK) -> list[str]:
    """Every survey token mailed to ``email``, oldest first."""
    return [match for message in mail.outbox if email in message.to for match in pattern.findall(message.body)]


def good_answers(campaign: Campaign, rating: int = 5) -> list[AnswerInput]:
    questions = {q.kind: q for q in Question.objects.filter(questionnaire=campaign.questionnaire_id)}
    choice = questions[QuestionKind.SINGLE]
    return [
        AnswerInput(question_id=questions[QuestionKind.RATING].pk, value=rating, comment="" if rating >= 3 else "slow"),
        AnswerInput(question_id=questions[QuestionKind.NPS].pk, value=9),
        AnswerInput(question_id=choice.pk, option_ids=(choice.options.order_by("position").first().pk,)),
    ]


def form_data(campaign: Campaign, rating: int = 5, comment: str = "") -> dict[str, str]:
    """The POST body of the public form for ``good_answers``-like answers."""
    questions = {q.kind: q for q in Question.objects.filter(questionnaire=campaign.questionnaire_id)}
    choice = questions[QuestionKind.SINGLE]
    rating_q = questions[QuestionKind.RATING]
    return {
        f"q{rating_q.pk}": str(rating),
        f"q{rating_q.pk}_comment": comment,
        f"q{questions[QuestionKind.NPS].pk}": "9",
        f"q{choice.pk}": str(choice.options.order_by("position").first().pk),
        f"q{questions[QuestionKind.TEXT].pk}": "Keep it up",
    }
