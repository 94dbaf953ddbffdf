"""Mail: queue once under a key, render in the recipient's language, send after commit.

``notification_queue`` records a ``Notification`` row and, once the surrounding transaction
commits, hands its id to ``send_notification_task``. The key is unique: asking again with the
same key returns the existing row and sends nothing, so a retried task or a restarted worker
never mails twice. Non-urgent mail is held until the recipient calendar's working hours
(``send_after``); the periodic check ``core.deliver_due_notifications`` sends it then.

Sending claims the row with a conditional UPDATE (pending → sending), so two workers given
the same id send one mail. A worker that dies after claiming leaves the row ``sending``; the
periodic check releases such claims after ``STALE_CLAIM`` and the mail is tried again.

Held mail can be sent at once by staff allowed to (``notification_release``: the "send now"
of the notifications page); the release is on the audit trail.

Templates: ``<template>.subject.txt``, ``<template>.txt`` and optionally ``<template>.html``;
a language-specific file ``<template>.<lang>.txt`` wins over the shared one, which is
translated with ``{% translate %}`` under the recipient's language.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .calendar import next_working_moment
from .choices import Language, MailState, NotificationStatus
from .models import Calendar, Notification
from .permissions import can, require

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=15)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str = ""
    language: str = Language.ZH_HANS
    calendar: Calendar | None = None

    @classmethod
    def of(cls, person, calendar: Calendar | None = None) -> Recipient:
        """A recipient from a ``User`` or a ``Contact`` (both have email and a language)."""
        return cls(
            email=person.email,
            name=str(person),
            language=getattr(person, "preferred_language", "") or settings.LANGUAGE_CODE,
            calendar=calendar,
        )


def _render(template: str, language: str, context: dict[str, Any]) -> tuple[str, str, str]:
    def pick(suffix: str) -> str:
        names = [f"{template}.{language}.{suffix}", f"{template}.{suffix}"]
        return select_template(names).template.name

    with translation.override(language):
        subject = " ".join(render_to_string(pick("subject.txt"), context).split())
        text = render_to_string(pick("txt"), context)
        html: str
        try:
            html = render_to_string(pick("html"), context)
        except TemplateDoesNotExist:
            html = ""
    return subject, text, html


def notification_queue(
    *,
    key: str,
    template: str,
    recipient: Recipient,
    context: dict[str, Any] | None = None,
    urgent: bool = False,
    redact_after_send: bool = False,
) -> Notification:
    """Record a mail under ``key`` and send it after commit (held to working hours unless urgent).

    ``redact_after_send``: the mail carries a personal link; its body is blanked once sent
    (the subject stays, for the record).

    Returns the notification; when ``key`` was used before, returns that one and sends
    nothing. Raises ``TemplateDoesNotExist`` when the template is missing.
    """
    existing = Notification.objects.filter(key=key).first()
    if existing is not None:
        return existing
    language = recipient.language if recipient.language in Language.values else settings.LANGUAGE_CODE
    context = {"recipient_name": recipient.name, "site_url": settings.SITE_URL, **(context or {})}
    subject, text, html = _render(template, language, context)
    now = timezone.now()
    send_after = now if urgent else next_working_moment(now, recipient.calendar)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key,
                recipient_email=recipient.email,
                recipient_name=recipient.name[:200],
                language=language,
                template=template,
                subject=subject[:300],
                body_text=text,
                body_html=html,
                urgent=urgent,
                redact_after_send=redact_after_send,
                send_after=send_after,
            )
    except IntegrityError:
        # Another transaction recorded the same key first: that one is the mail.
        return Notification.objects.get(key=key)
    if send_after <= now:
        from .tasks import send_notification_task

        # robust: the caller's transaction has committed by now, so a failure to hand the mail
        # over (broker down) must not turn into an error for it, nor skip the other commit
        # hooks. The row stays pending and the periodic check sends it.
        transaction.on_commit(lambda: send_notification_task.delay(notification.pk), robust=True)
    return notification


def notification_send(notification_id: int) -> bool:
    """Send one due, pending notification; True when this call sent it.

    Claims the row first (pending → sending); a row already claimed, sent, failed or not
    yet due is left alone. A refused recipient is marked failed and never retried; any
    other SMTP error puts the row back to pending and re-raises for the task to retry.
    """
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status=NotificationStatus.PENDING, send_after__lte=now
    ).update(status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        to=[notification.recipient_email],
        headers={"X-Itsm-Notification": notification.key[:200]},
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        _finish(notification_id, NotificationStatus.FAILED, error=str(exc))
        logger.warning("notification %s refused: %s", notification_id, exc)
        return False
    except Exception as exc:
        final = notification.attempts >= MAX_ATTEMPTS
        _finish(notification_id, NotificationStatus.FAILED if final else NotificationStatus.PENDING, error=str(exc))
        if final:
            return False
        raise
    _finish(notification_id, NotificationStatus.SENT, redact=notification.redact_after_send)
    return True


REDACTED = "[removed after sending: the mail held a personal link]"


def _finish(notification_id: int, status: str, error: str = "", redact: bool = False) -> None:
    fields: dict[str, Any] = {"status": status, "last_error": error[:2000]}
    if status == NotificationStatus.SENT:
        fields["sent_at"] = timezone.now()
        if redact:
            fields.update(body_text=REDACTED, body_html="")
    Notification.objects.filter(pk=notification_id, status=NotificationStatus.SENDING).update(**fields)


def notification_deliver_due() -> tuple[int, int]:
    """Release stale claims, then send every pending notification that is due.

    Returns (queued, released). Sending goes through the task so retries and time limits
    apply; with eager tasks (tests, ``run_due_checks``) it happens here and now.
    """
    now = timezone.now()
    released = Notification.objects.filter(status=NotificationStatus.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=NotificationStatus.PENDING
    )
    due = list(
        Notification.objects.filter(status=NotificationStatus.PENDING, send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", flat=True)[:1000]
    )
    _queue_sends(due)
    return len(due), released


def _queue_sends(ids: list[int]) -> None:
    from .tasks import send_notification_task

    for pk in ids:
        try:
            send_notification_task.delay(pk)
        except Exception:  # one bad mail must not stop the rest; the row stays pending
            logger.exception("could not queue notification %s", pk)


RELEASE_CHUNK = 500


def notification_release(*, notifications: QuerySet[Notification], actor) -> int:
    """Send the held mail among ``notifications`` now ("send now"); return how many were released.

    Held = pending with ``send_after`` still ahead (non-urgent mail waiting for working hours).
    A conditional UPDATE (still pending, still ahead) moves ``send_after`` to now, so a mail
    sent, being sent, failed or already due is left untouched, and a second call releases
    nothing more. Each released mail gets an audit entry (who, and ``send_after`` before and
    after) and is handed to the send task once the transaction commits; its body is blanked
    after sending as always.

    Raises ``PermissionDenied`` without ``core.change_notification`` and ``ValidationError``
    when none of ``notifications`` is held; in both cases nothing is written.
    """
    require(can(actor, "change", Notification))
    from .selectors import with_mail_state

    with transaction.atomic():
        now = timezone.now()
        held = list(
            Notification.objects.filter(
                pk__in=notifications.values("pk"), status=NotificationStatus.PENDING, send_after__gt=now
            )
            .order_by("pk")
            .values_list("pk", "send_after", "subject", "recipient_email")
        )
        if not held:
            annotated = with_mail_state(notifications, now=now)
            states = list(annotated.values_list("state", flat=True)[:2])  # type: ignore[misc]  # an annotation
            if len(states) == 1:
                state = MailState(states[0]).label
                raise ValidationError(_("Only held mail can be sent now; this mail is “%(state)s”.") % {"state": state})
            raise ValidationError(_("None of these mails is held; nothing was sent."))
        released: list[int] = []
        entries: list[LogEntry] = []
        content_type = ContentType.objects.get_for_model(Notification)
        for start in range(0, len(held), RELEASE_CHUNK):
            chunk = held[start : start + RELEASE_CHUNK]
            ids = [row[0] for row in chunk]
            count = Notification.objects.filter(
                pk__in=ids, status=NotificationStatus.PENDING, send_after__gt=now
            ).update(send_after=now)
            # A mail that became due or was claimed in between is not released by this call.
            done = (
                set(ids)
                if count == len(ids)
                else set(Notification.objects.filter(pk__in=ids, send_after=now).values_list("pk", flat=True))
            )
            for pk, send_after, subject, email in chunk:
                if pk not in done:
                    continue
                released.append(pk)
                entries.append(
                    LogEntry(
                        content_type=content_type,
                        object_pk=str(pk),
                        object_id=pk,
                        object_repr=f"{subject} → {email}",
                        action=LogEntry.Action.UPDATE,
                        # As auditlog records datetimes: naive UTC.
                        changes={"send_after": [str(_naive_utc(send_after)), str(_naive_utc(now))]},
                        actor=actor,
                        timestamp=now,
                    )
                )
        LogEntry.objects.bulk_create(entries, batch_size=RELEASE_CHUNK)
        transaction.on_commit(lambda: _queue_sends(released), robust=True)
    logger.info("%s released %d held notification(s): %s", actor, len(released), released[:20])
    return len(released)


def _naive_utc(moment):
    return timezone.make_naive(moment, UTC)
