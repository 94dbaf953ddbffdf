"""The process owner's KPI management: definitions and the end of a target."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from itsm.core.audit import set_actor
from itsm.core.permissions import can

from ..models import MANUAL, ElementKind, KpiDefinition, KpiTarget, KpiValue, Unit
from ..registry import OVERALL, sources

# --- the process owner's KPI management: definitions, targets, manual values -----------------
#
# ``definition_create`` / ``definition_update`` keep the definitions (audited: registered in
# ``kpi.apps``); ``target_end`` ends a target; ``manual_value_set`` and ``manual_values_import``
# take the values of a manual KPI (form, API, CSV); ``kpi_close_manual`` freezes a manual
# period when its report falls due (the periodic check, with ``manual_periods_due``).

DEFINITION_FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "formula",
    "measurement",
    "unit",
    "direction",
    "cycle",
    "owner",
    "amber_tolerance",
    "source",
    "breakdowns",
    "is_active",
    "sort_order",
)
# What a period's figure means: changed, it would make the closed history mean something else.
MEANING_FIELDS = ("unit", "source", "cycle")
BREAKDOWN_KINDS: tuple[str, ...] = tuple(kind for kind in ElementKind.values if kind != OVERALL)
# What a manual KPI's values may be entered for: elements with a record of their own.
MANUAL_KINDS: tuple[str, ...] = (
    ElementKind.ORGANISATION,
    ElementKind.DEPARTMENT,
    ElementKind.SERVICE,
    ElementKind.TECHNICIAN,
)


def supported_breakdowns(source_key: str) -> tuple[str, ...]:
    """The breakdowns a source can give (a manual KPI: organisation, department, service,
    technician); none for an unknown source."""
    if source_key == MANUAL:
        return MANUAL_KINDS
    kpi_source = sources().get(source_key)
    if kpi_source is None:
        return ()
    return tuple(kind for kind in BREAKDOWN_KINDS if kind in kpi_source.breakdowns)


def _kind_names(kinds: list[str]) -> str:
    return ", ".join(str(ElementKind(kind).label) for kind in kinds)


def _definition_errors(definition: KpiDefinition, before: dict[str, Any] | None) -> dict[str, list[str]]:
    """What is wrong with ``definition`` beyond its fields' own checks; ``before``: the stored
    code, breakdowns, unit, source and cycle of a definition being changed."""
    errors: dict[str, list[str]] = {}
    known = sources()
    breakdowns = definition.breakdowns
    if not isinstance(breakdowns, list | tuple) or not all(isinstance(kind, str) for kind in breakdowns):
        errors["breakdowns"] = [_("Give the breakdowns as a list of element kinds.")]
        breakdowns = []
    unknown = [kind for kind in breakdowns if kind not in BREAKDOWN_KINDS]
    if unknown:
        errors["breakdowns"] = [
            _("Unknown breakdown %(kinds)s; use %(choices)s.")
            % {"kinds": ", ".join(unknown), "choices": ", ".join(BREAKDOWN_KINDS)}
        ]
    if definition.source != MANUAL and definition.source not in known:
        # A source kept as it was, that no app registers now (a KPI waiting for its data), is
        # left as it is: there is nothing to check its breakdowns and unit against.
        if before is None or definition.source != before["source"]:
            errors["source"] = [_("Choose a computation of the registry, or “manual”.")]
    elif not unknown:
        offered = supported_breakdowns(definition.source)
        # A breakdown stored before, that the same source does not give (the computation skips
        # it), may stay until someone unticks it; a new one must be given by the source.
        kept = (
            set(before["breakdowns"] or []) if before is not None and definition.source == before["source"] else set()
        )
        refused = [kind for kind in breakdowns if kind not in offered and kind not in kept]
        label = known[definition.source].label if definition.source in known else MANUAL
        if refused:
            errors["breakdowns"] = [
                _("%(source)s cannot break its figures down by %(kinds)s (it offers: %(offered)s).")
                % {
                    "source": label,
                    "kinds": _kind_names(refused),
                    "offered": _kind_names(list(offered)) if offered else _("no breakdown"),
                }
            ]
        computed_unit = known[definition.source].unit if definition.source in known else None
        if computed_unit is not None and definition.unit != computed_unit:
            unit = Unit(computed_unit).label if computed_unit in Unit.values else computed_unit
            errors["unit"] = [_("%(source)s measures in %(unit)s.") % {"source": label, "unit": unit}]
    if before is not None and definition.pk is not None:
        values = KpiValue.objects.filter(definition_id=definition.pk)
        if definition.code != before["code"] and values.exists():
            errors["code"] = [_("The code is fixed once the KPI has values (reports and the API name it).")]
        changed = [name for name in MEANING_FIELDS if getattr(definition, name) != before[name]]
        if changed and values.filter(closed=True).exists():
            for name in changed:
                errors[name] = [
                    _(
                        "This KPI has closed periods: a new %(field)s would make their figures mean something "
                        "else. Make a new KPI instead (and set this one inactive)."
                    )
                    % {"field": getattr(KpiDefinition._meta.get_field(name), "verbose_name", name)}
                ]
    return errors


def _validate_definition(definition: KpiDefinition, before: dict[str, Any] | None) -> None:
    errors: dict[str, list[str]] = {}
    try:
        definition.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for name, messages in _definition_errors(definition, before).items():
        errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    # One order and no repeats, whatever order the boxes were ticked in.
    definition.breakdowns = [kind for kind in BREAKDOWN_KINDS if kind in definition.breakdowns]


def _definition_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(DEFINITION_FIELDS)
    if unknown:
        raise TypeError(f"not fields of a KPI definition: {', '.join(sorted(unknown))}")
    return fields


def _save_definition(definition: KpiDefinition) -> None:
    try:
        with transaction.atomic():
            definition.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("Another KPI has this code.")}) from exc


def definition_create(*, actor: Any, **fields: Any) -> KpiDefinition:
    """Define a KPI (a process owner): its source a computation of the registry or ``manual``,
    its breakdowns among those the source can give, its unit the source's. Audited. Raises
    ``PermissionDenied`` and ``ValidationError`` (per field)."""
    if not can(actor, "add", KpiDefinition):
        raise PermissionDenied
    definition = KpiDefinition(**_definition_fields(fields))
    _validate_definition(definition, before=None)
    with set_actor(actor), transaction.atomic():
        _save_definition(definition)
    return definition


def definition_update(definition: KpiDefinition, *, actor: Any, **fields: Any) -> KpiDefinition:
    """Change a KPI's definition (a process owner). The code is fixed once the KPI has values;
    the unit, source and cycle once it has a closed period (its history would mean something
    else: make a new KPI). Changing one of those while no period is closed drops the values
    of the open periods, which measured the old definition (a computed KPI's are recomputed
    by the periodic check). Audited. Raises ``PermissionDenied`` and ``ValidationError``."""
    if not can(actor, "change", KpiDefinition):
        raise PermissionDenied
    _definition_fields(fields)
    with set_actor(actor), transaction.atomic():
        locked = KpiDefinition.objects.select_for_update().get(pk=definition.pk)
        before = {name: getattr(locked, name) for name in ("code", "breakdowns", *MEANING_FIELDS)}
        for name, value in fields.items():
            setattr(locked, name, value)
        _validate_definition(locked, before=before)
        if any(getattr(locked, name) != before[name] for name in MEANING_FIELDS):
            KpiValue.objects.filter(definition=locked, closed=False).delete()
        _save_definition(locked)
    return locked


def target_end(target: KpiTarget, *, actor: Any, valid_to: date | None) -> KpiTarget:
    """End a target on ``valid_to`` (its last day in force; on or after its first). Moved later,
    it must not run into another target of its scope. Audited. Raises ``PermissionDenied`` and
    ``ValidationError`` on ``valid_to``."""
    if not can(actor, "change", KpiTarget):
        raise PermissionDenied
    if valid_to is None:
        raise ValidationError({"valid_to": _("Give the last day the target is in force.")})
    with set_actor(actor), transaction.atomic():
        locked = KpiTarget.objects.select_for_update().get(pk=target.pk)
        if valid_to < locked.valid_from:
            raise ValidationError(
                {"valid_to": _("The target starts on %(day)s: it cannot end before.") % {"day": locked.valid_from}}
            )
        overlapping = (
            KpiTarget.objects.filter(
                definition_id=locked.definition_id, organisation=locked.organisation_id, service=locked.service_id
            )
            .exclude(pk=locked.pk)
            .exclude(valid_to__lt=locked.valid_from)
            .exclude(valid_from__gt=valid_to)
        )
        if overlapping.exists():
            raise ValidationError({"valid_to": _("Another target of this KPI is in force for part of these dates.")})
        locked.valid_to = valid_to
        locked.full_clean()
        locked.save(update_fields=["valid_to"])
    return locked
