"""Agreement reviews: recording a review and reminding owners before one is due.

Each active agreement is reviewed at least once a year (SPEC §5; the annual service review
with the customer or supplier). Recording a review sets the agreement's last review to the
day it was held and the next one a year later, in the same transaction. OLAs may be reviewed
too — an internal agreement is reviewed like the SLA it underpins — but only agreements in
force: a draft is still being negotiated, an ended one has nothing left to review.

``reviews_remind`` mails the agreement's owner (every service level manager when it has no
active owner with an address) 30 and 7 days before ``next_review_on`` and once when it has
passed. Each reminder is recorded under ``agreement:<id>:review:<due>:<30|7|overdue>``, so
running the check twice — or every day of a stage's window — mails once; a new due date
(after a review) starts new reminders.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from itsm.core.audit import set_actor
from itsm.core.models import Notification, User
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.permissions import can
from itsm.core.roles import Role

from ..choices import AgreementStatus
from ..models import Agreement, AgreementReview

REVIEW_INTERVAL_YEARS = 1
FIRST_REMINDER_DAYS = 30
SECOND_REMINDER_DAYS = 7


def one_year_after(day: date) -> date:
    """The same day a year later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + REVIEW_INTERVAL_YEARS)
    except ValueError:
        return day.replace(year=day.year + REVIEW_INTERVAL_YEARS, day=28)


def agreement_review_record(
    *,
    agreement: Agreement,
    held_on: date,
    attendees: str,
    minutes: str = "",
    findings: str = "",
    decisions: str = "",
    improvement_items: str = "",
    changes_agreement: bool = False,
    actor: User,
) -> AgreementReview:
    """Record a review of an active agreement held on ``held_on``; return it.

    The agreement's ``last_review_on`` becomes ``held_on`` and ``next_review_on`` a year
    later, in the same transaction — unless a later review is already recorded (a review
    entered after the fact leaves the dates of the later one alone). ``changes_agreement``
    only records the decision: the new version is started from the agreement's pages.
    ``improvement_items`` (one per line) are raised in the improvement register, each with the
    review as its source, in the same transaction.
    Raises ``PermissionDenied`` without ``sla.add_agreementreview``; ``ValidationError`` when
    the agreement is not active, the date is in the future, or no attendee is named.
    """
    if not can(actor, "add", AgreementReview):
        raise PermissionDenied(_("Your role may not record agreement reviews."))
    errors: dict[str, str] = {}
    if held_on > timezone.localdate():
        errors["held_on"] = _("A review is recorded once it has been held; the date is in the future.")
    if not attendees.strip():
        errors["attendees"] = _("Name who attended the review.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), set_actor(actor):
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.status != AgreementStatus.ACTIVE:
            raise ValidationError(
                _("Only an active agreement is reviewed; %(number)s is %(status)s.")
                % {"number": agreement.number, "status": agreement.get_status_display()}
            )
        review = AgreementReview(
            agreement=agreement,
            held_on=held_on,
            attendees=attendees.strip(),
            minutes=minutes.strip(),
            findings=findings.strip(),
            decisions=decisions.strip(),
            changes_agreement=changes_agreement,
            recorded_by=actor,
        )
        review.full_clean()
        review.save()
        _raise_items(review, improvement_items, actor)
        if agreement.last_review_on is None or held_on >= agreement.last_review_on:
            agreement.last_review_on = held_on
            agreement.next_review_on = one_year_after(held_on)
            agreement.save(update_fields=["last_review_on", "next_review_on", "updated_at"])
    return review


def improvement_lines(text: str) -> list[str]:
    """The improvement items a review names, one per non-empty line (list marks dropped)."""
    return [line.strip().lstrip("-•*·").strip() for line in text.splitlines() if line.strip().lstrip("-•*·").strip()]


def _raise_items(review: AgreementReview, text: str, actor: User) -> None:
    from improvement.services.items import item_create

    for line in improvement_lines(text):
        item_create(
            actor=actor,
            source_kind="agreement_review",
            source=review,
            title=line[:200],
            description=line if len(line) > 200 else "",
        )


# --- reminders ---------------------------------------------------------------------------------


def reminder_stage(due: date, today: date) -> str | None:
    """Which reminder is due ``today`` for a review due on ``due``: "30" from 30 days before,
    "7" from 7 days before (the due day included), "overdue" after it; None earlier."""
    left = (due - today).days
    if left < 0:
        return "overdue"
    if left <= SECOND_REMINDER_DAYS:
        return "7"
    if left <= FIRST_REMINDER_DAYS:
        return "30"
    return None


def reminder_key(agreement: Agreement, due: date, stage: str) -> str:
    return f"agreement:{agreement.pk}:review:{due:%Y-%m-%d}:{stage}"


def reviews_due(today: date, within_days: int) -> QuerySet[Agreement]:
    """Active agreements whose review is due within ``within_days`` or overdue, soonest first."""
    return (
        Agreement.objects.filter(
            status=AgreementStatus.ACTIVE,
            next_review_on__isnull=False,
            next_review_on__lte=today + timedelta(days=within_days),
        )
        .select_related("owner", "counterparty")
        .order_by("next_review_on", "number", "pk")
    )


def _service_level_managers() -> list[User]:
    return list(
        User.objects.filter(groups__name=Role.SERVICE_LEVEL_MANAGER, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _url(name: str, *args: object) -> str:
    try:
        return f"{settings.SITE_URL}{reverse(name, args=args)}"
    except NoReverseMatch:
        return ""


def reviews_remind(today: date | None = None) -> int:
    """Remind owners of reviews due in 30 days, in 7 days and overdue; return how many mails
    were queued now.

    For each active agreement with a review date, the current stage (``reminder_stage``) is
    mailed once per due date to the owner, or to every service level manager when the
    agreement has no active owner with an address. A stage whose window was missed is not
    sent late once the next one has begun. Idempotent (see the module docstring).
    """
    today = today or timezone.localdate()
    managers: list[User] | None = None
    mails: list[tuple[Agreement, User, str, dict]] = []
    for agreement in reviews_due(today, FIRST_REMINDER_DAYS):
        due = agreement.next_review_on
        stage = reminder_stage(due, today) if due is not None else None
        if due is None or stage is None:
            continue
        key = reminder_key(agreement, due, stage)
        owner = agreement.owner
        if owner is not None and owner.is_active and owner.email:
            recipients = [(owner, key)]
        else:
            if managers is None:
                managers = _service_level_managers()
            # Several managers share the reminder: one mail, and one key, each.
            recipients = [(manager, f"{key}:user:{manager.pk}") for manager in managers]
        context = {
            "agreement": agreement,
            "counterparty": agreement.counterparty,
            "due": due,
            "stage": stage,
            "days_left": (due - today).days,
            "days_overdue": (today - due).days,
            "last_review_on": agreement.last_review_on,
            "url": _url("agreement_review_create", agreement.pk),
        }
        mails.extend((agreement, person, person_key, context) for person, person_key in recipients)
    if not mails:
        return 0
    done = set(Notification.objects.filter(key__in=[mail[2] for mail in mails]).values_list("key", flat=True))
    queued = 0
    for _agreement, person, key, context in mails:
        if key in done:
            continue
        notification_queue(
            key=key, template="sla/email/review_reminder", recipient=Recipient.of(person), context=context
        )
        queued += 1
    return queued
