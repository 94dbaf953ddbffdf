"""Survey invitations: create at launch, mail in batches, remind, unsubscribe, record answers.

Sending is safe to repeat. ``invitations_send_batch`` claims unsent invitations under row
locks (``skip_locked`` where the database has them), and for each one issues the personal
links and records the mail under the key ``survey:<id>:invite`` in the same transaction that
marks the invitation sent: a worker that dies mid-batch rolls the whole batch back (nothing
was mailed — mail leaves only after commit), and a second run finds nothing left to send.
Reminders work the same way under ``survey:<id>:reminder:<n>``.

Every mail carries its own survey link (the raw token is stored nowhere readable: the mail
holds it encrypted until it is sent — ``secret_context`` — so a reminder cannot repeat the
first mail's link); all of an invitation's links stay valid until the campaign
closes and the first submission through any of them answers the invitation — the others
then say "thank you, your answer was recorded". Each mail also carries an unsubscribe link,
valid for a year. A mail the SMTP server refuses marks the invitation ``bounced``: it gets
no reminders and is never retried.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.choices import NotificationStatus
from itsm.core.models import AccessToken, Contact, Notification
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.tokens import TokenError, TokenUsed, token_consume, token_issue, token_url

from ..answers import AnswerInput
from ..choices import CampaignStatus, InvitationStatus
from ..models import Answer, Campaign, Invitation, SurveyResponse

logger = logging.getLogger(__name__)

SURVEY_PURPOSE = "survey"
UNSUBSCRIBE_PURPOSE = "survey_unsubscribe"
UNSUBSCRIBE_VALID = timedelta(days=365)
BATCH_SIZE = 100
_KEY = re.compile(r"^survey:(\d+):")


class SurveyClosed(TokenError):
    """The link is fine but its campaign no longer takes answers."""

    status = 410
    code = "closed"
    title = gettext_lazy("This survey has closed")
    message = gettext_lazy(
        "Thank you for your interest. The survey is no longer accepting answers; "
        "if you would still like to tell us something, reply to the email you received."
    )


# --- creation (at launch) -------------------------------------------------------------------


def invitations_create(*, campaign: Campaign, contact_ids: list[int]) -> tuple[int, int]:
    """Create one invitation per contact (at most one per campaign and contact, ever); return
    (created, of which with an invalid address). Call inside the launch transaction; the
    batches are queued to send once it commits. An address that is not a valid email is
    marked bounced at once and never mailed."""
    existing = set(campaign.invitations.values_list("contact_id", flat=True))
    now = timezone.now()
    rows: list[Invitation] = []
    invalid = 0
    contacts = Contact.objects.filter(pk__in=[pk for pk in contact_ids if pk not in existing]).order_by("pk")
    for contact in contacts.iterator(chunk_size=2000):
        invitation = Invitation(
            campaign=campaign,
            contact=contact,
            organisation_id=contact.organisation_id,
            department_id=contact.department_id,
            email=contact.email,
            language=contact.preferred_language,
        )
        try:
            validate_email(contact.email)
        except ValidationError:
            invitation.status = InvitationStatus.BOUNCED
            invitation.bounced_at = now
            invitation.bounce_reason = _("Not a valid email address.")
            invalid += 1
        rows.append(invitation)
    Invitation.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    transaction.on_commit(lambda: _queue_sending(campaign.pk), robust=True)
    return len(rows), invalid


def _queue_sending(campaign_id: int) -> None:
    from ..tasks import send_invitations_task

    send_invitations_task.delay(campaign_id)


# --- sending --------------------------------------------------------------------------------


def _claim(queryset, limit: int) -> list[Invitation]:
    locking = queryset.select_for_update(
        skip_locked=connection.features.has_select_for_update_skip_locked, of=("self",)
    )
    return list(locking.select_related("contact", "campaign", "campaign__questionnaire").order_by("pk")[:limit])


def _links(invitation: Invitation, now: datetime) -> dict[str, str]:
    raw = token_issue(purpose=SURVEY_PURPOSE, target=invitation, expires_at=invitation.campaign.closes_at)
    stop = token_issue(purpose=UNSUBSCRIBE_PURPOSE, target=invitation, expires_at=now + UNSUBSCRIBE_VALID)
    return {"link": token_url(raw, "survey_answer"), "unsubscribe_link": token_url(stop, "survey_unsubscribe")}


def _send(invitation: Invitation, *, key: str, template: str, now: datetime, **context: Any) -> None:
    if Notification.objects.filter(key=key).exists():
        return  # recorded by an earlier run that died before marking the invitation
    campaign = invitation.campaign
    notification_queue(
        key=key,
        template=f"surveys/email/{template}",
        recipient=Recipient(email=invitation.email, name=invitation.contact.name, language=invitation.language),
        context={"campaign": campaign, "closes_at": campaign.closes_at, **context},
        secret_context=_links(invitation, now),
    )


def invite_key(invitation_id: int) -> str:
    """The key the invitation mail of an invitation is recorded under."""
    return f"survey:{invitation_id}:invite"


def invite_key_expression() -> Concat:
    """``invite_key`` in SQL, for an invitation queryset (``itsm.core.selectors.with_mail``)."""
    return Concat(Value("survey:"), Cast("pk", CharField()), Value(":invite"), output_field=CharField())


def invitations_send_batch(*, campaign_id: int, batch_size: int = BATCH_SIZE) -> tuple[int, bool]:
    """Mail up to ``batch_size`` unsent invitations of a running campaign; return (sent, more).

    One transaction per batch: the claim, the links, the recorded mail and the "sent" mark
    commit together (see the module docstring). Invitations of a campaign no longer running
    stay unsent."""
    with transaction.atomic():
        now = timezone.now()
        pending = Invitation.objects.filter(
            campaign_id=campaign_id,
            campaign__status=CampaignStatus.RUNNING,
            campaign__closes_at__gt=now,
            status=InvitationStatus.PENDING,
        )
        batch = _claim(pending, batch_size)
        for invitation in batch:
            _send(invitation, key=invite_key(invitation.pk), template="invitation", now=now)
            invitation.status = InvitationStatus.SENT
            invitation.sent_at = now
        Invitation.objects.bulk_update(batch, ["status", "sent_at"])
    return len(batch), len(batch) == batch_size


def invitations_send_pending(now: datetime | None = None) -> int:
    """Send what is still unsent in every running campaign (the safety net behind the queued
    batches, e.g. when the broker lost a task); return how many were mailed."""
    total = 0
    for campaign_id in (
        Campaign.objects.filter(status=CampaignStatus.RUNNING, invitations__status=InvitationStatus.PENDING)
        .distinct()
        .values_list("pk", flat=True)
    ):
        more = True
        while more:
            sent, more = invitations_send_batch(campaign_id=campaign_id)
            total += sent
    return total


def _reminder_due(campaign: Campaign, now: datetime) -> int:
    """How many reminders should have gone out by ``now`` (0 when none is due yet)."""
    if campaign.launched_at is None:
        return 0
    return sum(1 for days in campaign.reminder_days if campaign.launched_at + timedelta(days=days) <= now)


def invitations_remind(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Remind non-respondents of running campaigns on the campaign's schedule (days after
    launch); return how many reminders were recorded. A reminder missed (the check did not
    run) is not doubled up: each invitation gets the latest due one only. Idempotent."""
    now = now or timezone.now()
    total = 0
    for campaign in Campaign.objects.filter(status=CampaignStatus.RUNNING, closes_at__gt=now).order_by("pk"):
        number = _reminder_due(campaign, now)
        if not number:
            continue
        while True:
            with transaction.atomic():
                due = Invitation.objects.filter(
                    campaign=campaign,
                    status=InvitationStatus.SENT,
                    reminders_sent__lt=number,
                    unsubscribed_at__isnull=True,
                    contact__unsubscribed=False,
                )
                batch = _claim(due, batch_size)
                for invitation in batch:
                    _send(
                        invitation,
                        key=f"survey:{invitation.pk}:reminder:{number}",
                        template="reminder",
                        now=now,
                        number=number,
                    )
                    invitation.reminders_sent = number
                    invitation.last_reminded_at = now
                Invitation.objects.bulk_update(batch, ["reminders_sent", "last_reminded_at"])
            total += len(batch)
            if len(batch) < batch_size:
                break
    return total


def invitations_mark_bounced(since: timedelta = timedelta(days=60)) -> int:
    """Mark invitations whose mail the SMTP server refused (a failed notification) as bounced:
    no reminders, no retries. Returns how many were newly marked."""
    failed = Notification.objects.filter(
        status=NotificationStatus.FAILED,
        key__startswith="survey:",
        created_at__gte=timezone.now() - since,
    ).values_list("key", "last_error")
    reasons: dict[int, str] = {}
    for key, error in failed:
        match = _KEY.match(key)
        if match:
            reasons[int(match.group(1))] = error
    marked = 0
    now = timezone.now()
    for invitation in Invitation.objects.filter(pk__in=list(reasons), status=InvitationStatus.SENT):
        marked += Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.SENT).update(
            status=InvitationStatus.BOUNCED,
            bounced_at=now,
            bounce_reason=(reasons[invitation.pk] or _("The mail server refused the address."))[:300],
        )
    return marked


# --- the customer's side --------------------------------------------------------------------


def invitation_of(access: AccessToken) -> Invitation:
    """The invitation a checked survey or unsubscribe link belongs to."""
    return Invitation.objects.select_related("campaign", "campaign__questionnaire").get(pk=access.object_id)


def invitation_check_open(invitation: Invitation, access: AccessToken, now: datetime | None = None) -> None:
    """Raise the page-worthy error when the invitation can take no answer now."""
    now = now or timezone.now()
    if invitation.answered_at is not None:
        raise TokenUsed(access)
    campaign = invitation.campaign
    if campaign.status != CampaignStatus.RUNNING or campaign.closes_at <= now:
        raise SurveyClosed(access)


def invitation_unsubscribe(*, invitation: Invitation) -> bool:
    """The contact asks for no more surveys: mark the invitation and the contact. Returns False
    when they had unsubscribed already (nothing changes)."""
    with transaction.atomic():
        now = timezone.now()
        changed = Invitation.objects.filter(pk=invitation.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=now)
        contact = Contact.objects.select_for_update().get(pk=invitation.contact_id)
        if not contact.unsubscribed:
            contact.unsubscribed = True
            contact.save(update_fields=["unsubscribed", "updated_at"])
            changed = 1
    return bool(changed)


def response_submit(*, raw_token: str, answers: list[AnswerInput]) -> SurveyResponse:
    """Record an invitation's one response: all answers or none.

    Consumes the link inside the transaction that writes the response, locks the
    invitation, refuses a second response (``TokenUsed``), a campaign no longer running
    (``SurveyClosed``) and invalid answers (``ValidationError`` keyed by question id, the
    same rules as the form: ``surveys.answers.answer_errors``). Concurrent submissions of one
    invitation record exactly one response."""
    from ..answers import answer_errors, questionnaire_content

    with transaction.atomic():
        access = token_consume(raw_token, purpose=SURVEY_PURPOSE)
        invitation = Invitation.objects.select_for_update().select_related("campaign").get(pk=access.object_id)
        now = timezone.now()
        invitation_check_open(invitation, access, now)
        campaign = invitation.campaign
        content = questionnaire_content(campaign.questionnaire)
        errors = answer_errors(content, answers)
        if errors:
            raise ValidationError({str(question_id): messages for question_id, messages in errors.items()})
        response = SurveyResponse.objects.create(
            invitation=invitation,
            campaign=campaign,
            organisation_id=invitation.organisation_id,
            department_id=invitation.department_id,
            language=invitation.language,
            submitted_at=now,
        )
        rows: list[Answer] = []
        shared = {
            "response": response,
            "campaign": campaign,
            "organisation_id": invitation.organisation_id,
            "department_id": invitation.department_id,
        }
        for answer in answers:
            if answer.is_empty:
                continue
            if answer.option_ids:
                for position, option_id in enumerate(answer.option_ids):
                    rows.append(
                        Answer(
                            **shared,
                            question_id=answer.question_id,
                            option_id=option_id,
                            text=answer.text.strip() if position == 0 else "",
                        )
                    )
            else:
                rows.append(
                    Answer(
                        **shared,
                        question_id=answer.question_id,
                        value=answer.value,
                        text=answer.text.strip(),
                        comment=answer.comment.strip(),
                    )
                )
        Answer.objects.bulk_create(rows)
        invitation.status = InvitationStatus.ANSWERED
        invitation.answered_at = now
        invitation.save(update_fields=["status", "answered_at"])
    return response


def survey_language(access: AccessToken) -> str | None:
    """The language a survey or unsubscribe page opens in: the invitation's (the contact's)."""
    language = Invitation.objects.filter(pk=access.object_id).values_list("language", flat=True).first()
    return language or settings.LANGUAGE_CODE
