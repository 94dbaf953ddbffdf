"""The invitation list says where each invitation's mail really is: an invitation is marked
"sent" when its mail is recorded, but mail recorded at night is held until 09:00 — the list
says "Held until 09:00 on 09-14", "Queued", "Failed", or "Sent" with the time it left,
read in the query that loads the page."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from itsm.core.choices import NotificationStatus
from itsm.core.models import Notification
from itsm.core.notifications import notification_release
from itsm.core.roles import Role
from itsm.core.testing import assert_constant_queries, user_with_role
from surveys.choices import CampaignStatus, InvitationStatus
from surveys.models import Invitation
from surveys.services.invitations import invitations_send_batch, invite_key
from tests.surveys.test_campaign_workflow import make_campaign

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_NIGHT = datetime(2026, 9, 11, 22, 0, tzinfo=SHANGHAI)
MONDAY_NINE = datetime(2026, 9, 14, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def cells(page: str) -> dict[int, str]:
    """Invitation id → the text of its status cell."""
    found = re.findall(r'<tr data-invitation="(\d+)"[^>]*>.*?<td data-mail="[^"]*">(.*?)</td>', page, re.S)
    return {int(pk): re.sub(r"<[^>]+>", "", cell).strip() for pk, cell in found}


def sent_at_cells(page: str) -> dict[int, str]:
    found = re.findall(
        r'<tr data-invitation="(\d+)"[^>]*>.*?<td data-mail="[^"]*">.*?</td>\s*<td>(.*?)</td>', page, re.S
    )
    return {int(pk): cell.strip() for pk, cell in found}


def test_invitations_mailed_at_night_say_held_until_nine_not_sent(client, django_capture_on_commit_callbacks):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        campaign = make_campaign(CampaignStatus.RUNNING, contacts=4)
        invitations_send_batch(campaign_id=campaign.pk)
        held, released, failed, answered = campaign.invitations.order_by("pk")
        assert Invitation.objects.filter(status=InvitationStatus.SENT).count() == 4  # the invitations say "sent"
        assert Notification.objects.get(key=invite_key(held.pk)).send_after == MONDAY_NINE
        # One sent now by the process owner, one refused by the server, one already answered.
        with django_capture_on_commit_callbacks(execute=True):
            notification_release(
                notifications=Notification.objects.filter(key=invite_key(released.pk)),
                actor=user_with_role(Role.PROCESS_OWNER),
            )
        Notification.objects.filter(key=invite_key(failed.pk)).update(status=NotificationStatus.FAILED)
        Invitation.objects.filter(pk=answered.pk).update(status=InvitationStatus.ANSWERED, answered_at=FRIDAY_NIGHT)
        client.force_login(user_with_role(Role.SATISFACTION_OWNER))
        page = client.get(reverse("campaign_invitations", args=[campaign.pk])).content.decode()
    assert cells(page) == {
        held.pk: "Held until 09:00 on 09-14",
        released.pk: "Sent",
        failed.pk: "Failed",
        answered.pk: "Answered",
    }
    when = sent_at_cells(page)
    assert when[held.pk] == "—" and when[failed.pk] == "—"  # recorded, but not sent
    assert when[released.pk] == "2026-09-11 22:00"  # the time the mail left


def test_an_invitation_due_but_not_yet_sent_says_queued(client):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        campaign = make_campaign(CampaignStatus.RUNNING, contacts=1)
        invitations_send_batch(campaign_id=campaign.pk)
    invitation = campaign.invitations.get()
    with time_machine.travel(MONDAY_NINE, tick=False):  # due; the worker has not sent it yet
        client.force_login(user_with_role(Role.AUDITOR))
        page = client.get(reverse("campaign_invitations", args=[campaign.pk])).content.decode()
    assert cells(page) == {invitation.pk: "Queued"}


def test_an_invitation_without_a_recorded_mail_keeps_its_own_status(client):
    campaign = make_campaign(CampaignStatus.RUNNING, contacts=2)
    first, second = campaign.invitations.order_by("pk")
    Invitation.objects.filter(pk=first.pk).update(status=InvitationStatus.SENT)  # mail recorded elsewhere / before
    client.force_login(user_with_role(Role.AUDITOR))
    page = client.get(reverse("campaign_invitations", args=[campaign.pk])).content.decode()
    assert cells(page) == {first.pk: "Sent", second.pk: "Not sent yet"}


def test_the_invitation_list_reads_the_mail_state_in_constant_queries(client):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        campaign = make_campaign(CampaignStatus.RUNNING, contacts=1)
        client.force_login(user_with_role(Role.SATISFACTION_OWNER))
        contacts = iter(range(10_000))

        def make_rows(n: int) -> None:
            from tests.factories import ContactFactory
            from tests.surveys.factories import InvitationFactory

            for _ in range(n):
                contact = ContactFactory(email=f"guest{next(contacts)}@customer.example")
                InvitationFactory(campaign=campaign, contact=contact)
            invitations_send_batch(campaign_id=campaign.pk, batch_size=1000)

        assert_constant_queries(client, reverse("campaign_invitations", args=[campaign.pk]), make_rows, few=3, many=40)
        assert Notification.objects.filter(key__endswith=":invite").count() >= 40
