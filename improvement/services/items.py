"""Every write of the improvement register: raising an item from a source, the system's
suggestions, edits and the item's moves.

* ``item_create`` raises an item from a registered source (``improvement.registry``): the
  source must be a record of the kind's model the actor may read; a person's item starts
  ``open`` with a date to close it by from its priority (working days, the business calendar).
* ``item_suggest`` is the system's intake: idempotent by ``key`` — the same finding never
  suggests a second item, however often the rule runs or however many workers run it.
* ``item_transition`` is the only code that moves an item's status (``ITEM_MACHINE`` on the
  workflow kit).

Each service checks the permission (``PermissionDenied``), validates (``ValidationError`` per
field; nothing written), runs in one transaction with the actor on the audit trail and writes
the item's history row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core import calendar as business_calendar
from itsm.core.audit import set_actor
from itsm.core.models import User
from itsm.core.numbering import save_numbered
from itsm.core.permissions import can
from itsm.core.workflow import Machine, Move, perform

from ..choices import PLAN_OPEN_STATUSES, ItemStatus, Priority
from ..models import ImprovementItem, ImprovementItemEvent, ImprovementPlan
from ..registry import ImprovementSource, source_for
from ..workflow import ITEM_TRANSITIONS

# How long an item may stay open, by priority (working days from when it is opened).
TARGET_WORKING_DAYS = {Priority.HIGH: 10, Priority.MEDIUM: 20, Priority.LOW: 40}
# The fields a person edits (the status and the source are not among them).
ITEM_FIELDS = ("title", "description", "priority", "owner", "target_date")
CLOSED_STATUSES = frozenset({ItemStatus.DONE, ItemStatus.DISMISSED})


def target_date_for(priority: str, start: date | None = None) -> date:
    """When an item of ``priority`` opened on ``start`` (today) should be closed."""
    start = start or timezone.localdate()
    return business_calendar.add_working_days(start, TARGET_WORKING_DAYS.get(Priority(priority), 20))


def _require(actor: User, verb: str) -> None:
    if not can(actor, verb, ImprovementItem):
        raise PermissionDenied(_("Your role may not raise or change improvement items."))


def check_source(
    kind: str, source: models.Model | None, part: models.Model | None, actor: User | None
) -> ImprovementSource:
    """The registered kind of ``source``, refusing an unknown kind, a record of another model,
    a part of another model, or a source the actor may not read (``ValidationError`` on
    ``source``)."""
    registered = source_for(kind)
    if registered is None:
        raise ValidationError({"source_kind": _("Unknown source “%(kind)s”.") % {"kind": kind}})
    if source is None or not isinstance(source, registered.model_class):
        raise ValidationError({"source": _("Choose the record the item comes from.")})
    part_class = registered.part_class
    if part is not None and (part_class is None or not isinstance(part, part_class)):
        raise ValidationError({"source": _("This source has no such part.")})
    if actor is not None and not registered.readable_by(actor):
        raise ValidationError({"source": _("You may not read this source.")})
    refusal = registered.refusal(source)
    if refusal:
        raise ValidationError({"source": refusal})
    return registered


def _new_item(
    *,
    kind: str,
    source: models.Model,
    part: models.Model | None,
    title: str,
    description: str,
    priority: str,
    owner: User | None,
    status: str,
    actor: User | None,
    intake_key: str | None = None,
    target_date: date | None = None,
    plan: ImprovementPlan | None = None,
    note: str = "",
) -> ImprovementItem:
    item = ImprovementItem(
        title=(title or "").strip(),
        description=(description or "").strip(),
        priority=priority or Priority.MEDIUM,
        owner=owner,
        status=status,
        source_kind=kind,
        source_type=ContentType.objects.get_for_model(type(source)),
        source_id=source.pk,
        source_part_id=part.pk if part is not None else None,
        intake_key=intake_key,
        target_date=target_date,
        plan=plan,
        created_by=actor,
    )
    if status == ItemStatus.OPEN and item.target_date is None and item.priority in Priority.values:
        item.target_date = target_date_for(item.priority)
    item.reference = "-"  # numbered on insert
    item.full_clean(exclude=["reference"])

    def history(saved: ImprovementItem) -> None:
        ImprovementItemEvent.objects.create(
            item=saved,
            action="created" if actor is not None else "suggested",
            to_status=saved.status,
            actor=actor,
            actor_label="" if actor is not None else "system",
            note=note,
            data={"source": kind, "source_id": source.pk, **({"part": part.pk} if part is not None else {})},
        )

    return save_numbered(item, field="reference", prefix="IMP", width=5, then=history)


def item_create(
    *,
    actor: User,
    source_kind: str,
    source: models.Model,
    title: str,
    priority: str = Priority.MEDIUM,
    description: str = "",
    owner: User | None = None,
    source_part: models.Model | None = None,
    target_date: date | None = None,
    plan: ImprovementPlan | None = None,
) -> ImprovementItem:
    """Raise an item from ``source`` (a record of the registered ``source_kind``); ``plan``
    puts it straight into an open plan (``planned``). Raises ``PermissionDenied`` without
    ``improvement.add_improvementitem``; ``ValidationError`` for an unknown kind, a source of
    another model or one the actor may not read, a blank title, an unknown priority or a plan
    that is closed."""
    _require(actor, "add")
    check_source(source_kind, source, source_part, actor)
    if plan is not None:
        check_plan_open(plan)
    with set_actor(actor), transaction.atomic():
        return _new_item(
            kind=source_kind,
            source=source,
            part=source_part,
            title=title,
            description=description,
            priority=priority,
            owner=owner or actor,
            status=ItemStatus.PLANNED if plan is not None else ItemStatus.OPEN,
            actor=actor,
            target_date=target_date,
            plan=plan,
        )


def item_suggest(
    *,
    key: str,
    source_kind: str,
    source: models.Model,
    title: str,
    description: str = "",
    priority: str = Priority.MEDIUM,
    owner: User | None = None,
    source_part: models.Model | None = None,
) -> tuple[ImprovementItem, bool]:
    """The system suggests an item for ``key`` (a finding of an intake rule): returns the
    item and whether it is new — the one suggested before under ``key`` otherwise, whatever
    became of it (accepted, dismissed). Safe under concurrent runs (the key is unique)."""
    existing = ImprovementItem.objects.filter(intake_key=key).first()
    if existing is not None:
        return existing, False
    check_source(source_kind, source, source_part, None)
    try:
        with set_actor(None), transaction.atomic():
            item = _new_item(
                kind=source_kind,
                source=source,
                part=source_part,
                title=title[:200],
                description=description,
                priority=priority,
                owner=owner,
                status=ItemStatus.SUGGESTED,
                actor=None,
                intake_key=key,
            )
    except (IntegrityError, ValidationError):
        existing = ImprovementItem.objects.filter(intake_key=key).first()
        if existing is None:
            raise
        return existing, False
    return item, True


def item_update(*, item: ImprovementItem, actor: User, **fields: Any) -> ImprovementItem:
    """Edit an item's text, priority, owner or close-by date (``ITEM_FIELDS``); a done or
    dismissed item is reopened first. Raises ``PermissionDenied`` without
    ``improvement.change_improvementitem``; ``ValidationError`` for another field or bad values."""
    _require(actor, "change")
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    with set_actor(actor), transaction.atomic():
        locked = ImprovementItem.objects.select_for_update().get(pk=item.pk)
        if locked.status in CLOSED_STATUSES:
            raise ValidationError(_("A done or dismissed item is reopened before it is changed."))
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        locked.full_clean()
        locked.save()
    return locked


def check_plan_open(plan: ImprovementPlan) -> None:
    if plan.status not in PLAN_OPEN_STATUSES:
        raise ValidationError(
            {
                "plan": _("The plan is %(status)s: choose one that is still open.")
                % {"status": plan.get_status_display()}
            }
        )


def _accept(move: Move) -> dict:
    item = move.record
    if item.owner_id is None and move.actor is not None:
        item.owner = move.actor
    item.target_date = item.target_date or target_date_for(item.priority, timezone.localdate(move.now))
    return {}


def _dismiss(move: Move) -> dict:
    item = move.record
    duplicate = item.duplicate_of if item.duplicate_of_id else None
    if duplicate is not None and (duplicate.pk == item.pk or duplicate.duplicate_of_id is not None):
        raise ValidationError({"duplicate_of": _("Choose the original item, not this one or another duplicate.")})
    item.closed_at = move.now
    item.resolution = move.note
    return {"duplicate_of": duplicate.reference} if duplicate is not None else {}


def _plan(move: Move) -> dict:
    from ..models import ImprovementPlanEvent

    plan = move.record.plan
    check_plan_open(plan)
    # The plan's history says so too, whichever page the item joined from.
    ImprovementPlanEvent.objects.create(
        plan=plan,
        action="item_added",
        actor=move.actor,
        actor_label="" if move.actor is not None else "system",
        data={"item": move.record.reference},
    )
    return {"plan": plan.reference}


def _unplan(move: Move) -> dict:
    item = move.record
    reference = item.plan.reference if item.plan_id else ""
    item.plan = None
    return {"plan": reference}


def _complete(move: Move) -> dict:
    move.record.closed_at = move.now
    return {}


def _reopen(move: Move) -> dict:
    item = move.record
    item.closed_at = None
    item.duplicate_of = None
    item.resolution = ""
    item.target_date = target_date_for(item.priority, timezone.localdate(move.now))
    return {}


ITEM_MACHINE = Machine(
    model=ImprovementItem,
    table=ITEM_TRANSITIONS,
    refused=gettext_lazy("“%(action)s” is not possible while the item is %(status)s."),
    moved=gettext_lazy("%(action)s: the item is now “%(status)s”."),
    event_model=ImprovementItemEvent,
    effects={
        "accept": _accept,
        "dismiss": _dismiss,
        "plan": _plan,
        "unplan": _unplan,
        "complete": _complete,
        "reopen": _reopen,
    },
    permission="change",
    event_labels={"created": gettext_lazy("Raised"), "suggested": gettext_lazy("Suggested by the system")},
)


def item_transition(
    *, item: ImprovementItem, action: str, actor: User | None, note: str = "", **inputs: Any
) -> ImprovementItem:
    """Move ``item`` by ``action`` (``ITEM_TRANSITIONS`` decides). Raises ``TransitionRefused``
    for a move the table has no arrow for, ``PermissionDenied`` for a role that may not,
    ``ValidationError`` per field (a dismissal without a reason, a closed plan)."""
    return perform(ITEM_MACHINE, item, action, actor=actor, note=note, inputs=inputs)
