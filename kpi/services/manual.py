"""Manual KPIs: values by form, CSV import and API, and their periods closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from itsm.core.audit import set_actor
from itsm.core.csvimport import read_csv
from itsm.core.periods import Period, closed_periods, period_from_label, period_of, report_due
from itsm.core.permissions import can

from ..models import MANUAL, ElementKind, KpiDefinition, KpiValue, Unit
from ..registry import OVERALL
from .definitions import MANUAL_KINDS
from .values import _is_closed, _no_data_row, _period_fields, element_labels, rag, target_for

# --- manual KPIs ---------------------------------------------------------------------------

IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 5000
# The CSV's columns: (name, required). The order is free; a header row names them.
MANUAL_CSV_COLUMNS = (
    ("period", True),
    ("element_kind", True),
    ("element_id", True),
    ("value", True),
    ("numerator", False),
    ("denominator", False),
    ("reason", False),
)
# How far an entered value may be from numerator ÷ denominator (in the KPI's unit).
AGREEMENT = Decimal("0.01")
_LIMITS = {"value": Decimal(10) ** 12, "numerator": Decimal(10) ** 16, "denominator": Decimal(10) ** 16}
_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class RowError:
    """One problem of an import: the file's row (1: the header), the column and what is wrong."""

    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    stored: list[KpiValue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _ManualRow:
    period: Period
    element_kind: str
    element_id: int
    element_label: str
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    reason: str


def _scale(definition: KpiDefinition) -> Decimal:
    return Decimal(100) if definition.unit == Unit.PERCENT else Decimal(1)


def _require_manual(definition: KpiDefinition) -> None:
    if definition.source != MANUAL:
        raise ValidationError(
            {
                "source": _(
                    "This KPI is computed from its records (%(source)s): its values cannot be entered. Only a "
                    "manual KPI takes values by form, import or API."
                )
                % {"source": definition.source}
            }
        )


def _require_value_writer(actor: Any) -> None:
    if not can(actor, "add", KpiValue):
        raise PermissionDenied(_("Only a process owner enters the values of a manual KPI."))


def _element_labels(wanted: list[tuple[str, int]]) -> dict[str, dict[int, str]]:
    """The names of the elements named, one query per kind."""
    by_kind: dict[str, set[int]] = {}
    for kind, element_id in wanted:
        if kind in MANUAL_KINDS and element_id:
            by_kind.setdefault(kind, set()).add(element_id)
    return {kind: dict(element_labels(kind, sorted(ids))) for kind, ids in by_kind.items()}


def _closed_starts(definition: KpiDefinition) -> set[date]:
    return set(
        KpiValue.objects.filter(definition=definition, is_current=True, closed=True)
        .values_list("period_start", flat=True)
        .distinct()
    )


def _check_manual(
    definition: KpiDefinition,
    *,
    period: str,
    element_kind: str,
    element_id: int | None,
    value: Decimal | None,
    numerator: Decimal | None,
    denominator: Decimal | None,
    reason: str,
    labels: dict[str, dict[int, str]],
    closed: set[date],
    today: date,
) -> tuple[_ManualRow | None, dict[str, str]]:
    """One manual value checked: ``(row, {})`` or ``(None, {field: message})``."""
    errors: dict[str, str] = {}
    label = (period or "").strip()
    found: Period | None = None
    try:
        found = period_from_label(definition.cycle, label)
    except ValueError:
        errors["period"] = _("“%(label)s” is not a %(cycle)s period; write it like %(example)s.") % {
            "label": label,
            "cycle": definition.get_cycle_display(),
            "example": period_of(definition.cycle, today).label,
        }
    if found is not None and found.start > today:
        errors["period"] = _("%(period)s has not begun yet.") % {"period": found.label}
        found = None
    allowed = [OVERALL, *(kind for kind in MANUAL_KINDS if kind in definition.breakdowns)]
    element_id = element_id or 0
    element_label = ""
    if element_kind not in allowed:
        errors["element_kind"] = _("This KPI takes values for %(kinds)s.") % {
            "kinds": ", ".join(f"{kind} ({ElementKind(kind).label})" for kind in allowed)
        }
    elif element_kind == OVERALL:
        if element_id:
            errors["element_id"] = _("The overall value has no element id (leave it blank or 0).")
    elif element_id not in labels.get(element_kind, {}):
        errors["element_id"] = _("No %(kind)s has the id %(id)s.") % {
            "kind": ElementKind(element_kind).label,
            "id": element_id,
        }
    else:
        element_label = labels[element_kind][element_id]
    figures = {"value": value, "numerator": numerator, "denominator": denominator}
    for name, figure in figures.items():
        if figure is None:
            continue
        if not figure.is_finite() or figure < 0:
            errors[name] = _("Give a number of 0 or more.")
        elif figure >= _LIMITS[name]:
            errors[name] = _("The number is too large.")
        else:
            figures[name] = figure.quantize(_PLACES, rounding=ROUND_HALF_UP)
    value, numerator, denominator = figures["value"], figures["numerator"], figures["denominator"]
    if not {"value", "numerator", "denominator"} & set(errors):
        if (numerator is None) != (denominator is None):
            errors["denominator" if denominator is None else "numerator"] = _(
                "Give the numerator and the denominator, or neither."
            )
        elif numerator is None or denominator is None:
            if value is None:
                errors["value"] = _("Give the value, or the numerator and the denominator.")
            else:
                # value = numerator / denominator × scale, as a computed KPI's.
                numerator, denominator = value, _scale(definition)
        elif not denominator:
            if numerator:
                errors["denominator"] = _("A denominator of 0 leaves nothing to divide by.")
            elif value is not None:
                errors["value"] = _("A denominator of 0 means “no data”: leave the value blank.")
        else:
            computed = (numerator / denominator * _scale(definition)).quantize(_PLACES, rounding=ROUND_HALF_UP)
            if value is None:
                value = computed
            elif abs(computed - value) > AGREEMENT:
                errors["value"] = _("The value does not match numerator ÷ denominator (%(computed)s).") % {
                    "computed": computed.normalize()
                }
    reason = (reason or "").strip()
    if found is not None and found.start in closed and not reason:
        errors["reason"] = _(
            "%(period)s is closed: a correction needs a reason (it becomes a new revision; the earlier one "
            "stays readable)."
        ) % {"period": found.label}
    if errors or found is None:
        return None, errors
    return (
        _ManualRow(
            period=found,
            element_kind=element_kind,
            element_id=element_id,
            element_label=element_label,
            value=value,
            numerator=numerator if numerator is not None else Decimal(0),
            denominator=denominator if denominator is not None else Decimal(0),
            reason=reason,
        ),
        {},
    )


def _store_manual(definition: KpiDefinition, row: _ManualRow, *, actor: Any, closed: set[date]) -> KpiValue:
    """Write one checked value: in place in an open period; in a closed one a new revision
    (with its reason), the earlier one kept, no longer current."""
    target = target_for(definition, row.period.end, row.element_kind, row.element_id)
    fields = {
        **_period_fields(row.period),
        "element_kind": row.element_kind,
        "element_id": row.element_id,
        "element_label": row.element_label,
        "value": row.value,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "target": target,
        "status": rag(row.value, target, definition.direction, definition.amber_tolerance),
        "computed_at": timezone.now(),
        "computed_by": actor,
        "record_model": "",
    }
    same = KpiValue.objects.filter(
        definition=definition,
        period_start=row.period.start,
        element_kind=row.element_kind,
        element_id=row.element_id,
    )
    current = same.filter(is_current=True).first()
    if row.period.start not in closed:
        if current is None:
            return KpiValue.objects.create(definition=definition, **fields)
        for name, field_value in fields.items():
            setattr(current, name, field_value)
        current.save()
        return current
    revision = (same.aggregate(latest=Max("revision"))["latest"] or 0) + 1
    same.filter(is_current=True).update(is_current=False)
    return KpiValue.objects.create(definition=definition, **fields, closed=True, revision=revision, reason=row.reason)


def _lock_manual(definition: KpiDefinition) -> KpiDefinition:
    return KpiDefinition.objects.select_for_update().prefetch_related("targets").get(pk=definition.pk)


def manual_value_set(
    definition: KpiDefinition,
    *,
    actor: Any,
    period: str,
    element_kind: str = OVERALL,
    element_id: int | None = 0,
    value: Decimal | None = None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    reason: str = "",
) -> KpiValue:
    """Enter one period's value of a manual KPI (a process owner) for ``period`` (a label of
    the KPI's cycle, begun already) and one element (overall or a breakdown the KPI has).

    Give the value, or the numerator and the denominator (the value is then numerator ÷
    denominator, × 100 for a percentage), or all three if they agree; a value alone is stored
    as ``value / 1`` (``value / 100`` for a percentage), so a denominator of 0 keeps meaning
    "no data" (numerator and denominator 0, no value). The target in force and the status
    come as for a computed KPI. An open period's value is replaced; a closed period's is
    corrected only with a ``reason``, as a new revision. Raises ``PermissionDenied`` and
    ``ValidationError`` (per field)."""
    _require_value_writer(actor)
    _require_manual(definition)
    with set_actor(actor), transaction.atomic():
        locked = _lock_manual(definition)
        closed = _closed_starts(locked)
        row, errors = _check_manual(
            locked,
            period=period,
            element_kind=element_kind,
            element_id=element_id,
            value=value,
            numerator=numerator,
            denominator=denominator,
            reason=reason,
            labels=_element_labels([(element_kind, element_id or 0)]),
            closed=closed,
            today=timezone.localdate(),
        )
        if row is None:
            raise ValidationError(errors)
        return _store_manual(locked, row, actor=actor, closed=closed)


def _read_csv(file: Any) -> list[list[str]]:
    return read_csv(file, max_bytes=IMPORT_MAX_BYTES, max_rows=IMPORT_MAX_ROWS)


def _csv_decimal(text: str) -> Decimal | None:
    """A cell's number (``95.5``, ``95.5 %``); None for a blank cell; ``ValueError`` otherwise."""
    text = text.replace("%", "").replace(" ", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not number.is_finite():
        raise ValueError(text)
    return number


def manual_values_import(definition: KpiDefinition, *, actor: Any, file: Any) -> ImportResult:
    """Import a manual KPI's values from a CSV file, all or nothing (a process owner).

    A header row names the columns (any order): ``period``, ``element_kind`` (overall,
    organisation, department, service, technician), ``element_id`` (blank or 0 for overall),
    ``value``, and optionally ``numerator``, ``denominator`` and ``reason`` (needed to correct
    a closed period). Each row is checked as ``manual_value_set`` checks one value, and the
    same period and element twice is an error; any error → nothing is stored, and every
    row's errors come back in ``ImportResult.errors`` with the row's number in the file.
    Comma, semicolon or tab separated; UTF-8 (with or without BOM) or GB18030; at most
    ``IMPORT_MAX_BYTES`` and ``IMPORT_MAX_ROWS`` rows. Raises ``PermissionDenied``, and
    ``ValidationError`` on ``source`` (not a manual KPI) or ``file`` (not a readable CSV)."""
    _require_value_writer(actor)
    _require_manual(definition)
    records = _read_csv(file)
    result = ImportResult()
    names = dict(MANUAL_CSV_COLUMNS)
    columns: dict[str, int] = {}
    for index, cell in enumerate(records[0]):
        key = cell.strip().casefold()
        if not key:
            continue
        if key not in names:
            result.errors.append(RowError(1, cell, _("Unknown column “%(name)s”.") % {"name": cell}))
        elif key in columns:
            result.errors.append(RowError(1, key, _("The column appears twice.")))
        else:
            columns[key] = index
    for key, required in MANUAL_CSV_COLUMNS:
        if required and key not in columns:
            result.errors.append(RowError(1, key, _("The column is missing.")))
    if result.errors:
        return result

    def cell_of(record: list[str], key: str) -> str:
        index = columns.get(key)
        return record[index] if index is not None and index < len(record) else ""

    parsed: list[tuple[int, dict[str, Any], set[str]]] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(record):
            continue
        fields: dict[str, Any] = {
            "period": cell_of(record, "period"),
            "element_kind": cell_of(record, "element_kind").casefold(),
            "reason": cell_of(record, "reason"),
        }
        unreadable: set[str] = set()
        raw_id = cell_of(record, "element_id")
        fields["element_id"] = int(raw_id) if raw_id.isdigit() else 0
        if raw_id and not raw_id.isdigit():
            result.errors.append(RowError(number, "element_id", _("Give a whole number.")))
            unreadable.add("element_id")
        for name in ("value", "numerator", "denominator"):
            try:
                fields[name] = _csv_decimal(cell_of(record, name))
            except ValueError:
                result.errors.append(
                    RowError(number, name, _("“%(value)s” is not a number.") % {"value": cell_of(record, name)})
                )
                fields[name] = None
                unreadable.update(("value", "numerator", "denominator"))
        parsed.append((number, fields, unreadable))
    if not parsed:
        result.errors.append(RowError(1, "period", _("The file holds no values.")))
        return result
    with set_actor(actor), transaction.atomic():
        locked = _lock_manual(definition)
        closed = _closed_starts(locked)
        labels = _element_labels([(fields["element_kind"], fields["element_id"]) for _n, fields, _u in parsed])
        today = timezone.localdate()
        checked: list[_ManualRow] = []
        seen: dict[tuple[date, str, int], int] = {}
        for number, fields, unreadable in parsed:
            row, errors = _check_manual(locked, **fields, labels=labels, closed=closed, today=today)
            for column, message in errors.items():
                # A cell that is not a number is reported already (and what follows from it is not).
                if column not in unreadable:
                    result.errors.append(RowError(number, column, message))
            if row is None or unreadable:
                continue
            element = (row.period.start, row.element_kind, row.element_id)
            if element in seen:
                twice = _("The same period and element as row %(row)s.") % {"row": seen[element]}
                result.errors.append(RowError(number, "period", twice))
                continue
            seen[element] = number
            checked.append(row)
        if result.errors:
            result.errors.sort(key=lambda error: error.row)
            return result
        result.stored = [_store_manual(locked, row, actor=actor, closed=closed) for row in checked]
    return result


def kpi_close_manual(definition: KpiDefinition, period: Period) -> bool:
    """Freeze a manual KPI's ``period`` (its report has fallen due): the values entered are
    closed as they stand, with the target in force and the status worked out again; no overall
    value entered → an overall "no data" value is frozen. Already closed: nothing (False).
    Raises ``ValidationError`` for a computed KPI (``kpi_close`` closes those)."""
    _require_manual(definition)
    with transaction.atomic():
        locked = _lock_manual(definition)
        if _is_closed(locked, period):
            return False
        values = list(KpiValue.objects.filter(definition=locked, period_start=period.start, is_current=True))
        for value in values:
            value.target = target_for(locked, period.end, value.element_kind, value.element_id)
            value.status = rag(value.value, value.target, locked.direction, locked.amber_tolerance)
            value.closed = True
        KpiValue.objects.bulk_update(values, ["target", "status", "closed"])
        if not any(value.element_kind == OVERALL for value in values):
            KpiValue.objects.create(
                definition=locked,
                **_period_fields(period),
                **_no_data_row(locked, period),
                closed=True,
                computed_at=timezone.now(),
            )
    return True


def manual_periods_due(definition: KpiDefinition, today: date, *, back: int) -> list[Period]:
    """The periods of a manual KPI to freeze on ``today``, oldest first: the last ``back``
    whose report has fallen due (not those that ended before the KPI was defined, unless
    values were entered for them), and any earlier one holding values still open (entered
    afterwards for a past period)."""
    created = timezone.localtime(definition.created_at).date() if definition.created_at else today
    open_starts = set(
        KpiValue.objects.filter(definition=definition, is_current=True, closed=False).values_list(
            "period_start", flat=True
        )
    )
    due = {
        period.start: period
        for period in closed_periods(definition.cycle, today, count=back)
        if period.end >= created or period.start in open_starts
    }
    for start in open_starts - set(due):
        period = period_of(definition.cycle, start)
        if period.start == start and report_due(period) <= today:
            due[start] = period
    return [due[start] for start in sorted(due)]
