"""The one workflow kit every state machine of the product runs on (complaints, survey
campaigns, services, agreements, and the machines to come).

A machine is declared by its app: the table in its ``workflow.py`` (one ``Transition`` per
action) and a ``Machine`` naming the model, the table, the app's effects per action and what
an event row records. ``perform`` is then the only code that moves a status, the same way for
every machine:

1. refuses an unknown action and an input the action does not take (``TransitionRefused`` /
   ``ValidationError`` naming the field) before touching the database;
2. locks the row (``select_for_update``) and refuses a move the table has no arrow for from the
   current status (``TransitionRefused``), the system where the table wants a person and a
   role (or owner) the table does not name (``PermissionDenied``);
3. applies the inputs that are fields of the record, checks what is required (the note, or a
   field non-blank once applied) together with the machine's own conditions, all errors at
   once (``ValidationError`` per field);
4. runs the action's effect (timestamps, owners, mail, anything the app does on that move;
   it returns the event's details and may refuse with a ``ValidationError``), sets the status,
   validates and saves the record, writes the event row and runs the after-move work — all
   in the one transaction, so a refusal anywhere leaves nothing written.

``allowed`` lists the actions a user may take on a record now (for pages and the API).
``as_mermaid`` draws a table as a diagram for the docs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Transition:
    action: str
    label: str | Promise
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    # Inputs the action needs: "note" or fields of the record, non-blank once the inputs are applied.
    requires: tuple[str, ...] = ()
    # Fields of the record the action accepts and writes (a subset may be required).
    accepts: tuple[str, ...] = ()
    description: str | Promise = ""
    button: str = "primary"
    # May the system (a periodic check, actor=None) perform it?
    system: bool = False
    # May the record's current owner perform it whatever their role (the department head who
    # owns a complaint at level 2 takes its next steps)?
    owner_may: bool = False


def as_mermaid(
    table: Mapping[str, Transition],
    initial: str,
    finals: tuple[str, ...],
    source_names: Mapping[str, str] | None = None,
) -> str:
    """``table`` as a Mermaid state diagram (the docs pages are generated from it and kept in
    sync by tests). ``source_names`` draws an action's many sources as one named state (the
    complaints' "withdraw" from any open state)."""
    lines = ["stateDiagram-v2", f"    [*] --> {initial}"]
    for transition in table.values():
        named = (source_names or {}).get(transition.action)
        for source in [named] if named else sorted(transition.sources):
            lines.append(f"    {source} --> {transition.target}: {transition.action}")
    lines.extend(f"    {final} --> [*]" for final in finals)
    return "\n".join(lines)


class TransitionRefused(ValidationError):
    """The table has no such action, or no such move from the record's current status."""


@dataclass
class Move:
    """One move under way: what the effects, checks and event writer of a machine receive."""

    record: Any
    transition: Transition
    actor: Any  # a User, or None for the system or a customer through a link
    now: datetime
    note: str
    actor_label: str = ""
    # Inputs that are not fields of the record (an escalation's level and owner, an RFC the
    # event records): for the effects to read.
    inputs: dict[str, Any] = field(default_factory=dict)
    from_status: str = ""

    @property
    def action(self) -> str:
        return self.transition.action


Effect = Callable[[Move], dict | None]


def roles_may(transition: Transition, record: Any, actor: Any) -> bool:
    """The table's default rule: one of the actor's roles is among the transition's roles, or
    the actor owns the record where the transition lets its owner act (``owner_may``)."""
    from .roles import roles_of

    owner_id = getattr(record, "owner_id", None)
    if transition.owner_may and owner_id is not None and owner_id == actor.pk:
        return True
    return bool(set(roles_of(actor)) & transition.roles)


@dataclass(frozen=True)
class Machine:
    """A state machine: the model, its table, and what the app does on each move.

    ``refused`` is the message for a move the table has no arrow for, naming the record's
    kind (``"“%(action)s” is not possible while the complaint is %(status)s."``; it gets
    ``action`` and ``status``). ``effects`` maps an action to a function of the ``Move`` run
    before the status is set (returns the event's details). ``check`` adds the machine's own
    input errors to the required ones. ``event_model`` is the machine's ``WorkflowEvent``
    (``record_event`` writes the row, with ``event_fields`` for its own columns);
    ``after`` runs last with the event (mail, revoking links). ``held_inputs``: inputs
    handed to the effects (``move.inputs``) even where they name a field. ``permission``: a model
    permission the actor needs besides the table's roles (``"change"``). ``person_unless_system``:
    refuse ``actor=None`` where the transition is not marked ``system`` (False: the machine's
    actor-less moves — a customer's link, a periodic check — are decided by the callers).
    """

    model: type[models.Model]
    table: Mapping[str, Transition]
    refused: str | Promise
    # The pages' message after a move (``"%(action)s: the complaint is now “%(status)s”."``).
    moved: str | Promise
    # The machine's WorkflowEvent model (its foreign key to ``model`` is found by itself).
    event_model: type[models.Model]
    effects: Mapping[str, Effect] = field(default_factory=dict)
    check: Callable[[Move], dict[str, Any]] | None = None
    after: Callable[[Move, Any], None] | None = None
    may: Callable[[Transition, Any, Any], bool] = roles_may
    permission: str = ""
    person_unless_system: bool = True
    select_related: tuple[str, ...] = ()
    clean_exclude: tuple[str, ...] = ()
    # Inputs kept for the effects even where they name a field (an escalation's owner: the
    # effect chooses the level's default when none is given).
    held_inputs: tuple[str, ...] = ()
    # Who an event without an actor names ("system": a periodic check) unless the caller
    # says (``actor_label="customer"``); and what else the event row records (a service's RFC).
    system_label: str = "system"
    event_fields: Callable[[Move], dict[str, Any]] | None = None
    # Whether a move the actor may make is offered now (``allowed``): an escalation only while
    # there is a level above, an expiry once the validity has ended. ``perform`` still decides.
    offered: Callable[[Transition, Any, Any], bool] | None = None
    # The labels of the history's rows that are not moves (a complaint's reminder, an
    # agreement's new version): with the table's labels, what ``action_label`` shows.
    event_labels: Mapping[str, str | Promise] = field(default_factory=dict)

    def transition(self, action: str) -> Transition:
        transition = self.table.get(action)
        if transition is None:
            raise TransitionRefused({"action": _("Unknown action “%(action)s”.") % {"action": action}})
        return transition

    def record_event(self, move: Move, data: dict) -> Any:
        """Write the move's event row."""
        return self.event_model._default_manager.create(
            **{_event_link(self.event_model, self.model): move.record},
            action=move.action,
            from_status=move.from_status,
            to_status=move.record.status,
            actor=move.actor,
            actor_label=(move.actor_label or self.system_label) if move.actor is None else "",
            note=move.note,
            data=data,
            **(self.event_fields(move) if self.event_fields is not None else {}),
        )

    def action_label(self, action: str) -> str:
        """What a history row of ``action`` is called: the move's label, else the machine's
        label for that kind of row, else the stored name."""
        transition = self.table.get(action)
        if transition is not None:
            return str(transition.label)
        return str(self.event_labels.get(action, action))

    def events(self, record: Any) -> models.QuerySet:
        """``record``'s history, oldest first."""
        link = _event_link(self.event_model, self.model)
        return (
            self.event_model._default_manager.filter(**{link: record})
            .select_related("actor")
            .order_by("created_at", "pk")
        )

    def actor_may(self, transition: Transition, record: Any, actor: Any) -> bool:
        from .permissions import can

        if self.permission and not can(actor, self.permission, self.model):
            return False
        return self.may(transition, record, actor)


@cache
def _event_link(event_model: type[models.Model], model: type[models.Model]) -> str:
    """The name of ``event_model``'s foreign key to ``model`` (looked up once per machine)."""
    return next(f.name for f in event_model._meta.concrete_fields if f.is_relation and f.related_model is model)


def perform(
    machine: Machine,
    record: Any,
    action: str,
    *,
    actor: Any,
    note: str = "",
    actor_label: str = "",
    inputs: Mapping[str, Any] | None = None,
) -> Any:
    """Move ``record`` by ``action`` on ``machine`` (see the module); returns the saved record."""
    from .audit import set_actor

    transition = machine.transition(action)
    inputs = dict(inputs or {})
    unknown = set(inputs) - set(transition.accepts)
    if unknown:
        raise ValidationError({name: _("This action does not take this field.") for name in sorted(unknown)})
    with set_actor(actor), transaction.atomic():
        manager = machine.model._default_manager
        # The record's row only: the related rows read with it are not the move's to lock, and a
        # nullable one (an outer join) cannot be locked on PostgreSQL.
        locked: Any = manager.select_for_update(of=("self",)).select_related(*machine.select_related).get(pk=record.pk)
        if locked.status not in transition.sources:
            raise TransitionRefused({"action": refused_message(machine, transition, locked)})
        if actor is None and machine.person_unless_system and not transition.system:
            raise PermissionDenied(_("“%(action)s” needs a person.") % {"action": transition.label})
        if actor is not None and not machine.actor_may(transition, locked, actor):
            raise PermissionDenied(_("Your role may not perform “%(action)s”.") % {"action": transition.label})
        move = Move(locked, transition, actor, timezone.now(), note.strip(), actor_label, from_status=locked.status)
        fields = {f.name for f in machine.model._meta.concrete_fields}
        for name, value in inputs.items():
            value = value.strip() if isinstance(value, str) else value
            if name in fields and name not in machine.held_inputs:
                setattr(locked, name, value)
            else:
                move.inputs[name] = value
        _check(machine, move)
        effect = machine.effects.get(action)
        data = (effect(move) if effect is not None else None) or {}
        locked._moving = True
        locked.status = transition.target
        locked.full_clean(exclude=list(machine.clean_exclude) or None)
        locked.save()
        locked._moving = False
        event = machine.record_event(move, data)
        if machine.after is not None:
            machine.after(move, event)
    return locked


def refused_message(machine: Machine, transition: Transition, record: Any) -> str:
    """“<action>” is not possible while the <record> is <status>: a move the table has no
    arrow for from ``record``'s status (the kit's refusal, and the pages' when a form comes
    back for a record that has moved on)."""
    return str(machine.refused) % {"action": transition.label, "status": record.get_status_display()}


def moved_message(machine: Machine, transition: Transition, record: Any) -> str:
    """ "<action>: the <record> is now “<status>”." (the pages' message after a move)."""
    return str(machine.moved) % {"action": transition.label, "status": record.get_status_display()}


def _check(machine: Machine, move: Move) -> None:
    errors: dict[str, Any] = dict(machine.check(move)) if machine.check is not None else {}
    for name in move.transition.requires:
        if name == "note":
            value = move.note
        elif name in move.inputs:
            value = move.inputs[name]
        else:
            value = getattr(move.record, name)
        if value in (None, "") and name not in errors:
            errors[name] = _("This is required for “%(action)s”.") % {"action": move.transition.label}
    if errors:
        raise ValidationError(errors)


def allowed(machine: Machine, record: Any, user: Any) -> list[Transition]:
    """The actions ``user`` may take on ``record`` now: from its status, by role (or
    ownership), the machine's permission and what it offers now (``offered``); inputs and the
    machine's own conditions are not checked (the move may still be refused for them)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        t
        for t in machine.table.values()
        if record.status in t.sources
        and machine.actor_may(t, record, user)
        and (machine.offered is None or machine.offered(t, record, user))
    ]
