"""Every write of review meetings (回顾会议, reference 000 §8) and of the monthly quality analysis
meeting (质量分析会议, 003 §5.2(4)): planning one for a period, editing it, holding it (its
inputs frozen), cancelling it, and its decisions — each of which becomes an item of the
register or an action of a plan in one step.

* ``meeting_create`` numbers the meeting ``RM-<year>-<n>`` and works its period out from a
  label (``2026-11``, ``2026-Q4``, ``2026H2``, ``2026``: ``meeting_period``).
* ``meeting_transition`` is the only code that moves a meeting's status: ``MEETING_MACHINE`` on
  the workflow kit (``itsm.core.workflow``) runs the table ``MEETING_TRANSITIONS``
  (``improvement.workflow``). ``hold`` compiles the inputs
  (``improvement.selectors.meetings.meeting_inputs``) and freezes them on the meeting with the
  time it was held; ``cancel`` needs the reason.
* The meeting's history is its event rows (``ReviewMeetingEvent``, append-only): the moves the
  kit writes, and the rows the services write that move nothing — planned, details changed,
  minutes changed after the meeting, a decision recorded, an item raised or an action added
  from one (``MEETING_MACHINE.event_labels``). ``MEETING_MACHINE.events(meeting)`` reads it.

Each service checks the model permission and the meeting roles (``MEETING_ROLES``:
``PermissionDenied``), validates (``ValidationError`` per field; nothing written), and runs
in one transaction with the actor on the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.audit import set_actor
from itsm.core.models import User
from itsm.core.numbering import save_numbered
from itsm.core.periods import Cycle, Period, period_from_label
from itsm.core.permissions import can
from itsm.core.roles import roles_of
from itsm.core.workflow import Machine, Move, perform, roles_may

from ..choices import MeetingKind, MeetingStatus, Priority
from ..models import ImprovementItem, ImprovementPlan, MeetingDecision, PlanAction, ReviewMeeting, ReviewMeetingEvent
from ..workflow import MEETING_ROLES, MEETING_TRANSITIONS
from .items import item_create
from .plans import action_add

# What a person edits on a planned meeting (the status, the inputs and held_at are the moves').
MEETING_FIELDS = (
    "kind",
    "title",
    "period_label",
    "scheduled_at",
    "location",
    "chair",
    "other_attendees",
    "agenda",
    "minutes",
)
# Once held, only the minutes change: the inputs are frozen and the rest is what happened.
HELD_FIELDS = ("minutes",)
SOURCE_KIND = "review_meeting"

# The agenda a new meeting starts with (000 §8: KPI report and SIP status in, items out; 003
# §5.2(4): the month's quality plan reviewed, next measures, the staff's KPI assessment).
DEFAULT_AGENDA = {
    MeetingKind.REVIEW: gettext_lazy(
        "1. KPI report of the period\n"
        "2. Status of the service improvement plans\n"
        "3. Open and overdue improvement items and actions\n"
        "4. Complaints of the period\n"
        "5. New improvement items and decisions"
    ),
    MeetingKind.QUALITY_ANALYSIS: gettext_lazy(
        "1. Completion of the month's quality plan\n"
        "2. KPI attainment against the SLAs\n"
        "3. Complaints and satisfaction of the month\n"
        "4. Improvement plans and overdue actions\n"
        "5. Improvement measures for the next period\n"
        "6. KPI assessment of the staff concerned"
    ),
}


# --- the period ----------------------------------------------------------------------------

_LABEL = re.compile(r"^(\d{4})(?:-?(?:(H[12])|(Q[1-4])|W(\d{1,2})|(\d{1,2})))?$")


def meeting_period(label: str) -> Period:
    """The period a label names, its cycle read from the label's shape: ``2026-11`` (a month),
    ``2026-W45``, ``2026-Q4``, ``2026-H2`` (or ``2026H2``), ``2026``. Raises ``ValidationError``
    on ``period_label`` for anything else."""
    text = re.sub(r"\s+", "", str(label or "")).upper()
    match = _LABEL.match(text)
    invalid = ValidationError(
        {
            "period_label": _("“%(label)s” is not a period: write it as 2026-11, 2026-Q4, 2026-H2 or 2026.")
            % {"label": label or ""}
        }
    )
    if match is None or not 2000 <= int(match.group(1)) <= 2099:
        raise invalid
    year, half, quarter, week, month = match.groups()
    if half:
        cycle, canonical = Cycle.HALF_YEARLY, f"{year}-{half}"
    elif quarter:
        cycle, canonical = Cycle.QUARTERLY, f"{year}-{quarter}"
    elif week:
        cycle, canonical = Cycle.WEEKLY, f"{year}-W{int(week):02d}"
    elif month:
        cycle, canonical = Cycle.MONTHLY, f"{year}-{int(month):02d}"
    else:
        cycle, canonical = Cycle.YEARLY, year
    try:
        return period_from_label(cycle, canonical)
    except ValueError:
        raise invalid from None


# --- who may -------------------------------------------------------------------------------


def has_meeting_role(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and set(roles_of(user)) & MEETING_ROLES)


def _require(actor: User, verb: str, model: type[models.Model] = ReviewMeeting) -> None:
    if not (can(actor, verb, model) and has_meeting_role(actor)):
        raise PermissionDenied(_("Your role may not plan or record review meetings."))


def may_record_decisions(meeting: ReviewMeeting, user: Any) -> bool:
    return meeting.status == MeetingStatus.HELD and can(user, "add", MeetingDecision) and has_meeting_role(user)


def may_act_on_decisions(meeting: ReviewMeeting, user: Any) -> bool:
    return meeting.status == MeetingStatus.HELD and can(user, "change", MeetingDecision) and has_meeting_role(user)


# --- the machine ---------------------------------------------------------------------------


def frozen_summary(inputs: dict[str, Any]) -> dict[str, int]:
    """What the hold's event records of the inputs it froze: how many KPI values, open plans,
    open and overdue items, overdue actions and complaints of the period."""
    plans, items = inputs.get("plans", {}), inputs.get("items", {})
    return {
        "kpis": len(inputs.get("kpis", [])),
        "plans_open": plans.get("open_count", 0),
        "items_open": items.get("open_count", 0),
        "items_overdue": items.get("overdue_count", 0),
        "actions_overdue": inputs.get("actions", {}).get("overdue_count", 0),
        "complaints": inputs.get("complaints", {}).get("total", 0),
    }


def _hold(move: Move) -> dict:
    """The meeting took place: its inputs are compiled as the data stands now and frozen, with
    the time (the minutes, an input the action accepts, are applied by the kit)."""
    from ..selectors.meetings import meeting_inputs

    meeting = move.record
    meeting.inputs = meeting_inputs(meeting, now=move.now)
    meeting.held_at = move.now
    return {"inputs": frozen_summary(meeting.inputs)}


# The history's rows that move nothing (the services' ``_event``), besides the table's moves.
EVENT_LABELS = {
    "created": gettext_lazy("Meeting planned"),
    "edited": gettext_lazy("Details changed"),
    "minutes_changed": gettext_lazy("Minutes changed after the meeting"),
    "decision_recorded": gettext_lazy("Decision recorded"),
    "item_raised": gettext_lazy("Improvement item raised from a decision"),
    "action_added": gettext_lazy("Action added to a plan from a decision"),
}

# The meeting roles hold or cancel a meeting (``MEETING_TRANSITIONS``' roles, the kit's rule);
# the chair is not added: every move also needs ``improvement.change_reviewmeeting``, which only
# the meeting roles hold, and a chair who may not edit the minutes should not hold it either.
MEETING_MACHINE = Machine(
    model=ReviewMeeting,
    table=MEETING_TRANSITIONS,
    refused=gettext_lazy("“%(action)s” is not possible while the meeting is %(status)s."),
    moved=gettext_lazy("%(action)s: the meeting is now “%(status)s”."),
    event_model=ReviewMeetingEvent,
    effects={"hold": _hold},
    may=roles_may,
    permission="change",
    event_labels=EVENT_LABELS,
)


def _event(meeting: ReviewMeeting, kind: str, actor: User | None, note: str = "", **data: Any) -> None:
    """A history row that moves no status (planned, changed, a decision and what it created)."""
    ReviewMeetingEvent.objects.create(
        meeting=meeting, action=kind, actor=actor, actor_label="" if actor else "system", note=note, data=data
    )


# --- create and edit -------------------------------------------------------------------------


def _clean_people(chair: User | None, attendees: Iterable[User] | None) -> list[User] | None:
    errors: dict[str, str] = {}
    if chair is not None and not chair.is_active:
        errors["chair"] = _("Choose an active user to chair the meeting.")
    people = None if attendees is None else list(attendees)
    if people is not None and any(not person.is_active for person in people):
        errors["attendees"] = _("Every attendee must be an active user.")
    if errors:
        raise ValidationError(errors)
    return people


def _apply_period(meeting: ReviewMeeting, label: str) -> None:
    period = meeting_period(label)
    meeting.period_label = period.label
    meeting.period_start = period.start
    meeting.period_end = period.end


def _check_moment(value: Any) -> None:
    if isinstance(value, datetime) and timezone.is_naive(value):
        raise ValidationError({"scheduled_at": _("Give the date and time with its time zone.")})


def meeting_create(
    *,
    actor: User,
    period_label: str,
    scheduled_at: datetime,
    kind: str = MeetingKind.REVIEW,
    title: str = "",
    chair: User | None = None,
    attendees: Iterable[User] | None = None,
    location: str = "",
    other_attendees: str = "",
    agenda: str = "",
) -> ReviewMeeting:
    """Plan a meeting of ``kind`` for the period ``period_label`` names (``meeting_period``),
    chaired by ``chair`` (the actor when none), with ``attendees``; a blank title or agenda
    takes the kind's. Its history starts with a "planned" row. Raises ``PermissionDenied``
    without ``improvement.add_reviewmeeting`` and a meeting role; ``ValidationError`` per field
    (an unknown kind or period, an inactive chair or attendee, a naive time)."""
    _require(actor, "add")
    people = _clean_people(chair, attendees)
    if kind not in MeetingKind.values:
        raise ValidationError({"kind": _("Choose the kind of meeting.")})
    meeting = ReviewMeeting(
        kind=kind,
        title=(title or "").strip(),
        scheduled_at=scheduled_at,
        location=(location or "").strip(),
        chair=chair or actor,
        other_attendees=(other_attendees or "").strip(),
        agenda=(agenda or "").strip() or str(DEFAULT_AGENDA[MeetingKind(kind)]),
        created_by=actor,
    )
    _apply_period(meeting, period_label)
    _check_moment(scheduled_at)
    if not meeting.title:
        meeting.title = _("%(kind)s %(period)s") % {"kind": MeetingKind(kind).label, "period": meeting.period_label}
    meeting.reference = "-"  # numbered on insert
    meeting.full_clean(exclude=["reference"])
    with set_actor(actor), transaction.atomic():

        def then(saved: ReviewMeeting) -> None:
            if people:
                saved.attendees.set(people)
            _event(
                saved,
                "created",
                actor,
                period=saved.period_label,
                scheduled_at=timezone.localtime(saved.scheduled_at).isoformat(),
            )

        save_numbered(meeting, field="reference", prefix="RM", width=3, then=then)
    return meeting


def _stored(meeting: ReviewMeeting, name: str) -> Any:
    return meeting.chair_id if name == "chair" else getattr(meeting, name)


def meeting_update(
    *, meeting: ReviewMeeting, actor: User, attendees: Iterable[User] | None = None, **fields: Any
) -> ReviewMeeting:
    """Edit a planned meeting (``MEETING_FIELDS`` and the attendees; a new period label moves
    the period), or the minutes of a held one (``HELD_FIELDS``: its inputs stay as frozen).
    What changed is a row of the history: "details changed" naming the fields on a planned
    meeting, "minutes changed after the meeting" (with the minutes as they were) on a held one.
    Raises ``PermissionDenied`` without ``improvement.change_reviewmeeting`` and a meeting
    role; ``ValidationError`` for another field, a cancelled meeting or bad values."""
    _require(actor, "change")
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    people = _clean_people(fields.get("chair"), attendees)
    with set_actor(actor), transaction.atomic():
        locked = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status == MeetingStatus.CANCELLED:
            raise ValidationError(_("A cancelled meeting is not changed any more."))
        held = locked.status == MeetingStatus.HELD
        if held:
            late = sorted(set(fields) - set(HELD_FIELDS)) + (["attendees"] if people is not None else [])
            if late:
                message = _("The meeting has been held: only its minutes change now.")
                raise ValidationError({name: message for name in late})
        before = {name: _stored(locked, name) for name in MEETING_FIELDS}
        for name, value in fields.items():
            if name == "period_label":
                _apply_period(locked, value)
            else:
                setattr(locked, name, value.strip() if isinstance(value, str) else value)
        if "kind" in fields and locked.kind not in MeetingKind.values:
            raise ValidationError({"kind": _("Choose the kind of meeting.")})
        if "scheduled_at" in fields:
            _check_moment(locked.scheduled_at)
        locked.full_clean()
        changed = [name for name in MEETING_FIELDS if _stored(locked, name) != before[name]]
        if people is not None and {user.pk for user in people} != set(locked.attendees.values_list("pk", flat=True)):
            locked.attendees.set(people)
            changed.append("attendees")
        if changed:
            locked.save()
            if held:
                _event(locked, "minutes_changed", actor, previous=before["minutes"])
            else:
                _event(locked, "edited", actor, fields=changed)
    return locked


# --- the moves -----------------------------------------------------------------------------


def meeting_transition(
    *, meeting: ReviewMeeting, action: str, actor: User, note: str = "", **inputs: Any
) -> ReviewMeeting:
    """Move ``meeting`` by ``action`` on ``MEETING_MACHINE``: from one of the action's sources,
    by one of its roles with ``improvement.change_reviewmeeting``, with what it requires
    (``note``) and only the inputs it accepts; the move is a row of the history. ``hold``
    freezes the compiled inputs and the time it was held. Raises ``TransitionRefused`` for an
    unknown action or a move the table has no arrow for from the current status,
    ``PermissionDenied`` for a role that may not, ``ValidationError`` per field
    (an input the action does not take, a missing reason)."""
    return perform(MEETING_MACHINE, meeting, action, actor=actor, note=note, inputs=inputs)


def meeting_hold(*, meeting: ReviewMeeting, actor: User, minutes: str | None = None) -> ReviewMeeting:
    """The meeting took place: its inputs are compiled and frozen now (``meeting_transition``)."""
    inputs = {} if minutes is None else {"minutes": minutes}
    return meeting_transition(meeting=meeting, action="hold", actor=actor, **inputs)


def meeting_cancel(*, meeting: ReviewMeeting, actor: User, note: str) -> ReviewMeeting:
    """The meeting will not take place; ``note`` (the reason) is required."""
    return meeting_transition(meeting=meeting, action="cancel", actor=actor, note=note)


# --- decisions -------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]


def decision_add(
    *, meeting: ReviewMeeting, actor: User, text: str, owner: User | None = None, due_on: date | None = None
) -> MeetingDecision:
    """Record a decision of a held meeting (who follows it up, by when); a row of the
    meeting's history. Raises ``PermissionDenied`` without ``improvement.add_meetingdecision``
    and a meeting role; ``ValidationError`` for a meeting not held, a blank text or an
    inactive owner."""
    _require(actor, "add", MeetingDecision)
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": _("Choose an active user.")})
    with set_actor(actor), transaction.atomic():
        locked = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status != MeetingStatus.HELD:
            raise ValidationError(_("Decisions are recorded once the meeting has been held."))
        decision = MeetingDecision(meeting=locked, text=(text or "").strip(), owner=owner, due_on=due_on)
        decision.full_clean()
        decision.save()
        _event(
            locked,
            "decision_recorded",
            actor,
            decision=decision.pk,
            text=_first_line(decision.text),
            owner=str(owner) if owner is not None else None,
            due_on=due_on.isoformat() if due_on else None,
        )
    return decision


def _locked_decision(decision: MeetingDecision) -> MeetingDecision:
    locked = MeetingDecision.objects.select_for_update().select_related("meeting").get(pk=decision.pk)
    if locked.meeting.status != MeetingStatus.HELD:
        raise ValidationError(_("Decisions are followed up once the meeting has been held."))
    if locked.item_id is not None or locked.action_id is not None:
        raise ValidationError(_("This decision has already become an improvement item or action."))
    return locked


def decision_raise_item(
    *,
    decision: MeetingDecision,
    actor: User,
    title: str = "",
    priority: str = Priority.MEDIUM,
    owner: User | None = None,
    description: str = "",
    target_date: date | None = None,
) -> ImprovementItem:
    """Raise an item of the register from ``decision`` in one step: its source is the meeting
    (kind ``review_meeting``), its title, owner and close-by date default to the decision's;
    the decision links the item and the meeting's history names it. Raises
    ``PermissionDenied`` without ``improvement.change_meetingdecision`` and a meeting role (or
    the register's own permission); ``ValidationError`` when the decision already created an
    item or action, or for the item's fields."""
    _require(actor, "change", MeetingDecision)
    with set_actor(actor), transaction.atomic():
        locked = _locked_decision(decision)
        item = item_create(
            actor=actor,
            source_kind=SOURCE_KIND,
            source=locked.meeting,
            title=(title or "").strip() or _first_line(locked.text),
            description=(description or "").strip() or locked.text,
            priority=priority or Priority.MEDIUM,
            owner=owner or locked.owner,
            target_date=target_date or locked.due_on,
        )
        locked.item = item
        locked.full_clean()
        locked.save()
        _event(
            locked.meeting,
            "item_raised",
            actor,
            decision=locked.pk,
            item=item.reference,
            item_id=item.pk,
            title=item.title,
        )
    return item


def decision_add_action(
    *,
    decision: MeetingDecision,
    actor: User,
    plan: ImprovementPlan,
    title: str = "",
    owner: User | None = None,
    due_on: date | None = None,
    working_days: int | None = None,
    description: str = "",
) -> PlanAction:
    """Add an action to the open ``plan`` from ``decision`` in one step (``action_add``: an
    approved plan goes back for approval); title, owner and due date default to the
    decision's; the decision links the action and the meeting's history names it. Raises
    ``PermissionDenied`` without ``improvement.change_meetingdecision`` and a meeting role (or
    the plan's own permission); ``ValidationError`` when the decision already created an item
    or action, without an owner or a due date, or for a plan that is not open."""
    _require(actor, "change", MeetingDecision)
    if not ImprovementPlan.objects.visible_to(actor).filter(pk=plan.pk).exists():
        raise ValidationError({"plan": _("Choose an improvement plan you may see.")})
    with set_actor(actor), transaction.atomic():
        locked = _locked_decision(decision)
        owner = owner or locked.owner
        errors: dict[str, str] = {}
        if owner is None:
            errors["owner"] = _("Name who does the action.")
        if due_on is None and working_days is None and locked.due_on is None:
            errors["due_on"] = _("Give the due date or the number of working days.")
        if errors or owner is None:
            raise ValidationError(errors)
        action = action_add(
            plan=plan,
            actor=actor,
            title=(title or "").strip() or _first_line(locked.text),
            owner=owner,
            due_on=due_on if due_on is not None or working_days is not None else locked.due_on,
            working_days=working_days,
            description=(description or "").strip() or locked.text,
        )
        locked.action = action
        locked.full_clean()
        locked.save()
        _event(
            locked.meeting,
            "action_added",
            actor,
            decision=locked.pk,
            plan=plan.reference,
            plan_id=plan.pk,
            task=action.title,
            due_on=action.due_on.isoformat(),
        )
    return action
