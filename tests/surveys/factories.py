"""Survey test data: questionnaires, campaigns, invitations, responses and answers.

Plain factories build rows directly (for selectors, pages and permissions); state changes
and submissions in tests go through the real services.
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from surveys.choices import CampaignKind, QuestionKind
from surveys.models import (
    Answer,
    Campaign,
    Invitation,
    Question,
    Questionnaire,
    QuestionnaireSection,
    QuestionOption,
    SurveyResponse,
)
from tests.factories import ContactFactory, UserFactory


class QuestionnaireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Questionnaire

    title = factory.Sequence(lambda n: f"Satisfaction questionnaire {n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuestionnaireSection

    questionnaire = factory.SubFactory(QuestionnaireFactory)
    title = factory.Sequence(lambda n: f"Section {n}")
    position = factory.Sequence(lambda n: n)


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    section = factory.SubFactory(SectionFactory)
    questionnaire = factory.SelfAttribute("section.questionnaire")
    kind = QuestionKind.RATING
    text = factory.Sequence(lambda n: f"How satisfied are you with aspect {n}?")
    position = factory.Sequence(lambda n: n)


class OptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuestionOption

    question = factory.SubFactory(QuestionFactory, kind=QuestionKind.SINGLE)
    label = factory.Sequence(lambda n: f"Option {n}")
    position = factory.Sequence(lambda n: n)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    kind = CampaignKind.HALF_YEARLY
    title = factory.Sequence(lambda n: f"Survey campaign {n}")
    questionnaire = factory.SubFactory(QuestionnaireFactory)
    owner = factory.SubFactory(UserFactory)
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=21))


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(ContactFactory)
    organisation = factory.SelfAttribute("contact.organisation")
    department = factory.SelfAttribute("contact.department")
    email = factory.SelfAttribute("contact.email")
    language = factory.SelfAttribute("contact.preferred_language")


class ResponseFactory(factory.django.DjangoModelFactory):
    """A response row for an invitation (marks nothing on the invitation: use the service
    ``response_submit`` when the invitation's state matters)."""

    class Meta:
        model = SurveyResponse

    invitation = factory.SubFactory(InvitationFactory)
    campaign = factory.SelfAttribute("invitation.campaign")
    organisation = factory.SelfAttribute("invitation.organisation")
    department = factory.SelfAttribute("invitation.department")
    language = factory.SelfAttribute("invitation.language")
    submitted_at = factory.LazyFunction(timezone.now)


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    response = factory.SubFactory(ResponseFactory)
    campaign = factory.SelfAttribute("response.campaign")
    organisation = factory.SelfAttribute("response.organisation")
    department = factory.SelfAttribute("response.department")
    question = factory.SubFactory(QuestionFactory)
