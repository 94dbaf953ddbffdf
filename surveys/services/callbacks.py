"""Ticket call-backs (工单回访): ingest resolved tickets, record answers, flag, mail.

Every write is here. ``ticket_ingest`` is idempotent by ``external_id``; each ticket has one
``CallBack`` due 24 hours after resolution. An answer is recorded by phone
(``callback_record_phone``: on the customer's behalf, correctable for 12 hours) or through the
mailed link (``callback_record_link``: the token is consumed in the same transaction). A
dissatisfied or complaining answer flags the ticket as not closable and mails the technician.
``callbacks_notify_overdue`` mails the service desk lead once per newly overdue call-back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from itsm.core.audit import set_actor
from itsm.core.calendar import add_working_time, default_calendar, working_day_length
from itsm.core.models import Contact, User
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.roles import Role
from itsm.core.tokens import token_consume, token_issue, token_revoke, token_url

from ..choices import CallbackMethod
from ..models import CallBack, Ticket

CALLBACK_PURPOSE = "callback"
CALLBACK_DUE = timedelta(hours=24)
# A resolved ticket is closed within 2 working days (reference 002 §二.7).
CLOSE_WITHIN = 2
CORRECTION_WINDOW = timedelta(hours=12)
LINK_VALID = timedelta(days=7)


@dataclass(frozen=True)
class CallbackAnswer:
    fixed: bool
    rating_attitude: int
    rating_speed: int
    rating_effect: int
    satisfied: bool
    complaint_raised: bool = False
    comment: str = ""


def callback_is_dissatisfied(callback: CallBack) -> bool:
    return callback.answered_at is not None and (
        callback.satisfied is False or callback.fixed is False or callback.complaint_raised
    )


def callback_is_overdue(callback: CallBack, now: datetime | None = None) -> bool:
    return callback.answered_at is None and callback.due_at <= (now or timezone.now())


# --- ingestion ------------------------------------------------------------------------------


def _match_contact(email: str, phone: str) -> Contact | None:
    if email:
        found = Contact.objects.filter(email__iexact=email).order_by("pk").first()
        if found is not None:
            return found
    if phone:
        return Contact.objects.filter(phone=phone).order_by("pk").first()
    return None


def _match_user(email: str) -> User | None:
    if not email:
        return None
    return User.objects.filter(email__iexact=email, is_active=True).order_by("pk").first()


def ticket_ingest(*, data: dict[str, Any], actor: User | None) -> tuple[Ticket, bool]:
    """Create or update the ticket ``data["external_id"]`` and its call-back; (ticket, created).

    ``data`` holds external_id, ticket_ref, requester_{name,email,phone},
    technician_{name,email}, resolved_at (aware), closed_at (aware or None, optional: kept as
    it is when absent), summary. The requester is matched to a
    Contact by email, then phone; the technician to a User by email. A changed ``resolved_at``
    moves the due time of a call-back not yet answered. Raises ``ValidationError``.
    """
    with transaction.atomic(), set_actor(actor):
        ticket = Ticket.objects.select_for_update().filter(external_id=data["external_id"]).first()
        created = ticket is None
        if ticket is None:
            ticket = Ticket(external_id=data["external_id"])
        for field in (
            "ticket_ref",
            "requester_name",
            "requester_email",
            "requester_phone",
            "technician_name",
            "technician_email",
            "resolved_at",
            "summary",
        ):
            setattr(ticket, field, data[field] if field == "resolved_at" else (data.get(field) or ""))
        contact = _match_contact(ticket.requester_email, ticket.requester_phone)
        ticket.requester = contact
        ticket.organisation = contact.organisation if contact is not None else None
        ticket.technician = _match_user(ticket.technician_email)
        if "closed_at" in data:
            ticket.closed_at = data["closed_at"]
        calendar = default_calendar()
        window = CLOSE_WITHIN * working_day_length(calendar)
        ticket.close_due_at = add_working_time(ticket.resolved_at, window, calendar)
        ticket.full_clean(validate_unique=False)
        ticket.save()
        due = ticket.resolved_at + CALLBACK_DUE
        callback = CallBack.objects.filter(ticket=ticket).first()
        if callback is None:
            CallBack.objects.create(ticket=ticket, due_at=due)
        elif callback.answered_at is None and callback.due_at != due:
            callback.due_at = due
            callback.overdue_notified_at = None
            callback.save(update_fields=["due_at", "overdue_notified_at", "updated_at"])
    return ticket, created


def tickets_ingest(*, items: list[dict[str, Any]], actor: User | None) -> list[tuple[Ticket, bool]]:
    """Ingest several tickets, all or none (one transaction)."""
    with transaction.atomic():
        return [ticket_ingest(data=item, actor=actor) for item in items]


# --- answers --------------------------------------------------------------------------------


def _apply(callback: CallBack, answer: CallbackAnswer) -> None:
    callback.fixed = answer.fixed
    callback.rating_attitude = answer.rating_attitude
    callback.rating_speed = answer.rating_speed
    callback.rating_effect = answer.rating_effect
    callback.satisfied = answer.satisfied
    callback.complaint_raised = answer.complaint_raised
    callback.comment = answer.comment or ""


def _flag(callback: CallBack) -> None:
    """Flag the ticket when the answer is unhappy; lift the flag when a correction makes it happy."""
    ticket = callback.ticket
    if callback_is_dissatisfied(callback):
        reasons = []
        if callback.fixed is False:
            reasons.append(_("fault not fixed"))
        if callback.satisfied is False:
            reasons.append(_("customer dissatisfied"))
        if callback.complaint_raised:
            reasons.append(_("customer complained"))
        ticket.closable = False
        ticket.flag_reason = (_("Call-back: ") + ", ".join(reasons))[:300]
        ticket.save(update_fields=["closable", "flag_reason", "updated_at"])
        _mail_technician(callback)
    elif not ticket.closable:
        ticket.closable = True
        ticket.flag_reason = ""
        ticket.save(update_fields=["closable", "flag_reason", "updated_at"])


def _mail_technician(callback: CallBack) -> None:
    ticket = callback.ticket
    person = ticket.technician
    if person is not None and person.email:
        recipient = Recipient.of(person)
    elif ticket.technician_email:
        recipient = Recipient(email=ticket.technician_email, name=ticket.technician_name)
    else:
        return
    context = {
        "ticket": ticket,
        "callback": callback,
        "url": f"{settings.SITE_URL}{callback.get_absolute_url()}",
    }
    stamp = f"{callback.answered_at:%Y%m%d%H%M%S%f}"
    transaction.on_commit(
        lambda: notification_queue(
            key=f"callback:{callback.pk}:dissatisfied:{stamp}",
            template="surveys/email/callback_dissatisfied",
            recipient=recipient,
            context=context,
            urgent=True,
        )
    )


def callback_record_phone(*, callback_id: int, answer: CallbackAnswer, actor: User) -> CallBack:
    """Record the answer given on the phone, on the customer's behalf; or correct it.

    A first answer is recorded by any user allowed to change call-backs; it may be corrected
    until ``correctable_until`` (answered_at + 12 h). Raises ``PermissionDenied`` without the
    permission, ``ValidationError`` for an answer given through the link or past the window.
    """
    if not actor.has_perm("surveys.change_callback"):
        raise PermissionDenied
    with transaction.atomic(), set_actor(actor):
        callback = CallBack.objects.select_for_update().select_related("ticket").get(pk=callback_id)
        now = timezone.now()
        if callback.answered_at is not None:
            if not callback.on_behalf:
                raise ValidationError(_("The customer answered this call-back through the link; it cannot be changed."))
            if callback.correctable_until is None or now > callback.correctable_until:
                raise ValidationError(
                    _("The 12 hours for correcting this answer are over; it can no longer be changed.")
                )
        else:
            callback.answered_at = now
            callback.correctable_until = now + CORRECTION_WINDOW
            callback.method = CallbackMethod.PHONE
            callback.on_behalf = True
            callback.recorded_by = actor
        _apply(callback, answer)
        callback.full_clean()
        callback.save()
        token_revoke(target=callback, purpose=CALLBACK_PURPOSE)
        _flag(callback)
    return callback


def callback_record_link(*, raw_token: str, answer: CallbackAnswer) -> CallBack:
    """Record the customer's own answer through the mailed link (single use, atomic).

    Raises a ``TokenError`` for a link that cannot be used, ``ValidationError`` when the
    call-back was answered meanwhile.
    """
    with transaction.atomic():
        access = token_consume(raw_token, purpose=CALLBACK_PURPOSE)
        callback = CallBack.objects.select_for_update().select_related("ticket").get(pk=access.object_id)
        if callback.answered_at is not None:
            raise ValidationError(_("This call-back has already been answered."))
        callback.answered_at = timezone.now()
        callback.method = CallbackMethod.LINK
        callback.on_behalf = False
        callback.correctable_until = None
        _apply(callback, answer)
        callback.full_clean()
        callback.save()
        _flag(callback)
    return callback


def callback_send_link(*, callback_id: int, actor: User) -> CallBack:
    """Mail the requester a personal link (valid ``LINK_VALID``) to answer the call-back.

    Earlier links are withdrawn. Raises ``PermissionDenied`` without the permission,
    ``ValidationError`` when answered already or the requester has no email address.
    """
    if not actor.has_perm("surveys.change_callback"):
        raise PermissionDenied
    with transaction.atomic(), set_actor(actor):
        callback = (
            CallBack.objects.select_for_update(of=("self",))
            .select_related("ticket", "ticket__requester")
            .get(pk=callback_id)
        )
        if callback.answered_at is not None:
            raise ValidationError(_("This call-back has already been answered."))
        ticket = callback.ticket
        email = ticket.requester_email or (ticket.requester.email if ticket.requester else "")
        if not email:
            raise ValidationError(_("The requester has no email address; please call them instead."))
        token_revoke(target=callback, purpose=CALLBACK_PURPOSE)
        now = timezone.now()
        raw = token_issue(purpose=CALLBACK_PURPOSE, target=callback, expires_at=now + LINK_VALID)
        callback.link_sent_at = now
        callback.save(update_fields=["link_sent_at", "updated_at"])
        language = (ticket.requester.preferred_language if ticket.requester else "") or settings.LANGUAGE_CODE
        recipient = Recipient(email=email, name=ticket.requester_name, language=language)
        context = {"ticket": ticket, "valid_days": LINK_VALID.days}
        link = {"url": token_url(raw, "callback_answer")}
        stamp = f"{now:%Y%m%d%H%M%S%f}"
        transaction.on_commit(
            lambda: notification_queue(
                key=f"callback:{callback.pk}:link:{stamp}",
                template="surveys/email/callback_link",
                recipient=recipient,
                context=context,
                urgent=True,
                secret_context=link,
            )
        )
    return callback


# --- overdue --------------------------------------------------------------------------------


def _lead_recipients() -> list[Recipient]:
    emails = [e for e in getattr(settings, "SERVICE_DESK_LEAD_EMAILS", []) if e]
    if emails:
        return [Recipient(email=e, name=e) for e in emails]
    users = (
        User.objects.filter(is_active=True, groups__name=Role.SERVICE_DESK.value)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    return [Recipient.of(u) for u in users]


def callbacks_notify_overdue() -> int:
    """Mail the service desk lead one digest of call-backs newly overdue; return how many.

    Each call-back is claimed once (conditional UPDATE of ``overdue_notified_at``), so running
    twice mails nothing the second time.
    """
    now = timezone.now()
    with transaction.atomic():
        pending = Q(answered_at__isnull=True, due_at__lte=now, overdue_notified_at__isnull=True)
        ids = list(CallBack.objects.select_for_update().filter(pending).values_list("pk", flat=True)[:500])
        if not ids:
            return 0
        claimed = CallBack.objects.filter(pending, pk__in=ids).update(overdue_notified_at=now)
        if not claimed:
            return 0
        callbacks = list(
            CallBack.objects.filter(pk__in=ids, overdue_notified_at=now).select_related("ticket").order_by("due_at")
        )
        context = {
            "callbacks": callbacks,
            "url": f"{settings.SITE_URL}{reverse('callback_list')}?state=overdue",
        }
        stamp = f"{now:%Y%m%d%H%M%S%f}"
        for recipient in _lead_recipients():
            _queue_digest(key=f"callbacks-overdue:{stamp}:{recipient.email}", recipient=recipient, context=context)
    return len(callbacks)


def _queue_digest(*, key: str, recipient: Recipient, context: dict[str, Any]) -> None:
    transaction.on_commit(
        lambda: notification_queue(
            key=key, template="surveys/email/callback_overdue", recipient=recipient, context=context, urgent=True
        )
    )
