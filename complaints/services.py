"""Every write to complaints: registration, edits, workflow moves, deadlines, customer feedback.

Each service runs in one transaction, checks the actor's permission (``PermissionDenied``),
validates (``ValidationError`` with a message per field; nothing is written), records the
timeline row and the audit trail, and queues its mail on commit.

``complaint_transition`` is the only code that changes a complaint's status: it locks the
row, checks the move and the actor's role against ``complaints.workflow``, applies the
action's inputs, sets timestamps, pauses or resumes the resolution clock, writes the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core import calendar as business_calendar
from itsm.core.audit import set_actor
from itsm.core.models import Calendar, Contact, Organisation, User
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.permissions import can
from itsm.core.roles import Role, roles_of
from itsm.core.workflow import Machine, Move, allowed, perform, roles_may
from sla.choices import ServiceStatus
from sla.models import Service

from .choices import OPEN_STATUSES, PAUSED_STATUSES, ComplaintStatus, EscalationLevel, EventKind, Severity, TargetUnit
from .models import Complaint, ComplaintAttachment, ComplaintEvent, ComplaintSequence, ComplaintTarget
from .workflow import TRANSITIONS, Transition

logger = logging.getLogger(__name__)

FEEDBACK_PURPOSE = "complaint_feedback"
SYSTEM = "system"
CUSTOMER = "customer"

# Defaults of SPEC §3, used when the severity has no ComplaintTarget row.
DEFAULT_TARGETS: dict[str, dict[str, Any]] = {
    Severity.NORMAL: dict(
        response_value=1,
        response_unit=TargetUnit.WORKING_DAYS,
        resolution_value=10,
        resolution_unit=TargetUnit.WORKING_DAYS,
    ),
    Severity.MAJOR: dict(
        response_value=4,
        response_unit=TargetUnit.WORKING_HOURS,
        resolution_value=5,
        resolution_unit=TargetUnit.WORKING_DAYS,
    ),
}

# Fields staff may edit outside the workflow (the rest is set by actions).
EDITABLE_FIELDS = (
    "title",
    "description",
    "channel",
    "related_service",
    "external_ticket_ref",
    "severity",
    "category",
    "root_cause",
    "handler",
)

LEVEL_ROLES = {
    EscalationLevel.BR_MANAGER: Role.BR_MANAGER,
    EscalationLevel.DEPARTMENT_HEAD: Role.DEPARTMENT_HEAD,
    EscalationLevel.MANAGEMENT_REP: Role.MANAGEMENT_REP,
}


# --- targets and deadlines ------------------------------------------------------------------


def complaint_target(severity: str) -> ComplaintTarget:
    """The severity's target row, or an unsaved one with the SPEC defaults.

    Raises ``ValidationError`` on ``severity`` for an unknown severity.
    """
    if severity not in DEFAULT_TARGETS:
        # Registration computes deadlines before full_clean(): an unknown severity must be a
        # field error (a 400), not a KeyError from DEFAULT_TARGETS (a 500).
        try:
            Complaint._meta.get_field("severity").clean(severity, None)
        except ValidationError as error:
            raise ValidationError({"severity": error.messages}) from error
    target = ComplaintTarget.objects.select_related("calendar").filter(severity=severity).first()
    return target if target is not None else ComplaintTarget(severity=severity, **DEFAULT_TARGETS[severity])


def _calendar_of(target: ComplaintTarget) -> Calendar:
    return target.calendar or business_calendar.default_calendar()


def _apply_deadlines(complaint: Complaint, target: ComplaintTarget, calendar: Calendar) -> None:
    """Compute every due and warning moment from ``received_at``, the targets and the pauses."""
    add = business_calendar.add_working_time
    received = complaint.received_at
    paused = timedelta(seconds=complaint.paused_seconds)
    ratio = target.warning_percent / 100
    response_time, resolution_time = target.times(calendar)  # no default-calendar query per use
    complaint.response_due_at = add(received, response_time, calendar)
    complaint.response_warn_at = add(received, response_time * ratio, calendar)
    complaint.resolution_due_at = add(received, resolution_time + paused, calendar)
    complaint.resolution_warn_at = add(received, resolution_time * ratio + paused, calendar)


def working_time_left(due: datetime, *, now: datetime | None = None, calendar: Calendar | None = None) -> timedelta:
    """Working time from now until ``due`` (negative once it has passed)."""
    return business_calendar.working_time_between(now or timezone.now(), due, calendar)


# --- numbering ------------------------------------------------------------------------------


def _next_reference(moment: datetime) -> str:
    """TS-YYYYMM-NNNN: the month's next number, taken under a row lock (gap-free)."""
    period = timezone.localtime(moment).strftime("%Y%m")
    ComplaintSequence.objects.bulk_create([ComplaintSequence(period=period)], ignore_conflicts=True)
    sequence = ComplaintSequence.objects.select_for_update().get(period=period)
    ComplaintSequence.objects.filter(pk=sequence.pk).update(last_number=F("last_number") + 1)
    return f"TS-{period}-{sequence.last_number + 1:04d}"


# --- people ---------------------------------------------------------------------------------


def owner_for_level(level: int) -> User | None:
    """Who owns a complaint at ``level`` by default: the first active member of that role."""
    role = LEVEL_ROLES.get(EscalationLevel(level))
    if role is None:
        return None
    return User.objects.filter(groups__name=role.value, is_active=True).order_by("pk").first()


def _check_owner(owner: User | None, level: int) -> None:
    role = LEVEL_ROLES.get(EscalationLevel(level))
    if owner is not None and role is not None and not owner.groups.filter(name=role.value).exists():
        raise ValidationError({"owner": _("The new owner must hold the role %(role)s.") % {"role": role.label}})


def _event(
    complaint: Complaint,
    *,
    action: str,
    actor: User | None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    actor_label: str = "",
    data: dict | None = None,
) -> ComplaintEvent:
    return ComplaintEvent.objects.create(
        complaint=complaint,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_label=actor_label if actor is None else "",
        note=note,
        data=data or {},
    )


# --- mail -----------------------------------------------------------------------------------


def _mail(
    complaint: Complaint,
    *,
    key: str,
    template: str,
    person: User | Contact | None,
    urgent: bool = False,
    secret_context: dict[str, str] | None = None,
    **context: Any,
) -> None:
    """Queue one mail about ``complaint`` after commit (once per key).

    ``secret_context``: the customer's personal links, stored only encrypted until sent."""
    if person is None or not person.email:
        return
    recipient = Recipient.of(person)
    payload = {"complaint": complaint, "url": f"{settings.SITE_URL}{complaint.get_absolute_url()}", **context}
    transaction.on_commit(
        lambda: notification_queue(
            key=f"complaint:{complaint.pk}:{key}",
            template=f"complaints/email/{template}",
            recipient=recipient,
            context=payload,
            urgent=urgent,
            secret_context=secret_context,
        )
    )


# --- registration and edits -----------------------------------------------------------------


def complaint_register(
    *,
    actor: User,
    organisation: Organisation,
    contact: Contact,
    title: str,
    description: str,
    channel: str,
    severity: str = Severity.NORMAL,
    received_at: datetime | None = None,
    related_service: Service | None = None,
    related_service_text: str = "",
    external_ticket_ref: str = "",
    category: str = "",
    handler: User | None = None,
) -> Complaint:
    """Register a complaint: numbered, deadlines computed, owner set, mail queued.

    The contact is acknowledged by mail; the owner is told when it is not the registrar; a
    major complaint also notifies the management representative at once.
    Raises ``PermissionDenied`` or ``ValidationError`` (nothing written).
    """
    if not can(actor, "add", Complaint):
        raise PermissionDenied
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + timedelta(minutes=5):
        raise ValidationError({"received_at": _("A complaint cannot be received in the future.")})
    _check_service(related_service)
    owner = handler or actor
    complaint = Complaint(
        title=title,
        description=description,
        channel=channel,
        organisation=organisation,
        contact=contact,
        severity=severity,
        category=category,
        related_service=related_service,
        related_service_text=related_service_text,
        external_ticket_ref=external_ticket_ref,
        received_at=received_at,
        handler=owner,
        owner=owner,
        created_by=actor,
    )
    target = complaint_target(severity)
    _apply_deadlines(complaint, target, _calendar_of(target))
    complaint.reference = "pending"  # set under the sequence lock below
    complaint.full_clean(exclude=["reference"])
    with set_actor(actor), transaction.atomic():
        complaint.reference = _next_reference(received_at)
        complaint.save()
        _event(complaint, action=EventKind.REGISTERED, actor=actor, to_status=complaint.status)
    _mail(complaint, key="registered", template="registered_ack", person=contact)
    if owner != actor:
        _mail(complaint, key=f"assigned:{owner.pk}:0", template="assigned", person=owner)
    if severity == Severity.MAJOR:
        for representative in User.objects.filter(groups__name=Role.MANAGEMENT_REP.value, is_active=True):
            _mail(
                complaint,
                key=f"major:{representative.pk}",
                template="major_registered",
                person=representative,
                urgent=True,
            )
    return complaint


def complaint_update(*, complaint: Complaint, actor: User, **fields: Any) -> Complaint:
    """Edit the details of an open complaint (not its state). A new severity moves the deadlines."""
    if not can(actor, "change", Complaint):
        raise PermissionDenied
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be edited.") for name in sorted(unknown)})
    with set_actor(actor), transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if not complaint.is_open:
            raise ValidationError(_("A finished complaint cannot be edited; reopen it first."))
        changed = [name for name, value in fields.items() if getattr(complaint, name) != value]
        if "related_service" in changed:
            _check_service(fields["related_service"])
        for name in changed:
            setattr(complaint, name, fields[name])
        complaint.full_clean()
        if "severity" in changed:
            target = complaint_target(complaint.severity)
            _apply_deadlines(complaint, target, _calendar_of(target))
            _reopen_checks(complaint, timezone.now())
        if changed:
            complaint.save()
            _event(complaint, action=EventKind.EDITED, actor=actor, data={"fields": changed})
        # In the same transaction as the edit: a new handler without its ownership (or the
        # reverse) must not be committed half-way.
        if "handler" in changed and complaint.handler and complaint.escalation_level == EscalationLevel.DESK:
            _set_owner(complaint, complaint.handler, actor=actor)
    return complaint


def _check_service(service: Service | None) -> None:
    """A complaint newly names a service of the catalogue in use (accepted); one named before
    that has since been retired stays as it is."""
    if service is not None and service.status != ServiceStatus.ACCEPTED:
        raise ValidationError({"related_service": _("Choose a service of the catalogue that is in use (accepted).")})


def _set_owner(complaint: Complaint, owner: User, *, actor: User | None) -> None:
    if complaint.owner_id == owner.pk:
        return
    complaint.owner = owner
    complaint.save(update_fields=["owner", "updated_at"])  # a save, so the audit trail records it
    _mail(complaint, key=f"assigned:{owner.pk}:{timezone.now():%Y%m%d%H%M%S}", template="assigned", person=owner)


def _reopen_checks(complaint: Complaint, now: datetime) -> None:
    """After the deadlines moved: a check whose moment is now ahead may run again; one whose
    moment is still past stays done, so a breach already escalated is not escalated (and
    mailed) a second time just because its due date was recomputed."""
    if complaint.response_due_at > now:
        complaint.response_escalated_at = None
    if complaint.response_warn_at and complaint.response_warn_at > now:
        complaint.response_warned_at = None
    if complaint.resolution_due_at > now:
        complaint.resolution_escalated_at = None
    if complaint.resolution_warn_at and complaint.resolution_warn_at > now:
        complaint.resolution_warned_at = None


def attachment_add(*, complaint: Complaint, actor: User, upload) -> ComplaintAttachment:
    """Attach a checked file (type and size, ``itsm.core.uploads``) to a complaint."""
    from itsm.core.uploads import validate_upload

    if not can(actor, "change", Complaint):
        raise PermissionDenied
    content_type = validate_upload(upload)
    with set_actor(actor), transaction.atomic():
        attachment = ComplaintAttachment.objects.create(
            complaint=complaint,
            file=upload,
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
            uploaded_by=actor,
        )
        _event(complaint, action=EventKind.ATTACHED, actor=actor, note=attachment.original_name)
    return attachment


# --- the workflow ---------------------------------------------------------------------------


def may_perform(transition: Transition, complaint: Complaint, user: User) -> bool:
    """Whether ``user``'s roles, or their being the complaint's current owner, allow ``transition``."""
    return roles_may(transition, complaint, user)


def allowed_actions(complaint: Complaint, user: User) -> list[Transition]:
    """The actions ``user`` may take on ``complaint`` now (state, role or ownership, and an
    escalation only while there is a level above; inputs not checked)."""
    return allowed(COMPLAINT_MACHINE, complaint, user)


def _offered(transition: Transition, complaint: Complaint, user: User) -> bool:
    """What the pages and the API offer a user: moves of one who may change complaints, an
    escalation only while there is a level above."""
    if not user.has_perm("complaints.change_complaint"):
        return False
    if transition.action == "escalate_mrep":
        return complaint.escalation_level == EscalationLevel.BR_MANAGER
    return transition.action != "escalate" or bool(escalation_levels(complaint, user))


def escalation_levels(complaint: Complaint, user: User | None) -> list[int]:
    """The levels ``escalate`` may take ``complaint`` to when ``user`` escalates it: the next
    level up; a BR manager may also go straight to the management representative [000 §2.2].
    Empty at the top level."""
    current = complaint.escalation_level
    if current >= EscalationLevel.MANAGEMENT_REP:
        return []
    levels = [current + 1]
    brm = user is not None and (Role.BR_MANAGER.value in roles_of(user))
    if brm and current + 1 < EscalationLevel.MANAGEMENT_REP:
        levels.append(int(EscalationLevel.MANAGEMENT_REP))
    return levels


def escalation_level_after(complaint: Complaint, action: str, *, requested: int | None = None) -> int | None:
    """The level ``action`` takes ``complaint`` to; None for an action that does not escalate.

    ``escalate`` goes one level up (or to ``requested``, checked by the caller against
    ``escalation_levels``); ``escalate_mrep`` to the management representative (level 3);
    ``customer_unsatisfied`` to the department head (level 2), or one level further up once
    the complaint is there, never past the management representative.
    """
    current = complaint.escalation_level
    if action == "escalate":
        return requested if requested is not None else min(EscalationLevel.MANAGEMENT_REP, current + 1)
    if action == "escalate_mrep":
        return EscalationLevel.MANAGEMENT_REP
    if action == "customer_unsatisfied":
        return min(EscalationLevel.MANAGEMENT_REP, max(EscalationLevel.DEPARTMENT_HEAD, current + 1))
    return None


def complaint_transition(
    *,
    complaint: Complaint,
    action: str,
    actor: User | None,
    note: str = "",
    actor_label: str = "",
    **inputs: Any,
) -> Complaint:
    """Move ``complaint`` by ``action`` (the workflow table decides whether it may).

    Raises ``TransitionRefused`` (a ValidationError) when the table has no such move from the
    current state, ``PermissionDenied`` when the actor's roles may not perform it, and
    ``ValidationError`` per field when a required input is missing. ``actor=None`` is the
    system (periodic checks) or the customer (a feedback link), named by ``actor_label``.
    """
    return perform(COMPLAINT_MACHINE, complaint, action, actor=actor, note=note, actor_label=actor_label, inputs=inputs)


def _level_input(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"level": _("Choose an escalation level.")}) from exc


def _check_requirements(move: Move) -> dict[str, str]:
    """The complaint's own conditions (the kit adds the required inputs): an escalation's level
    must be one the actor may choose, a close needs the customer's confirmation."""
    errors: dict[str, str] = {}
    if "level" in move.inputs:
        try:
            move.inputs["level"] = _level_input(move.inputs["level"])
        except ValidationError as exc:
            return {"level": exc.message_dict["level"][0]}
    if move.transition.action == "escalate":
        levels = escalation_levels(move.record, move.actor)
        level = move.inputs.get("level")
        if not levels:
            errors["level"] = _("The complaint is at the highest escalation level already.")
        elif level is not None and level not in levels:
            errors["level"] = _("Escalate to %(levels)s.") % {
                "levels": " / ".join(str(EscalationLevel(choice).label) for choice in levels)
            }
    if move.transition.action == "escalate_mrep" and move.record.escalation_level != EscalationLevel.BR_MANAGER:
        # Escalated, but not at the BR manager's level: at 2 the next step up is ``escalate``.
        errors["action"] = _(
            "“%(action)s” is possible only while the complaint is with the BR manager (level 1); it is at "
            "level %(level)s."
        ) % {"action": move.transition.label, "level": move.record.escalation_level}
    if move.transition.action == "plan_improvement":
        chosen, title = move.inputs.get("plan"), (move.inputs.get("new_plan_title") or "").strip()
        if chosen is None and not title:
            errors["plan"] = _("Choose an open improvement plan or give the title of a new one.")
        elif chosen is not None and title:
            errors["new_plan_title"] = _("Choose a plan or name a new one, not both.")
    if move.transition.action == "close" and not _may_close(move.record):
        errors["action"] = _(
            "The customer has not confirmed the result yet; it can be closed once they do or once the "
            "confirmation link expires."
        )
    return errors


def _may_close(complaint: Complaint) -> bool:
    from itsm.core.tokens import token_open_exists

    if complaint.result_settled:
        return True
    if not complaint.contact.email:
        return True  # no link could be mailed: staff record the confirmation in the note
    live_link = token_open_exists(target=complaint, purpose=FEEDBACK_PURPOSE)
    return complaint.feedback_at is None and not live_link


def _pause(complaint: Complaint, now: datetime) -> None:
    if complaint.paused_at is None:
        complaint.paused_at = now


def _resume(complaint: Complaint, now: datetime) -> None:
    if complaint.paused_at is None:
        return
    target = complaint_target(complaint.severity)
    calendar = _calendar_of(target)
    paused = business_calendar.working_time_between(complaint.paused_at, now, calendar)
    complaint.paused_seconds += max(0, int(paused.total_seconds()))
    complaint.paused_at = None
    _apply_deadlines(complaint, target, calendar)
    if complaint.resolution_warn_at and complaint.resolution_warn_at > now:
        complaint.resolution_warned_at = None
    if complaint.resolution_due_at > now:
        complaint.resolution_escalated_at = None


# The moves that take a complaint up a level: the same effect (level, owner) and the same mail.
ESCALATIONS = ("escalate", "escalate_mrep", "customer_unsatisfied")


def _escalate_to(move: Move, level: int, owner: User | None) -> dict:
    complaint = move.record
    owner = owner or owner_for_level(level)
    _check_owner(owner, level)
    previous = complaint.escalation_level
    complaint.escalation_level = level
    if owner is not None:
        complaint.owner = owner
    return {"escalation_level": [previous, level], "owner": owner.pk if owner else None}


def _link_plan(move: Move) -> dict:
    """The complaint joins the register as an item of the chosen plan (a new draft plan owned
    by the actor when a title is given): the plan lists it among its sources, the complaint
    shows the plan."""
    from improvement.services.items import item_create
    from improvement.services.plans import plan_create

    complaint, actor = move.record, move.actor
    plan = move.inputs.get("plan")
    if plan is None:
        plan = plan_create(
            actor=actor,
            title=move.inputs["new_plan_title"].strip(),
            goal=complaint.root_cause or complaint.title,
            owner=actor,
        )
    item = item_create(
        actor=actor,
        source_kind="complaint",
        source=complaint,
        title=(_("Complaint %(reference)s: %(title)s") % {"reference": complaint.reference, "title": complaint.title})[
            :200
        ],
        description=complaint.root_cause,
        priority="high" if complaint.severity == Severity.MAJOR else "medium",
        plan=plan,
    )
    return {"plan": plan.reference, "item": item.reference}


def _apply_effects(move: Move) -> dict:
    """Timestamps, owners, levels and the clock, per action. Returns the event's details."""
    complaint, action, now = move.record, move.transition.action, move.now
    data: dict = {}
    if action == "accept":
        complaint.responded_at = now
        complaint.handler = complaint.handler or move.actor
        if move.actor is not None and complaint.escalation_level == EscalationLevel.DESK:
            complaint.owner = move.actor
        calendar = _calendar_of(complaint_target(complaint.severity))
        reply = business_calendar.working_time_between(complaint.received_at, now, calendar)
        complaint.reply_working_seconds = max(0, int(reply.total_seconds()))
    elif action in ESCALATIONS:
        level = escalation_level_after(complaint, action, requested=move.inputs.get("level"))
        data = _escalate_to(move, level or 0, move.inputs.get("owner"))
    elif action == "resolve":
        complaint.resolved_at = now
        # The new result waits for the customer's confirmation again; the latest rating they
        # gave stays on the complaint (the analysis counts it) until they rate this one, and
        # every earlier rating stays on the timeline.
        complaint.result_settled = None
        complaint.feedback_at = None
    elif action == "plan_improvement":
        data = _link_plan(move)
    elif action == "close":
        complaint.closed_at = now
    elif action == "withdraw":
        complaint.withdrawn_at = now
    elif action == "reopen":
        complaint.reopen_count += 1
        complaint.resolved_at = complaint.closed_at = None
    if move.transition.target in PAUSED_STATUSES:
        _pause(complaint, now)
    else:
        _resume(complaint, now)
    return data


def _after_move(move: Move, event: ComplaintEvent) -> None:
    complaint, action = move.record, move.transition.action
    event_key = f"{action}:{event.pk}"
    if action in ESCALATIONS and complaint.owner is not None:
        _mail(
            complaint,
            key=f"escalated:{event_key}",
            template="escalated",
            person=complaint.owner,
            urgent=complaint.severity == Severity.MAJOR,
            reason=move.note,
        )
    elif action == "resolve":
        _send_feedback_link(complaint, event_key)
    # A customer's reopen (actor None) is mailed by complaint_record_feedback, with their comment.
    elif action == "reopen" and move.actor is not None and complaint.owner not in (None, move.actor):
        _mail(complaint, key=f"reopened:{event_key}", template="reopened", person=complaint.owner, reason=move.note)
    if action == "reopen":
        from itsm.core.tokens import token_revoke

        # The result the customer's link asks about no longer stands: withdraw the link, so an
        # answer after staff reopened it gets the clear "withdrawn" page instead of an error.
        # (A customer's own reopen has consumed its link already; used links stay used.)
        token_revoke(target=complaint, purpose=FEEDBACK_PURPOSE)


# The complaint machine: every action's effects are one function (timestamps, owners, levels
# and the clock); the escalation's level and owner are inputs for it, never set directly.
# Actor-less moves (a periodic check, the customer's link) are the callers' to decide.
COMPLAINT_MACHINE = Machine(
    model=Complaint,
    table=TRANSITIONS,
    refused=gettext_lazy("“%(action)s” is not possible while the complaint is %(status)s."),
    moved=gettext_lazy("%(action)s: the complaint is now “%(status)s”."),
    event_model=ComplaintEvent,
    effects=dict.fromkeys(TRANSITIONS, _apply_effects),
    check=_check_requirements,
    after=_after_move,
    person_unless_system=False,
    held_inputs=("owner", "level", "plan", "new_plan_title"),
    offered=_offered,
    event_labels=dict(EventKind.choices),
    select_related=("contact",),
    clean_exclude=("reference",),
)


def _send_feedback_link(complaint: Complaint, event_key: str) -> None:
    from itsm.core.tokens import token_issue, token_revoke, token_url

    if not complaint.contact.email:
        return
    token_revoke(target=complaint, purpose=FEEDBACK_PURPOSE)
    days = getattr(settings, "COMPLAINT_FEEDBACK_DAYS", 14)
    raw = token_issue(purpose=FEEDBACK_PURPOSE, target=complaint, expires_at=timezone.now() + timedelta(days=days))
    _mail(
        complaint,
        key=f"result:{event_key}",
        template="result",
        person=complaint.contact,
        secret_context={"link": token_url(raw, "complaint_feedback")},
        days=days,
    )


# --- the customer's confirmation --------------------------------------------------------------


def complaint_record_feedback(*, raw_token: str, satisfaction: int, settled: bool, comment: str = "") -> Complaint:
    """The customer rates the result (1–5) and says whether it is settled, through their link.

    Single use: the token is consumed in the same transaction. An unhappy answer (not settled,
    or a rating of 2 or less) reopens the complaint and mails its owner; a happy one lets
    staff close it. Raises ``itsm.core.tokens.TokenError`` for a bad, used or expired link and
    ``ValidationError`` for a rating outside 1–5.
    """
    from itsm.core.tokens import token_consume

    _check_rating(satisfaction)
    with transaction.atomic():
        token = token_consume(raw_token, purpose=FEEDBACK_PURPOSE)
        complaint = Complaint.objects.select_for_update().select_related("contact").get(pk=token.object_id)
        if complaint.status != ComplaintStatus.RESOLVED:
            raise ValidationError(_("This complaint is no longer waiting for your confirmation."))
        return _settle_result(
            complaint, satisfaction=satisfaction, settled=settled, comment=comment, actor=None, kind=EventKind.FEEDBACK
        )


def complaint_record_confirmation(
    *, complaint: Complaint, actor: User, satisfaction: int, settled: bool, comment: str = ""
) -> Complaint:
    """Staff record the customer's confirmation of the result given by phone, on their behalf.

    The timeline says who recorded it and that it was on the customer's behalf; the customer's
    link is withdrawn (its page then says so). A happy answer lets the complaint close at once
    instead of after the link expires; an unhappy one reopens it, as through the link. Needs
    the right to close the complaint (its roles, or being its owner). Raises
    ``PermissionDenied`` or ``ValidationError`` (nothing written).
    """
    from itsm.core.tokens import token_revoke

    _check_rating(satisfaction)
    if not can(actor, "change", Complaint) or not may_perform(TRANSITIONS["close"], complaint, actor):
        raise PermissionDenied(_("Your role may not record the customer's confirmation."))
    with set_actor(actor), transaction.atomic():
        locked = Complaint.objects.select_for_update().select_related("contact").get(pk=complaint.pk)
        if locked.status != ComplaintStatus.RESOLVED:
            raise ValidationError(
                _("A confirmation can be recorded only while the complaint is resolved; it is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        token_revoke(target=locked, purpose=FEEDBACK_PURPOSE)
        return _settle_result(
            locked,
            satisfaction=satisfaction,
            settled=settled,
            comment=comment,
            actor=actor,
            kind=EventKind.FEEDBACK_BY_STAFF,
        )


def _check_rating(satisfaction: int) -> None:
    if satisfaction not in range(1, 6):
        raise ValidationError({"satisfaction": _("Choose a rating from 1 to 5.")})


def _settle_result(
    complaint: Complaint, *, satisfaction: int, settled: bool, comment: str, actor: User | None, kind: str
) -> Complaint:
    """Record the customer's rating of the result on the locked ``complaint``; an unhappy one
    (not settled, or 2 or less) reopens it and mails its owner."""
    now = timezone.now()
    comment = comment.strip()
    complaint.result_satisfaction, complaint.result_settled = satisfaction, settled
    complaint.feedback_comment, complaint.feedback_at = comment, now
    complaint.save(
        update_fields=["result_satisfaction", "result_settled", "feedback_comment", "feedback_at", "updated_at"]
    )
    _event(
        complaint,
        action=kind,
        actor=actor,
        actor_label=CUSTOMER,
        note=comment,
        data={"satisfaction": satisfaction, "settled": settled, **({"on_behalf": True} if actor else {})},
    )
    if settled and satisfaction > 2:
        return complaint
    complaint = complaint_transition(
        complaint=complaint,
        action="reopen",
        actor=actor,
        actor_label=CUSTOMER,
        note=_("The customer is not satisfied with the result (rating %(rating)s).") % {"rating": satisfaction},
    )
    # Staff reopening it on the customer's behalf is mailed by the move itself.
    if actor is None and complaint.owner is not None:
        _mail(
            complaint,
            key=f"reopened:customer:{complaint.reopen_count}",
            template="reopened",
            person=complaint.owner,
            reason=comment,
        )
    return complaint


# --- deadlines: recompute and periodic checks -------------------------------------------------


def complaint_recompute_deadlines(
    *, complaint: Complaint, target: ComplaintTarget | None = None, calendar: Calendar | None = None
) -> bool:
    """Recompute one open complaint's due dates from the current calendar and targets.

    ``target`` and ``calendar`` (its severity's, looked up when not given) let a batch look
    them up once. Returns whether a due date moved; the caller saves ``DEADLINE_FIELDS``.
    """
    target = target or complaint_target(complaint.severity)
    before = (complaint.response_due_at, complaint.resolution_due_at)
    _apply_deadlines(complaint, target, calendar or _calendar_of(target))
    if (complaint.response_due_at, complaint.resolution_due_at) == before:
        return False
    _reopen_checks(complaint, timezone.now())
    return True


DEADLINE_FIELDS = [
    "response_due_at",
    "response_warn_at",
    "resolution_due_at",
    "resolution_warn_at",
    "response_warned_at",
    "response_escalated_at",
    "resolution_warned_at",
    "resolution_escalated_at",
]


def complaints_recompute_open() -> int:
    """Recompute the due dates of every open complaint (after a calendar or target change)."""
    changed = 0
    batch: list[Complaint] = []
    # Each severity's target and calendar once per run, not two queries per open complaint.
    targets: dict[str, tuple[ComplaintTarget, Calendar]] = {}
    for complaint in Complaint.objects.open().order_by("pk").iterator(chunk_size=500):
        if complaint.severity not in targets:
            target = complaint_target(complaint.severity)
            targets[complaint.severity] = (target, _calendar_of(target))
        target, calendar = targets[complaint.severity]
        if complaint_recompute_deadlines(complaint=complaint, target=target, calendar=calendar):
            batch.append(complaint)
        if len(batch) >= 500:
            changed += _save_deadlines(batch)
            batch = []
    return changed + _save_deadlines(batch)


def _save_deadlines(batch: list[Complaint]) -> int:
    if batch:
        Complaint.objects.bulk_update(batch, DEADLINE_FIELDS)
    return len(batch)


def _claim(pk: int, field: str, now: datetime, **conditions: Any) -> bool:
    """Mark a deadline check done for one complaint; False when another run did it first."""
    return bool(Complaint.objects.filter(pk=pk, **{f"{field}__isnull": True}, **conditions).update(**{field: now}))


def _claim_and_do(
    complaint: Complaint, field: str, now: datetime, conditions: dict, work: Callable[[Complaint], None]
) -> bool:
    """Claim one complaint's deadline step and do it in one transaction; True when done here.

    The claim commits only with the work: if the work fails (or the worker dies), the step
    stays unclaimed and the next run does it, instead of being marked done and never done.
    A failure is logged and does not stop the check for the other complaints.
    """
    try:
        with transaction.atomic():
            if not _claim(complaint.pk, field, now, **conditions):
                return False
            work(complaint)
            return True
    except Exception:
        logger.exception("complaint deadline step %s failed for complaint %s", field, complaint.pk)
        return False


def complaints_check_deadlines(now: datetime | None = None) -> dict[str, int]:
    """Warn at the warning point, escalate on breach. Idempotent: each step is claimed once.

    * response warning: not yet accepted at ``response_warn_at`` → the owner is mailed;
    * response breach: not accepted by ``response_due_at`` → level 1, BR manager mailed;
    * resolution warning: open and running at ``resolution_warn_at`` → the owner is mailed;
    * resolution breach: open and running past ``resolution_due_at`` → one level up (max 3),
      the new owner mailed (at once for a major complaint).

    The claim repeats each step's conditions, so a complaint accepted, paused or finished
    since it was listed is left alone.
    """
    now = now or timezone.now()
    done = {"response_warnings": 0, "response_escalations": 0, "resolution_warnings": 0, "resolution_escalations": 0}
    waiting = {"status": ComplaintStatus.REGISTERED}
    running = {"status__in": OPEN_STATUSES, "paused_at__isnull": True}
    steps: list[tuple[str, str, dict, Callable[[Complaint], None]]] = [
        (
            "response_warnings",
            "response_warned_at",
            {**waiting, "response_warn_at__lte": now, "response_due_at__gt": now},
            lambda complaint: _warn(complaint, "response", complaint.response_due_at),
        ),
        (
            "response_escalations",
            "response_escalated_at",
            {**waiting, "response_due_at__lte": now},
            lambda complaint: _auto_escalate(complaint, reason="response"),
        ),
        (
            "resolution_warnings",
            "resolution_warned_at",
            {**running, "resolution_warn_at__lte": now, "resolution_due_at__gt": now},
            lambda complaint: _warn(complaint, "resolution", complaint.resolution_due_at),
        ),
        (
            "resolution_escalations",
            "resolution_escalated_at",
            {**running, "resolution_due_at__lte": now},
            lambda complaint: _auto_escalate(complaint, reason="resolution"),
        ),
    ]
    for name, field, conditions, work in steps:
        for complaint in Complaint.objects.filter(**{f"{field}__isnull": True}, **conditions).order_by("pk"):
            if _claim_and_do(complaint, field, now, conditions, work):
                done[name] += 1
    return done


def _warn(complaint: Complaint, which: str, due: datetime) -> None:
    with transaction.atomic():
        _event(complaint, action=EventKind.WARNED, actor=None, actor_label=SYSTEM, data={"deadline": which})
        _mail(
            complaint,
            key=f"warn:{which}:{due:%Y%m%d%H%M}",
            template="warning",
            person=complaint.owner,
            deadline=which,
            due=due,
        )


def _auto_escalate(complaint: Complaint, *, reason: str) -> None:
    """A breached deadline: a response breach goes to level 1, a resolution breach one level up."""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        previous = complaint.escalation_level
        # From the locked row, not the listed one: another step of this run may have moved it.
        if reason == "response":
            level = max(previous, EscalationLevel.BR_MANAGER)
        else:
            level = min(EscalationLevel.MANAGEMENT_REP, previous + 1)
        # Nobody active in the new level's role: keep the current owner rather than leave the
        # complaint unowned and the breach mailed to nobody.
        owner = (owner_for_level(level) if level > previous else None) or complaint.owner
        complaint.escalation_level, complaint.owner = level, owner
        complaint.save(update_fields=["escalation_level", "owner", "updated_at"])  # recorded in the audit trail
        _event(
            complaint,
            action=EventKind.AUTO_ESCALATED,
            actor=None,
            actor_label=SYSTEM,
            from_status=complaint.status,
            to_status=complaint.status,
            data={"deadline": reason, "escalation_level": [previous, complaint.escalation_level]},
        )
        due = complaint.response_due_at if reason == "response" else complaint.resolution_due_at
        _mail(
            complaint,
            key=f"breach:{reason}:{due:%Y%m%d%H%M}",
            template="breach",
            person=owner,
            urgent=complaint.severity == Severity.MAJOR,
            deadline=reason,
            due=due,
        )


def complaint_target_update(*, target: ComplaintTarget, actor: User, **fields: Any) -> ComplaintTarget:
    """Change a severity's targets; the due dates of open complaints are recomputed after commit."""
    if not can(actor, "change", ComplaintTarget):
        raise PermissionDenied
    for name, value in fields.items():
        setattr(target, name, value)
    target.full_clean()
    with set_actor(actor), transaction.atomic():
        try:
            target.save()
        except IntegrityError as exc:
            raise ValidationError({"severity": _("This severity already has targets.")}) from exc
        transaction.on_commit(_queue_recompute)
    return target


def _queue_recompute() -> None:
    from .tasks import recompute_open_complaints_task

    recompute_open_complaints_task.delay()
