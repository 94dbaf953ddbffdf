"""One response per invitation even when two links of it are submitted at once (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from itsm.core.tokens import TokenUsed, token_issue
from surveys.choices import InvitationStatus
from surveys.models import Answer, Invitation, SurveyResponse
from surveys.services.invitations import SURVEY_PURPOSE, response_submit
from tests.factories import ContactFactory, OrganisationFactory
from tests.surveys.campaign_flow import good_answers, launch_campaign


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under concurrency: PostgreSQL only")
@pytest.mark.parametrize("same_link", [True, False])
def test_concurrent_submissions_record_one_response(transactional_db, make_user, same_link):
    organisation = OrganisationFactory()
    ContactFactory(organisation=organisation)
    campaign = launch_campaign(make_user, [organisation])
    invitation = Invitation.objects.get(campaign=campaign)
    links = [token_issue(purpose=SURVEY_PURPOSE, target=invitation, expires_at=campaign.closes_at) for _ in range(4)]
    if same_link:
        links = [links[0]] * 4
    answers = good_answers(campaign)
    start = threading.Barrier(len(links))
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(raw: str) -> None:
        try:
            start.wait(timeout=10)
            response_submit(raw_token=raw, answers=answers)
            result = "recorded"
        except TokenUsed:
            result = "used"
        except Exception as exc:
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=work, args=(raw,)) for raw in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["recorded"] + ["used"] * (len(links) - 1)
    assert SurveyResponse.objects.filter(invitation=invitation).count() == 1
    assert Answer.objects.filter(response__invitation=invitation).count() == len(answers)
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.ANSWERED
