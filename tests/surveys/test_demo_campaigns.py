"""The survey demo: a questionnaire, a running campaign with answers, one waiting for review;
the same whatever ids the database hands out, and loaded once."""

import io

import pytest
from django.core.management import call_command

from surveys.choices import CampaignStatus, InvitationStatus
from surveys.demo import campaigns as demo_campaigns
from surveys.models import Answer, Campaign, Invitation, SurveyResponse
from tests.surveys.factories import CampaignFactory


def _load() -> None:
    call_command("load_demo", stdout=io.StringIO())


@pytest.mark.django_db
def test_demo_campaigns_load_once_with_answers():
    _load()
    running = Campaign.objects.get(title=demo_campaigns.RUNNING)
    assert running.status == CampaignStatus.RUNNING
    assert Campaign.objects.get(title=demo_campaigns.IN_REVIEW).status == CampaignStatus.IN_REVIEW
    answered = Invitation.objects.filter(campaign=running, status=InvitationStatus.ANSWERED).count()
    assert 0 < answered < Invitation.objects.filter(campaign=running).count()
    assert SurveyResponse.objects.filter(campaign=running).count() == answered
    answers = Answer.objects.count()
    assert answers > answered * 5
    assert demo_campaigns.load(io.StringIO()) == 0
    assert Answer.objects.count() == answers


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [3, 6, 9])
def test_demo_loads_whatever_id_the_first_campaign_gets(offset):
    """Live-server tests empty tables without resetting their ids: the demo must not care."""
    for _ in range(offset):  # use up ids, as earlier tests on the same database do
        CampaignFactory().delete()
    _load()
    assert Campaign.objects.filter(status=CampaignStatus.IN_REVIEW).exists()
    assert Campaign.objects.get(title=demo_campaigns.RUNNING).pk > offset
