"""Invitations: created once at launch, mailed once in batches, reminded on schedule,
bounce-safe, unsubscribe honoured; the campaign closes itself on its date."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from itsm.core.choices import Language, NotificationStatus
from itsm.core.models import AccessToken, Contact, Notification
from itsm.core.periodic import run_check
from itsm.core.roles import Role
from itsm.core.workflow import TransitionRefused
from surveys.choices import CampaignStatus, InvitationStatus
from surveys.models import Campaign, CampaignEvent, Invitation
from surveys.services.campaigns import campaign_set_close, campaign_transition, campaigns_close_due
from surveys.services.invitations import (
    SURVEY_PURPOSE,
    invitations_mark_bounced,
    invitations_remind,
    invitations_send_batch,
    invitations_send_pending,
    response_submit,
)
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory
from tests.surveys.campaign_flow import good_answers, launch_campaign, links_to
from tests.surveys.factories import InvitationFactory

pytestmark = pytest.mark.django_db

# Wednesday 2026-11-25 10:00 in Asia/Shanghai: working hours, so mail leaves at once.
LAUNCH = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def customers():
    organisation = OrganisationFactory(name="Acme")
    department = DepartmentFactory(organisation=organisation, name="Finance")
    contacts = [ContactFactory(organisation=organisation, department=department) for _ in range(3)]
    english = ContactFactory(organisation=organisation, department=department, preferred_language=Language.EN)
    return organisation, [*contacts, english]


@pytest.fixture
def launched(make_user, customers, django_capture_on_commit_callbacks):
    organisation, contacts = customers
    with time_machine.travel(LAUNCH, tick=False), django_capture_on_commit_callbacks(execute=True):
        campaign = launch_campaign(make_user, [organisation])
    return campaign, contacts


def test_launch_invites_each_contact_once_and_mails_each_once(launched):
    campaign, contacts = launched
    assert campaign.status == CampaignStatus.RUNNING
    assert Invitation.objects.filter(campaign=campaign).count() == 4
    assert set(Invitation.objects.values_list("status", flat=True)) == {InvitationStatus.SENT}
    invitation_mail = [m for m in mail.outbox if "/s/" in m.body]
    assert sorted(m.to[0] for m in invitation_mail) == sorted(c.email for c in contacts)
    # one link per invitation, stored only as a digest
    assert AccessToken.objects.filter(purpose=SURVEY_PURPOSE).count() == 4
    for contact in contacts:
        (raw,) = links_to(contact.email)
        assert not AccessToken.objects.filter(token_hash=raw).exists()


def test_invitation_is_in_the_contacts_language(launched):
    campaign, contacts = launched
    english = contacts[-1]
    (message,) = [m for m in mail.outbox if english.email in m.to and "/s/" in m.body]
    assert "Your opinion, please" in message.subject
    chinese = [m for m in mail.outbox if contacts[0].email in m.to and "/s/" in m.body][0]
    assert "Your opinion" not in chinese.subject


def test_sending_again_sends_nothing(launched, django_capture_on_commit_callbacks):
    campaign, _contacts = launched
    before = len(mail.outbox)
    with (
        time_machine.travel(LAUNCH + timedelta(minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert invitations_send_batch(campaign_id=campaign.pk) == (0, False)
        assert invitations_send_pending() == 0
    assert len(mail.outbox) == before
    assert Notification.objects.filter(key__startswith="survey:").count() == 4


def test_a_second_launch_is_refused(launched, make_user):
    campaign, _contacts = launched
    with pytest.raises(TransitionRefused):
        campaign_transition(campaign=campaign, action="launch", actor=make_user(Role.SATISFACTION_OWNER))
    assert Invitation.objects.filter(campaign=campaign).count() == 4


def test_a_worker_dying_mid_batch_sends_nothing_and_a_rerun_sends_all(
    make_user, customers, django_capture_on_commit_callbacks
):
    organisation, contacts = customers
    with time_machine.travel(LAUNCH, tick=False):
        # Launch without running the queued batch (the broker kept it).
        campaign = launch_campaign(make_user, [organisation])
        assert Invitation.objects.filter(campaign=campaign, status=InvitationStatus.PENDING).count() == 4

        class WorkerDied(Exception):
            pass

        with pytest.raises(WorkerDied), transaction.atomic():
            invitations_send_batch(campaign_id=campaign.pk)
            raise WorkerDied
        assert Invitation.objects.filter(campaign=campaign, status=InvitationStatus.PENDING).count() == 4
        assert not Notification.objects.filter(key__startswith="survey:").exists()
        assert not AccessToken.objects.filter(purpose=SURVEY_PURPOSE).exists()

        with django_capture_on_commit_callbacks(execute=True):
            assert invitations_send_pending() == 4
    assert len([m for m in mail.outbox if "/s/" in m.body]) == 4


def test_batches_cover_everyone(make_user, customers, django_capture_on_commit_callbacks):
    organisation, _contacts = customers
    for _ in range(6):
        ContactFactory(organisation=organisation)
    with time_machine.travel(LAUNCH, tick=False):
        campaign = launch_campaign(make_user, [organisation])
        assert invitations_send_batch(campaign_id=campaign.pk, batch_size=4) == (4, True)
        assert invitations_send_batch(campaign_id=campaign.pk, batch_size=4) == (4, True)
        assert invitations_send_batch(campaign_id=campaign.pk, batch_size=4) == (2, False)
    assert not Invitation.objects.filter(status=InvitationStatus.PENDING).exists()


def test_an_invalid_address_is_marked_at_launch_and_never_mailed(
    make_user, customers, django_capture_on_commit_callbacks
):
    organisation, contacts = customers
    Contact.objects.filter(pk=contacts[0].pk).update(email="not-an-address")
    with time_machine.travel(LAUNCH, tick=False), django_capture_on_commit_callbacks(execute=True):
        campaign = launch_campaign(make_user, [organisation])
    bounced = Invitation.objects.get(campaign=campaign, contact=contacts[0])
    assert bounced.status == InvitationStatus.BOUNCED
    assert bounced.bounce_reason
    assert not [m for m in mail.outbox if "not-an-address" in m.to]
    event = CampaignEvent.objects.get(campaign=campaign, action="launch")
    assert event.data["invalid_addresses"] == 1


def test_a_refused_address_is_marked_bounced_and_gets_no_reminder(
    make_user, customers, django_capture_on_commit_callbacks, monkeypatch
):
    organisation, contacts = customers
    refused = contacts[1].email

    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages

    def refuse(self, messages):
        if any(refused in message.to for message in messages):
            raise smtplib.SMTPRecipientsRefused({refused: (550, b"no such user")})
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)  # the outside world: the SMTP server
    with time_machine.travel(LAUNCH, tick=False), django_capture_on_commit_callbacks(execute=True):
        campaign = launch_campaign(make_user, [organisation])
    assert Notification.objects.get(recipient_email=refused).status == NotificationStatus.FAILED
    assert invitations_mark_bounced() == 1
    assert invitations_mark_bounced() == 0
    invitation = Invitation.objects.get(campaign=campaign, contact=contacts[1])
    assert invitation.status == InvitationStatus.BOUNCED
    assert "no such user" in invitation.bounce_reason
    with time_machine.travel(LAUNCH + timedelta(days=3, hours=1), tick=False):
        assert invitations_remind() == 3
    assert not Notification.objects.filter(recipient_email=refused, key__contains="reminder").exists()


# --- reminders --------------------------------------------------------------------------------


def _reminder_keys() -> list[str]:
    return sorted(Notification.objects.filter(key__contains=":reminder:").values_list("key", flat=True))


def test_reminders_go_on_day_3_and_7_to_non_respondents_only(launched):
    campaign, contacts = launched
    answered = Invitation.objects.get(campaign=campaign, contact=contacts[0])
    answered.status, answered.answered_at = InvitationStatus.ANSWERED, LAUNCH + timedelta(hours=2)
    answered.save()
    with time_machine.travel(LAUNCH + timedelta(days=2, hours=23), tick=False):
        assert invitations_remind() == 0
    with time_machine.travel(LAUNCH + timedelta(days=3), tick=False):
        assert invitations_remind() == 3
        assert invitations_remind() == 0
    with time_machine.travel(LAUNCH + timedelta(days=7, minutes=10), tick=False):
        assert invitations_remind() == 3
        assert invitations_remind() == 0
    with time_machine.travel(LAUNCH + timedelta(days=12), tick=False):
        assert invitations_remind() == 0
    keys = _reminder_keys()
    assert len(keys) == 6
    assert not [key for key in keys if key.startswith(f"survey:{answered.pk}:")]
    assert set(Invitation.objects.exclude(pk=answered.pk).values_list("reminders_sent", flat=True)) == {2}


def test_a_missed_reminder_is_not_doubled_up(launched):
    campaign, _contacts = launched
    with time_machine.travel(LAUNCH + timedelta(days=8), tick=False):
        assert invitations_remind() == 4
    assert all(key.endswith(":reminder:2") for key in _reminder_keys())


def test_unsubscribed_contacts_get_no_reminder(launched):
    campaign, contacts = launched
    Contact.objects.filter(pk=contacts[2].pk).update(unsubscribed=True)
    with time_machine.travel(LAUNCH + timedelta(days=3), tick=False):
        assert invitations_remind() == 3
    assert not Notification.objects.filter(recipient_email=contacts[2].email, key__contains="reminder").exists()


def test_each_reminder_has_a_working_link_and_one_answer_uses_the_invitation(
    launched, django_capture_on_commit_callbacks
):
    campaign, contacts = launched
    contact = contacts[0]
    # Monday 10:00 local, working hours: the reminder leaves at once.
    with time_machine.travel(LAUNCH + timedelta(days=5), tick=False), django_capture_on_commit_callbacks(execute=True):
        Campaign.objects.filter(pk=campaign.pk).update(reminder_days=[5])
        assert invitations_remind() == 4
    first, reminder = links_to(contact.email)
    assert first != reminder
    with time_machine.travel(LAUNCH + timedelta(days=5, hours=1), tick=False):
        response_submit(raw_token=reminder, answers=good_answers(campaign))
    invitation = Invitation.objects.get(campaign=campaign, contact=contact)
    assert invitation.status == InvitationStatus.ANSWERED
    from itsm.core.tokens import TokenUsed

    with time_machine.travel(LAUNCH + timedelta(days=5, hours=2), tick=False), pytest.raises(TokenUsed):
        response_submit(raw_token=first, answers=good_answers(campaign))


# --- closing ---------------------------------------------------------------------------------


def test_the_campaign_closes_itself_on_its_date(launched):
    campaign, _contacts = launched
    with time_machine.travel(campaign.closes_at - timedelta(minutes=1), tick=False):
        assert campaigns_close_due() == 0
    with time_machine.travel(campaign.closes_at + timedelta(minutes=1), tick=False):
        result = run_check("surveys.campaigns")
        assert "1 closed" in result
        assert campaigns_close_due() == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    event = campaign.events.get(action="close")
    assert event.actor is None and event.actor_label == "system"
    assert event.data["by_status"] == {InvitationStatus.SENT: 4}


def test_no_reminder_after_close(launched, make_user):
    campaign, _contacts = launched
    campaign_transition(campaign=campaign, action="close", actor=make_user(Role.SATISFACTION_OWNER))
    with time_machine.travel(LAUNCH + timedelta(days=3), tick=False):
        assert invitations_remind() == 0


def test_moving_the_close_date_moves_the_links(launched, make_user):
    campaign, _contacts = launched
    later = campaign.closes_at + timedelta(days=7)
    with time_machine.travel(LAUNCH + timedelta(days=1), tick=False):
        campaign_set_close(campaign=campaign, closes_at=later, actor=make_user(Role.SATISFACTION_OWNER))
    assert set(AccessToken.objects.filter(purpose=SURVEY_PURPOSE).values_list("expires_at", flat=True)) == {later}
    assert campaign.events.filter(action="set_close").exists()


def test_the_system_may_close_but_not_publish(launched):
    campaign, _contacts = launched
    from django.core.exceptions import PermissionDenied

    campaign_transition(campaign=campaign, action="close", actor=None)
    with pytest.raises(PermissionDenied):
        campaign_transition(campaign=campaign, action="publish", actor=None)


def test_an_earlier_answer_within_the_repeat_interval_keeps_the_contact_out(make_user, customers):
    organisation, contacts = customers
    InvitationFactory(contact=contacts[0], status=InvitationStatus.ANSWERED, answered_at=LAUNCH - timedelta(days=89))
    InvitationFactory(  # answered long enough ago: asked again
        contact=contacts[1], status=InvitationStatus.ANSWERED, answered_at=LAUNCH - timedelta(days=91)
    )
    with time_machine.travel(LAUNCH, tick=False):
        campaign = launch_campaign(make_user, [organisation])
    assert not Invitation.objects.filter(campaign=campaign, contact=contacts[0]).exists()
    assert Invitation.objects.filter(campaign=campaign, contact=contacts[1]).exists()
    assert CampaignEvent.objects.get(campaign=campaign, action="launch").data["recently_answered"] == 1
