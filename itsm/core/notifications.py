"""Mail: queue once under a key, render in the recipient's language, send after commit.

``notification_queue`` records a ``Notification`` row and, once the surrounding transaction
commits, hands its id to ``send_notification_task``. The key is unique: asking again with the
same key returns the existing row and sends nothing, so a retried task or a restarted worker
never mails twice. Non-urgent mail is held until the recipient calendar's working hours
(``send_after``); the periodic check ``core.deliver_due_notifications`` sends it then.

Personal links (survey, confirmation, call-back links) are passed as ``secret_context``: the
stored body holds a placeholder, the link is stored encrypted and put in only when the mail is
sent (``itsm.core.mail_links``), then erased.

At most one send per mail, except in one instant. Sending claims the row with a conditional
UPDATE (pending → sending) in its own, committed statement before talking to the SMTP server,
and marks it sent right after the server accepted the mail, before the connection is closed.
A second delivery of the task finds the row sent (does nothing) or freshly claimed by a worker
that may still be sending (does nothing; a *redelivered* message — its first worker died —
looks again once that claim has expired). A worker that dies after claiming leaves the row
``sending``; the claim expires after ``settings.MAIL_CLAIM_TIMEOUT`` (longer than the send
task's hard time limit, shorter than the broker's visibility timeout), so the message the
broker redelivers takes the row over; the periodic check releases expired claims as a
backstop. The one gap left is between the server's accept and the commit of "sent": a worker
killed there sends the mail again on redelivery — with the same ``Message-ID``
(``message_id_for(key)``), so the receiving side can discard the repeat.

Held mail can be sent at once by staff allowed to (``notification_release``: the "send now"
of the notifications page); the release is on the audit trail.

Templates: ``<template>.subject.txt``, ``<template>.txt`` and optionally ``<template>.html``;
a language-specific file ``<template>.<lang>.txt`` wins over the shared one, which is
translated with ``{% translate %}`` under the recipient's language.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import mail_links
from .calendar import next_working_moment
from .choices import Language, MailState, NotificationStatus
from .models import Calendar, Notification
from .permissions import can, require

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def claim_timeout() -> timedelta:
    """How old a claim ("sending") must be to belong to a worker that died.

    ``settings.MAIL_CLAIM_TIMEOUT``: the send task's hard time limit plus a margin for clock
    skew between workers. A live worker never holds a claim that long — the pool kills a send
    at its time limit (prefork; the solo and thread pools enforce no time limit, so do not run
    mail on them) and the SMTP socket has ``EMAIL_TIMEOUT``.
    """
    return timedelta(seconds=settings.MAIL_CLAIM_TIMEOUT)


def message_id_for(key: str) -> str:
    """The ``Message-ID`` of the mail recorded under ``key``: the same on every attempt.

    ``<first 32 hex digits of sha256(key)@domain>``, the domain being
    ``settings.MAIL_MESSAGE_ID_DOMAIN`` or else that of ``DEFAULT_FROM_EMAIL``.
    """
    domain = (
        getattr(settings, "MAIL_MESSAGE_ID_DOMAIN", "") or parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    )
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain or 'localhost'}>"


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
    secret_context: Mapping[str, str] | None = None,
) -> Notification:
    """Record a mail under ``key`` and send it after commit (held to working hours unless urgent).

    ``secret_context``: template values that must not be stored readable — personal links
    (``{"link": token_url(raw, ...)}``). The templates see a placeholder in their place; the
    stored body keeps the placeholder, the values are stored encrypted and inserted when the
    mail is sent (``itsm.core.mail_links``). Use them in the body only, never the subject.

    Returns the notification; when ``key`` was used before, returns that one and sends
    nothing. Raises ``TemplateDoesNotExist`` when the template is missing, ``ValueError`` when
    a secret value would reach the stored subject or body (a secret that is also passed in
    ``context``, or a placeholder in the subject).
    """
    existing = Notification.objects.filter(key=key).first()
    if existing is not None:
        return existing
    language = recipient.language if recipient.language in Language.values else settings.LANGUAGE_CODE
    secrets = dict(secret_context or {})
    context = {
        "recipient_name": recipient.name,
        "site_url": settings.SITE_URL,
        **(context or {}),
        **{name: mail_links.placeholder(name) for name in secrets},
    }
    subject, text, html = _render(template, language, context)
    _refuse_readable_secrets(key, secrets, subject, text, html)
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
                secret_context=mail_links.seal(secrets),
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


def _refuse_readable_secrets(key: str, secrets: dict[str, str], subject: str, text: str, html: str) -> None:
    if mail_links.holds_placeholder(subject):
        raise ValueError(f"mail {key}: a personal link in the subject would be stored readable")
    for name, value in secrets.items():
        if value and any(value in part for part in (subject, text, html)):
            raise ValueError(f"mail {key}: the secret value {name!r} would be stored readable")


def notification_send(notification_id: int) -> bool:
    """Send one due notification; True when this call sent it.

    Claims the row first — pending, or ``sending`` under a claim older than
    ``claim_timeout()`` (its worker died) and tried fewer than ``MAX_ATTEMPTS`` times — with
    a conditional UPDATE that commits before the SMTP server is contacted: call it outside a
    transaction (the task does). A row sent, failed, not yet due or freshly claimed by another
    worker is left alone. Once the server has accepted the mail the row is marked sent (and
    its sealed links erased) before the connection is closed. A refused recipient or sender
    is marked failed and never retried; links that can no longer be decrypted fail the mail
    too; any other error puts the row back to pending and re-raises for the task to retry
    (failed after ``MAX_ATTEMPTS``).
    """
    now = timezone.now()
    stale = Q(status=NotificationStatus.SENDING, claimed_at__lt=now - claim_timeout(), attempts__lt=MAX_ATTEMPTS)
    claimed = Notification.objects.filter(
        Q(status=NotificationStatus.PENDING) | stale, pk=notification_id, send_after__lte=now
    ).update(status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    try:
        links = mail_links.unseal(notification.secret_context)
    except mail_links.LinksUnreadable:
        error = "The personal links of this mail cannot be decrypted (MAIL_LINK_KEY or SECRET_KEY changed)."
        _finish(notification_id, now, NotificationStatus.FAILED, error=error)
        logger.error("notification %s: %s", notification_id, error)
        return False
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=mail_links.insert(notification.body_text, links),
        to=[notification.recipient_email],
        headers={"X-Itsm-Notification": notification.key[:200], "Message-ID": message_id_for(notification.key)},
    )
    if notification.body_html:
        message.attach_alternative(mail_links.insert(notification.body_html, links, html=True), "text/html")
    connection = get_connection()
    try:
        connection.open()
        connection.send_messages([message])
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        _finish(notification_id, now, NotificationStatus.FAILED, error=str(exc))
        logger.warning("notification %s refused: %s", notification_id, exc)
        return False
    except Exception as exc:
        final = notification.attempts >= MAX_ATTEMPTS
        status = NotificationStatus.FAILED if final else NotificationStatus.PENDING
        _finish(notification_id, now, status, error=str(exc))
        if final:
            return False
        raise
    else:
        # The server has the mail: record it before anything else can fail (closing the
        # connection, the worker being killed). Only a death right here sends it twice.
        _finish(notification_id, now, NotificationStatus.SENT)
    finally:
        _close_quietly(connection)
    return True


def notification_claim_expires_in(notification_id: int) -> float | None:
    """Seconds until the claim on a row being sent expires; None when it is not being sent."""
    claimed_at = (
        Notification.objects.filter(pk=notification_id, status=NotificationStatus.SENDING)
        .values_list("claimed_at", flat=True)
        .first()
    )
    if claimed_at is None:
        return None
    return max(0.0, (claimed_at + claim_timeout() - timezone.now()).total_seconds())


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # the mail is recorded; a failing QUIT changes nothing
        logger.debug("closing the SMTP connection failed", exc_info=True)


def _finish(notification_id: int, claimed_at: datetime, status: str, error: str = "") -> None:
    # Only while the claim is still ours: a worker that outlived its claim (it should not)
    # must not undo what the worker that took the row over did.
    fields: dict[str, Any] = {"status": status, "last_error": error[:2000]}
    if status == NotificationStatus.SENT:
        fields["sent_at"] = timezone.now()
    if status in (NotificationStatus.SENT, NotificationStatus.FAILED):
        fields["secret_context"] = ""  # the links have left, or never will
    Notification.objects.filter(pk=notification_id, status=NotificationStatus.SENDING, claimed_at=claimed_at).update(
        **fields
    )


def notification_deliver_due() -> tuple[int, int]:
    """Release expired claims, then send every pending notification that is due.

    The backstop behind redelivery: a claim older than ``claim_timeout()`` goes back to
    pending (failed, once tried ``MAX_ATTEMPTS`` times: its worker died at every attempt).
    Returns (queued, released). Sending goes through the task so retries and time limits
    apply; with eager tasks (tests, ``run_due_checks``) it happens here and now.
    """
    now = timezone.now()
    expired = Notification.objects.filter(status=NotificationStatus.SENDING, claimed_at__lt=now - claim_timeout())
    expired.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=NotificationStatus.FAILED,
        secret_context="",
        last_error="The worker sending this mail stopped at every attempt.",
    )
    released = expired.update(status=NotificationStatus.PENDING)
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
    after) and is handed to the send task once the transaction commits.

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
