"""Every write to service level targets, and the rules every target obeys.

A target belongs to an agreement and is edited directly while the agreement is a draft or
under negotiation; the targets of an active agreement change only as part of a new version
(``sla.services.agreements.agreement_new_version``, which calls ``targets_sync``).

The rules (``target_problems`` for one target, ``targets_conflicts`` across an agreement's):

* the value is above zero; a percentage is at most 100;
* response and resolution times are in minutes, hours or working days and name a priority;
  availability and other measures are in %, and another measure says what it is;
* one target per (metric, priority, name) on an agreement;
* a response target is never longer than the resolution target of the same priority —
  compared as working time: minutes and hours directly, working days through the length of
  the target's calendar's working day (24 h on a 24×7 target, i.e. one without a calendar).

Each service checks the permission, locks the agreement row (so two edits of the same
agreement's targets cannot both pass the cross checks), writes an ``AgreementEvent`` and runs
in one transaction. Raises ``PermissionDenied`` or ``ValidationError`` (nothing written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from itsm.core import calendar as business_calendar
from itsm.core.audit import set_actor
from itsm.core.calendar import working_day_length
from itsm.core.models import Calendar, User
from itsm.core.permissions import can

from ..choices import STANDARD_TARGETS, TIME_METRICS, TIME_UNITS, AgreementStatus, Metric, TargetUnit
from ..models import Agreement, AgreementEvent, ServiceLevelTarget

TARGET_FIELDS = ("metric", "name", "priority", "value", "unit", "calendar")
# Targets are edited directly only before the agreement is in force.
TARGETS_EDITABLE_STATUSES = frozenset({AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING})
HUNDRED = Decimal(100)


# --- working time of a target -----------------------------------------------------------------


def day_length(calendar: Calendar | None) -> timedelta:
    """The working time in one working day of ``calendar``; 24 h without one (24×7)."""
    if calendar is None or calendar.always_open:
        return timedelta(days=1)
    return working_day_length(calendar)


def target_working_time(value: Decimal | float | int, unit: str, calendar: Calendar | None) -> timedelta | None:
    """``value`` ``unit`` as working time on ``calendar`` (None for a percentage).

    Minutes and hours are taken as they are (working minutes and hours of the calendar);
    working days are converted with the calendar's working-day length, so 1 working day of a
    09:00–18:00 calendar is 9 h and 1 working day around the clock is 24 h.
    """
    amount = float(value)
    if unit == TargetUnit.MINUTES:
        return timedelta(minutes=amount)
    if unit == TargetUnit.HOURS:
        return timedelta(hours=amount)
    if unit == TargetUnit.WORKING_DAYS:
        return day_length(calendar) * amount
    return None


def target_duration(target: ServiceLevelTarget) -> timedelta | None:
    """The target's promise as working time on its own calendar (None for a percentage)."""
    return target_working_time(target.value, target.unit, target.calendar)


def _hours(duration: timedelta) -> str:
    hours = Decimal(duration.total_seconds()) / Decimal(3600)
    return f"{hours.quantize(Decimal('0.01')).normalize():f}"


def describe_target(target: ServiceLevelTarget) -> str:
    """``3 working days (27 h of working time)``: the value, and for working days what it is worth."""
    value = f"{Decimal(target.value).normalize():f}"
    text = f"{value} {target.get_unit_display()}"
    if target.unit == TargetUnit.WORKING_DAYS:
        duration = target_duration(target)
        if duration is not None:
            text += " " + _("(%(hours)s h of working time)") % {"hours": _hours(duration)}
    return text


def target_label(target: ServiceLevelTarget) -> str:
    """``P1 Response time`` / ``Customer satisfaction``: how a target is named in messages."""
    label = target.name or str(target.get_metric_display())
    return f"{target.priority} {label}".strip()


# --- the rules --------------------------------------------------------------------------------


def target_problems(target: ServiceLevelTarget) -> dict[str, list[str]]:
    """What is wrong with one target on its own, per field (empty: nothing)."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    metric, unit, value = target.metric, target.unit, target.value
    if value is not None:
        value = Decimal(value)
        if value <= 0:
            add("value", _("The target must be greater than zero."))
        elif unit == TargetUnit.PERCENT and value > HUNDRED:
            add("value", _("A percentage cannot be more than 100."))
    if metric in TIME_METRICS:
        if unit and unit not in TIME_UNITS:
            add("unit", _("A response or resolution time is given in minutes, hours or working days."))
        if not target.priority:
            add("priority", _("Say which priority this time applies to."))
    elif metric and unit and unit != TargetUnit.PERCENT:
        add("unit", _("Availability and other measures are given in %."))
    if metric == Metric.CUSTOM and not (target.name or "").strip():
        add("name", _("Say what this measure is."))
    return problems


def targets_conflicts(targets: list[ServiceLevelTarget]) -> list[str]:
    """What is wrong between an agreement's targets (duplicates; a response target longer
    than the resolution target of its priority), as messages naming both targets."""
    messages: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for target in targets:
        key = (target.metric, target.priority, (target.name or "").strip())
        if key in seen:
            messages.append(_("There is more than one %(target)s target.") % {"target": target_label(target)})
        seen.add(key)
    for response in targets:
        if response.metric != Metric.RESPONSE or response.unit not in TIME_UNITS or not response.value:
            continue
        for resolution in targets:
            if (
                resolution.metric != Metric.RESOLUTION
                or resolution.priority != response.priority
                or resolution.unit not in TIME_UNITS
                or not resolution.value
            ):
                continue
            response_time, resolution_time = target_duration(response), target_duration(resolution)
            if response_time is not None and resolution_time is not None and response_time > resolution_time:
                messages.append(
                    _(
                        "The %(priority)s response target (%(response)s) is longer than the %(priority)s "
                        "resolution target (%(resolution)s): a case cannot be resolved before it is responded to."
                    )
                    % {
                        "priority": response.priority,
                        "response": describe_target(response),
                        "resolution": describe_target(resolution),
                    }
                )
    return messages


def _validate(target: ServiceLevelTarget, others: list[ServiceLevelTarget]) -> None:
    """Raise ``ValidationError`` per field for ``target`` among ``others`` (the rest)."""
    problems = target_problems(target)
    try:
        target.full_clean(exclude=["agreement"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            problems.setdefault(name, []).extend(m for m in messages if m not in problems.get(name, []))
    if problems:
        raise ValidationError(problems)
    key = (target.metric, target.priority, target.name)
    if any((other.metric, other.priority, other.name) == key for other in others):
        raise ValidationError(
            {"metric": _("This agreement already has a %(target)s target.") % {"target": target_label(target)}}
        )
    conflicts = targets_conflicts([*others, target])
    if conflicts:
        raise ValidationError({"value": conflicts})


# --- one target at a time (drafts and negotiations) -------------------------------------------


def _lock_editable(agreement: Agreement) -> Agreement:
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if locked.status not in TARGETS_EDITABLE_STATUSES:
        if locked.status == AgreementStatus.ACTIVE:
            raise ValidationError(
                _("The agreement is active: its targets change only with a new version (reason and RFC).")
            )
        raise ValidationError(
            _("The agreement is %(status)s: its targets no longer change.") % {"status": locked.get_status_display()}
        )
    return locked


def _target_data(target: ServiceLevelTarget) -> dict[str, Any]:
    return {
        "metric": target.metric,
        "priority": target.priority,
        "name": target.name,
        "value": f"{Decimal(target.value).normalize():f}",
        "unit": target.unit,
        "calendar": target.calendar_id,
    }


def _event(agreement: Agreement, action: str, actor: User | None, note: str = "", **data: Any) -> None:
    AgreementEvent.objects.create(agreement=agreement, action=action, actor=actor, note=note, data=data)


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(TARGET_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    cleaned = {name: value.strip() if isinstance(value, str) else value for name, value in fields.items()}
    if "name" in cleaned and cleaned["name"] is None:
        cleaned["name"] = ""
    if "priority" in cleaned and cleaned["priority"] is None:
        cleaned["priority"] = ""
    return cleaned


def target_create(*, agreement: Agreement, actor: User, **fields: Any) -> ServiceLevelTarget:
    """Add a target (``metric``, ``value``, ``unit``; ``priority``, ``name``, ``calendar``
    as the metric needs) to a draft or negotiating agreement."""
    if not can(actor, "add", ServiceLevelTarget):
        raise PermissionDenied
    fields = _clean_fields(fields)
    with set_actor(actor), transaction.atomic():
        locked = _lock_editable(agreement)
        target = ServiceLevelTarget(agreement=locked, **fields)
        _validate(target, list(locked.targets.select_related("calendar")))
        target.save()
        _event(locked, "target_added", actor, target=_target_data(target))
    return target


def target_update(*, target: ServiceLevelTarget, actor: User, **fields: Any) -> ServiceLevelTarget:
    """Change a target of a draft or negotiating agreement (same rules as ``target_create``)."""
    if not can(actor, "change", ServiceLevelTarget):
        raise PermissionDenied
    fields = _clean_fields(fields)
    with set_actor(actor), transaction.atomic():
        locked = _lock_editable(target.agreement)
        current = ServiceLevelTarget.objects.select_related("calendar").get(pk=target.pk, agreement=locked)
        before = _target_data(current)
        for name, value in fields.items():
            setattr(current, name, value)
        _validate(current, list(locked.targets.exclude(pk=current.pk).select_related("calendar")))
        if _target_data(current) != before:
            current.save()
            _event(locked, "target_changed", actor, before=before, after=_target_data(current))
    return current


def target_delete(*, target: ServiceLevelTarget, actor: User) -> None:
    """Remove a target of a draft or negotiating agreement (never one with measurements)."""
    if not can(actor, "delete", ServiceLevelTarget):
        raise PermissionDenied
    with set_actor(actor), transaction.atomic():
        locked = _lock_editable(target.agreement)
        current = ServiceLevelTarget.objects.get(pk=target.pk, agreement=locked)
        if current.measurements.exists():
            raise ValidationError(_("This target has measurements; it cannot be removed."))
        data = _target_data(current)
        current.delete()
        _event(locked, "target_removed", actor, target=data)


def _business_calendar() -> Calendar | None:
    """The default business calendar, when one is stored (else working days stay 24×7)."""
    default = business_calendar.default_calendar()
    return default if default.pk is not None and not default.always_open else None


def targets_apply_standard(
    *, agreement: Agreement, actor: User, calendar: Calendar | None = None
) -> list[ServiceLevelTarget]:
    """Add the standard response and resolution targets of SPEC §5 for P1–P4 on ``calendar``
    (None: 24×7) that the agreement does not have yet; return those added (none the second
    time). Raises ``ValidationError`` when a standard target would conflict with one kept."""
    if not can(actor, "add", ServiceLevelTarget):
        raise PermissionDenied
    with set_actor(actor), transaction.atomic():
        locked = _lock_editable(agreement)
        existing = list(locked.targets.select_related("calendar"))
        have = {(t.metric, t.priority, t.name) for t in existing}
        added: list[ServiceLevelTarget] = []
        # "5 working days" counts business days: a working-day target goes on ``calendar`` when
        # that is a business calendar, else on the default one (never "5 working days, 24×7").
        day_calendar = calendar if calendar is not None and not calendar.always_open else _business_calendar()
        for priority, pair in STANDARD_TARGETS.items():
            for metric, (value, unit) in zip((Metric.RESPONSE, Metric.RESOLUTION), pair, strict=True):
                if (metric, priority, "") in have:
                    continue
                added.append(
                    ServiceLevelTarget(
                        agreement=locked,
                        metric=metric,
                        priority=priority,
                        value=Decimal(value),
                        unit=unit,
                        calendar=day_calendar if unit == TargetUnit.WORKING_DAYS else calendar,
                    )
                )
        if not added:
            return []
        conflicts = targets_conflicts([*existing, *added])
        if conflicts:
            raise ValidationError(conflicts)
        for target in added:
            target.full_clean(exclude=["agreement"], validate_unique=False, validate_constraints=False)
            target.save()
        _event(
            locked,
            "standard_targets",
            actor,
            targets=[_target_data(t) for t in added],
        )
    return added


# --- a new version: the whole set at once ------------------------------------------------------


@dataclass
class TargetChanges:
    """What ``targets_sync`` did: targets added, changed (before, after) and removed."""

    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def as_data(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "changed": [{"before": b, "after": a} for b, a in self.changed],
            "removed": self.removed,
        }


def targets_sync(agreement: Agreement, specs: list[dict[str, Any]]) -> TargetChanges:
    """Make the agreement's targets exactly ``specs`` (each a dict of ``TARGET_FIELDS``, with
    ``id`` for a target kept). Called by ``agreement_new_version`` inside its transaction,
    with the agreement locked; checks no permission itself.

    Every spec is checked (messages prefixed with the target's name) and the whole set is
    checked across; a target with measurements is never removed. Raises ``ValidationError``
    on ``targets`` with every message (nothing written).
    """
    current = {t.pk: t for t in agreement.targets.select_related("calendar")}
    errors: list[str] = []
    kept: list[ServiceLevelTarget] = []
    before: dict[int, dict[str, Any]] = {}
    for spec in specs:
        spec = dict(spec)
        pk = spec.pop("id", None)
        try:
            fields = _clean_fields(spec)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        if pk is not None:
            target = current.get(int(pk))
            if target is None:
                errors.append(_("Target %(id)s is not one of this agreement's.") % {"id": pk})
                continue
            before[target.pk] = _target_data(target)
        else:
            target = ServiceLevelTarget(agreement=agreement)
        for name, value in fields.items():
            setattr(target, name, value)
        problems = target_problems(target)
        try:
            target.full_clean(exclude=["agreement"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                problems.setdefault(name, []).extend(messages)
        for messages in problems.values():
            errors.extend(f"{target_label(target)}: {message}" for message in dict.fromkeys(messages))
        kept.append(target)
    kept_ids = {t.pk for t in kept if t.pk is not None}
    removed = [t for pk, t in current.items() if pk not in kept_ids]
    measured = set(
        ServiceLevelTarget.objects.filter(pk__in=[t.pk for t in removed], measurements__isnull=False).values_list(
            "pk", flat=True
        )
    )
    errors.extend(
        _("%(target)s has measurements; it cannot be removed.") % {"target": target_label(t)}
        for t in removed
        if t.pk in measured
    )
    if not errors:
        errors.extend(targets_conflicts(kept))
    if errors:
        raise ValidationError({"targets": errors})

    changes = TargetChanges()
    try:
        with transaction.atomic():
            for target in removed:
                changes.removed.append(_target_data(target))
                target.delete()
            # Kept targets first, so a new target taking a key a kept one left never collides.
            for target in sorted(kept, key=lambda t: t.pk is None):
                if target.pk is None:
                    target.save()
                    changes.added.append(_target_data(target))
                elif _target_data(target) != before[target.pk]:
                    target.save()
                    changes.changed.append((before[target.pk], _target_data(target)))
    except IntegrityError as error:
        # Two kept targets swapping their (metric, priority, name) in one go.
        raise ValidationError(
            {"targets": [_("Two targets swap their metric and priority; change them one version at a time.")]}
        ) from error
    return changes
