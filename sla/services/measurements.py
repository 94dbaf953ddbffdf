"""Every write of monthly measurements: by form, by API (bulk) and by CSV import.

A measurement is the actual of one target for one month (``period``, the month's first day;
any day of the month given is moved to the first). Recording is idempotent by (target,
period): a repeat updates the row, an identical repeat writes nothing. ``met`` is computed,
never given: a time target (minutes, hours, working days) is met when the actual, in the
target's unit, is ≤ the target; a % target when the actual is ≥ it.

Refused, with a message per field (or per row and column for imports): a month in the
future; a month that is *closed* — the agreement's monthly report for it is approved or sent,
so its figures never change; a negative actual, a % above 100. Bulk and CSV writes are
all-or-nothing: every row is checked first, nothing is written when any row is bad, and the
writes run in one transaction that locks the months' reports first (so a report approved
meanwhile cannot slip a change into a closed month). Writes run under ``set_actor`` so the
audit trail names who recorded each figure.

Recording needs ``sla.add_measurement`` and ``sla.change_measurement`` (a repeat changes a
row): ``PermissionDenied`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.audit import set_actor
from itsm.core.csvimport import read_csv
from itsm.core.models import User
from itsm.core.permissions import can

from ..choices import TIME_UNITS, MeasurementSource, Metric, Priority, ReportStatus, TargetUnit
from ..models import Agreement, Measurement, ServiceLevelTarget, SlaReport

__all__ = [
    "CSV_COLUMNS",
    "IMPORT_MAX_BYTES",
    "IMPORT_MAX_ROWS",
    "ImportResult",
    "MeasurementRowsInvalid",
    "RowError",
    "is_met",
    "measurement_bulk_record",
    "measurement_record",
    "measurements_import_csv",
    "month_of",
]

CLOSED_REPORT_STATUSES = frozenset({ReportStatus.APPROVED, ReportStatus.SENT})
HUNDRED = Decimal(100)
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 5000
NOTE_MAX = 300

# Columns of the CSV import, in the template's order: key, label, required.
CSV_COLUMNS: tuple[tuple[str, Any, bool], ...] = (
    ("agreement", gettext_lazy("agreement number"), True),
    ("metric", gettext_lazy("metric"), True),
    ("priority", gettext_lazy("priority"), False),
    ("month", gettext_lazy("month (YYYY-MM)"), True),
    ("actual", gettext_lazy("actual"), True),
    ("sample_size", gettext_lazy("cases measured"), False),
    ("note", gettext_lazy("note"), False),
    ("name", gettext_lazy("measure name"), False),
)
# Header names accepted besides the keys and the labels in each language (Excel users type them).
_HEADER_ALIASES = {
    "agreement": {"agreement number", "number", "协议", "协议编号", "协议号"},
    "metric": {"指标", "度量"},
    "priority": {"优先级"},
    "month": {"period", "月份", "月", "期间"},
    "actual": {"value", "实际", "实际值", "实绩"},
    "sample_size": {"sample size", "samples", "cases", "样本量", "样本数", "案例数"},
    "note": {"notes", "备注", "说明"},
    "name": {"target name", "名称"},
}
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?|\s*月?)")


def month_of(day: date) -> date:
    """The first day of ``day``'s month (the ``period`` of a measurement)."""
    return day.replace(day=1)


def is_met(target: ServiceLevelTarget, actual: Decimal) -> bool:
    """Whether ``actual`` (in the target's unit) meets ``target``: ≤ for time, ≥ for %."""
    if target.unit in TIME_UNITS:
        return actual <= target.value
    return actual >= target.value


def column_label(key: str) -> str:
    for name, label, _required in CSV_COLUMNS:
        if name == key:
            return str(label)
    return key


# --- rows, errors and results ------------------------------------------------------------------


@dataclass
class RowError:
    """One problem: ``row`` as a spreadsheet numbers it (the header is row 1) or, for the API,
    the position in the list (from 0); ``column`` a column key (``CSV_COLUMNS``) or a field."""

    row: int
    column: str
    message: str

    @property
    def column_label(self) -> str:
        return column_label(self.column)

    def __str__(self) -> str:
        return _("Row %(row)s, %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column_label,
            "message": self.message,
        }


class MeasurementRowsInvalid(ValidationError):
    """Some rows of a bulk record are bad; nothing was written. ``row_errors`` lists each."""

    def __init__(self, row_errors: list[RowError]):
        self.row_errors = row_errors
        super().__init__([str(error) for error in row_errors])


@dataclass
class ImportResult:
    """What an import did: counts when it wrote (``ok``), or every row's errors (nothing written)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def recorded(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class _Row:
    """A checked row, ready to write."""

    number: int
    target: ServiceLevelTarget
    period: date
    actual: Decimal
    sample_size: int | None
    note: str


# --- checks shared by every way in -------------------------------------------------------------


def _require(actor: User) -> None:
    if not (can(actor, "add", Measurement) and can(actor, "change", Measurement)):
        raise PermissionDenied(_("Your role may not record measurements."))


def _today() -> date:
    return timezone.localdate()


def _parse_decimal(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "").rstrip("%").strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    return number if number.is_finite() else None


def _actual_errors(target: ServiceLevelTarget, actual: Decimal) -> list[str]:
    if actual < 0:
        return [_("The actual cannot be negative.")]
    if target.unit == TargetUnit.PERCENT and actual > HUNDRED:
        return [_("A percentage is at most 100.")]
    # The column holds 10 digits, 2 after the point. The size is checked first: quantizing a
    # number as large as 1e308 would exceed the decimal context's precision.
    if actual >= Decimal("1e8") or actual != actual.quantize(Decimal("0.01")):
        return [_("Give at most 8 digits before the point and 2 after it.")]
    return []


def _sample_size(value: Any) -> tuple[int | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    number = _parse_decimal(value)
    if number is None or number < 0 or number != number.to_integral_value() or number > 2_147_483_647:
        return None, _("Give a whole number of cases, 0 or more.")
    return int(number), None


def _period_errors(period: date, today: date) -> list[str]:
    if period > month_of(today):
        return [_("%(month)s is in the future.") % {"month": f"{period:%Y-%m}"}]
    return []


def _closed_months(pairs: Iterable[tuple[int, date]], *, lock: bool = False) -> set[tuple[int, date]]:
    """The (agreement id, period) of ``pairs`` whose report is approved or sent, in one query;
    with ``lock``, every existing report of those months is locked until the transaction ends."""
    pairs = set(pairs)
    if not pairs:
        return set()
    condition = Q()
    for agreement_id, period in pairs:
        condition |= Q(agreement_id=agreement_id, period=period)
    reports = SlaReport.objects.filter(condition)
    if lock:
        reports = reports.select_for_update()
    return {
        (agreement_id, period)
        for agreement_id, period, status in reports.values_list("agreement_id", "period", "status")
        if status in CLOSED_REPORT_STATUSES
    }


def _closed_message(target: ServiceLevelTarget, period: date) -> str:
    return _(
        "The %(month)s report of %(agreement)s is approved: the month is closed and its figures no longer change."
    ) % {
        "month": f"{period:%Y-%m}",
        "agreement": target.agreement.number,
    }


def _check_rows(rows: Sequence[_Row], errors: list[RowError], today: date) -> None:
    """Future and closed months, duplicates (target + period) within ``rows``: add to ``errors``."""
    closed = _closed_months((row.target.agreement_id, row.period) for row in rows)
    first_seen: dict[tuple[int, date], int] = {}
    for row in rows:
        for message in _period_errors(row.period, today):
            errors.append(RowError(row.number, "month", message))
        if (row.target.agreement_id, row.period) in closed:
            errors.append(RowError(row.number, "month", _closed_message(row.target, row.period)))
        key = (row.target.pk, row.period)
        if key in first_seen:
            errors.append(
                RowError(
                    row.number,
                    "month",
                    _("Duplicate: row %(row)s already gives this target's %(month)s.")
                    % {"row": first_seen[key], "month": f"{row.period:%Y-%m}"},
                )
            )
        else:
            first_seen[key] = row.number


# --- writing -----------------------------------------------------------------------------------


# Loaded rows: checking they exist would cost a query per measurement.
_KNOWN = ["target", "recorded_by"]


def _save(row: _Row, existing: Measurement | None, source: str, actor: User) -> tuple[Measurement, bool | None]:
    """Create or update the row's measurement; (measurement, created) — created None: unchanged."""
    met = is_met(row.target, row.actual)
    if existing is not None:
        if (existing.actual, existing.sample_size, existing.note, existing.met) == (
            row.actual,
            row.sample_size,
            row.note,
            met,
        ):
            return existing, None
        existing.actual, existing.sample_size, existing.note, existing.met = row.actual, row.sample_size, row.note, met
        existing.source, existing.recorded_by = source, actor
        existing.full_clean(exclude=_KNOWN, validate_unique=False, validate_constraints=False)
        existing.save()
        return existing, False
    measurement = Measurement(
        target=row.target,
        period=row.period,
        actual=row.actual,
        met=met,
        sample_size=row.sample_size,
        note=row.note,
        source=source,
        recorded_by=actor,
    )
    measurement.full_clean(exclude=_KNOWN, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            measurement.save()
    except IntegrityError:
        # Recorded by someone else a moment ago: this one is a repeat, so it updates.
        latest = Measurement.objects.select_for_update().get(target=row.target, period=row.period)
        return _save(row, latest, source, actor)
    return measurement, True


def _write(rows: Sequence[_Row], source: str, actor: User) -> list[tuple[Measurement, bool | None]]:
    """Write ``rows`` in one transaction, after locking their months' reports and re-checking
    that none was closed meanwhile (``MeasurementRowsInvalid`` then; nothing written)."""
    if source not in MeasurementSource.values:
        raise ValidationError({"source": _("Unknown source of measurements.")})
    with transaction.atomic(), set_actor(actor):
        closed = _closed_months(((row.target.agreement_id, row.period) for row in rows), lock=True)
        late = [
            RowError(row.number, "month", _closed_message(row.target, row.period))
            for row in rows
            if (row.target.agreement_id, row.period) in closed
        ]
        if late:
            raise MeasurementRowsInvalid(late)
        existing = {
            (measurement.target_id, measurement.period): measurement
            for measurement in Measurement.objects.select_for_update().filter(
                target_id__in={row.target.pk for row in rows}, period__in={row.period for row in rows}
            )
        }
        return [_save(row, existing.get((row.target.pk, row.period)), source, actor) for row in rows]


# --- one measurement (the form) ----------------------------------------------------------------


def measurement_record(
    *,
    target: ServiceLevelTarget,
    period: date,
    actual: Decimal | int | float | str,
    sample_size: int | None = None,
    note: str = "",
    source: str,
    actor: User,
) -> tuple[Measurement, bool]:
    """Record ``target``'s actual for the month of ``period``; return (measurement, created).

    A second record of the same target and month updates the first (``created`` False); an
    identical one changes nothing. Raises ``PermissionDenied`` (see the module) and
    ``ValidationError`` keyed by field (``period``, ``actual``, ``sample_size``, ``note``) for a
    future or closed month, a bad actual or count, a note longer than 300 characters.
    """
    _require(actor)
    target = ServiceLevelTarget.objects.select_related("agreement").get(pk=target.pk)
    errors: dict[str, list[str]] = {}
    number = _parse_decimal(actual)
    actual_errors = [_("Give a number.")] if number is None else _actual_errors(target, number)
    if actual_errors:
        errors["actual"] = actual_errors
    count, count_error = _sample_size(sample_size)
    if count_error:
        errors["sample_size"] = [count_error]
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = [_("At most %(count)s characters.") % {"count": NOTE_MAX}]
    row = _Row(1, target, month_of(period), number or Decimal(0), count, note)
    row_errors: list[RowError] = []
    _check_rows([row], row_errors, _today())
    for error in row_errors:
        errors.setdefault("period", []).append(error.message)
    if errors:
        raise ValidationError(errors)
    try:
        [(measurement, created)] = _write([row], source, actor)
    except MeasurementRowsInvalid as exc:
        raise ValidationError({"period": [error.message for error in exc.row_errors]}) from exc
    return measurement, bool(created)


# --- many measurements (the API) ---------------------------------------------------------------


@dataclass
class BulkResult:
    """The measurements of a bulk record, in the rows' order, each with created / updated /
    unchanged."""

    items: list[tuple[Measurement, str]] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for _measurement, result in self.items if result == outcome)


def _outcome(created: bool | None) -> str:
    return "unchanged" if created is None else ("created" if created else "updated")


def _parse_period(value: Any) -> date | None:
    if isinstance(value, date):
        return month_of(value)
    match = _MONTH.fullmatch(str(value or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1900:
        return None
    if match.group(3) is not None:
        try:
            date(year, month, int(match.group(3)))
        except ValueError:
            return None
    return date(year, month, 1)


def measurement_bulk_record(*, rows: list[dict[str, Any]], source: str, actor: User) -> BulkResult:
    """Record many actuals at once (the API), all or nothing.

    Each row: ``target`` (a ``ServiceLevelTarget`` or its id), ``period`` (a date in the
    month, or "YYYY-MM"), ``actual``, optionally ``sample_size`` and ``note``. Every row is
    checked first — unknown target, bad or future or closed month, bad actual, a second row
    for the same target and month — and ``MeasurementRowsInvalid`` (a ``ValidationError``
    whose ``row_errors`` give each row's position from 0 and field) is raised with all of them,
    nothing written. At most ``IMPORT_MAX_ROWS`` rows. Idempotent like ``measurement_record``.
    """
    _require(actor)
    if not rows:
        raise ValidationError(_("Give at least one measurement."))
    if len(rows) > IMPORT_MAX_ROWS:
        raise ValidationError(_("At most %(count)s measurements at once.") % {"count": IMPORT_MAX_ROWS})
    ids = set()
    for raw in rows:
        value = raw.get("target") if isinstance(raw, dict) else None
        target_id = value.pk if isinstance(value, ServiceLevelTarget) else value
        if isinstance(target_id, int) and not isinstance(target_id, bool):
            ids.add(target_id)
        elif isinstance(target_id, str) and target_id.isdigit():
            ids.add(int(target_id))
    targets = ServiceLevelTarget.objects.select_related("agreement").in_bulk(ids)
    errors: list[RowError] = []
    checked: list[_Row] = []
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict):
            errors.append(RowError(index, "target", _("Each measurement is an object.")))
            continue
        value = raw.get("target")
        key = value.pk if isinstance(value, ServiceLevelTarget) else value
        target = targets.get(int(key)) if isinstance(key, int | str) and str(key).isdigit() else None
        row_errors = len(errors)
        if target is None:
            errors.append(RowError(index, "target", _("Unknown target.")))
        period = _parse_period(raw.get("period"))
        if period is None:
            errors.append(RowError(index, "period", _("Give the month as YYYY-MM.")))
        actual = _parse_decimal(raw.get("actual")) if raw.get("actual") not in (None, "") else None
        if actual is None:
            errors.append(RowError(index, "actual", _("Give a number.")))
        elif target is not None:
            errors.extend(RowError(index, "actual", message) for message in _actual_errors(target, actual))
        count, count_error = _sample_size(raw.get("sample_size"))
        if count_error:
            errors.append(RowError(index, "sample_size", count_error))
        note = str(raw.get("note") or "").strip()
        if len(note) > NOTE_MAX:
            errors.append(RowError(index, "note", _("At most %(count)s characters.") % {"count": NOTE_MAX}))
        if len(errors) == row_errors and target is not None and period is not None and actual is not None:
            checked.append(_Row(index, target, period, actual, count, note))
    period_errors: list[RowError] = []
    _check_rows(checked, period_errors, _today())
    errors.extend(RowError(error.row, "period", error.message) for error in period_errors)
    if errors:
        raise MeasurementRowsInvalid(sorted(errors, key=lambda error: error.row))
    written = _write(checked, source, actor)
    return BulkResult([(measurement, _outcome(created)) for measurement, created in written])


# --- CSV import --------------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(str(text).replace("\u3000", " ").split()).casefold()


def _header_names() -> dict[str, str]:
    """Every accepted header (normalised) → column key: keys, labels in each language, aliases."""
    names: dict[str, str] = {}
    for key, label, _required in CSV_COLUMNS:
        names[_normal(key)] = key
        names[_normal(key.replace("_", " "))] = key
        for alias in _HEADER_ALIASES.get(key, ()):
            names[_normal(alias)] = key
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                names[_normal(str(label))] = key
    return names


def _choice_names(choices: Any) -> dict[str, str]:
    """Codes and labels (in each language) of a choice set → code."""
    names: dict[str, str] = {}
    for code, label in choices.choices:
        names[_normal(code)] = code
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                names[_normal(str(label))] = code
    return names


def _read_csv(file: Any) -> list[list[str]]:
    return read_csv(file, max_bytes=IMPORT_MAX_BYTES, max_rows=IMPORT_MAX_ROWS)


def _columns(header: list[str], errors: list[RowError]) -> dict[str, int]:
    names = _header_names()
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        if not cell.strip():
            continue
        key = names.get(_normal(cell))
        if key is None:
            errors.append(RowError(1, cell.strip(), _("Unknown column “%(name)s”.") % {"name": cell.strip()}))
        elif key in columns:
            errors.append(RowError(1, key, _("The column appears twice.")))
        else:
            columns[key] = index
    for key, _label, required in CSV_COLUMNS:
        if required and key not in columns:
            errors.append(RowError(1, key, _("The column is missing.")))
    return columns


def _find_target(
    agreement: Agreement, metric: str, priority: str, name: str
) -> tuple[ServiceLevelTarget | None, str | None]:
    matches = [
        target
        for target in agreement.targets.all()
        if target.metric == metric and target.priority == priority and (not name or _normal(target.name) == name)
    ]
    if len(matches) == 1:
        return matches[0], None
    values = {
        "agreement": agreement.number,
        "priority": priority or _("no priority"),
        "metric": Metric(metric).label,
    }
    if not matches:
        return None, _("%(agreement)s has no %(metric)s target for %(priority)s.") % values
    return None, _("%(agreement)s has several %(metric)s targets for %(priority)s: give the measure name.") % values


def measurements_import_csv(*, file: Any, actor: User) -> ImportResult:
    """Import monthly actuals from a CSV file, all or nothing.

    A header row names the columns (any order; the keys of ``CSV_COLUMNS``, their labels in
    English or Chinese): agreement number, metric, priority, month (YYYY-MM), actual, and
    optionally sample size, note and — for another measure — its name. Comma, semicolon or
    tab separated; UTF-8 with or without BOM, or GB18030; at most ``IMPORT_MAX_BYTES`` and
    ``IMPORT_MAX_ROWS`` rows. Blank lines and rows whose actual is blank are skipped (the
    template lists every target with the actual left blank).

    Every row is checked first; any error (unknown agreement or target, bad month, not a
    number, future or closed month, the same target and month twice) comes back in
    ``ImportResult.errors`` with its row and column, and nothing is written. Raises
    ``PermissionDenied`` (see the module) and ``ValidationError`` on ``file`` for a file
    that is too large, empty, not text or not CSV.
    """
    _require(actor)
    records = _read_csv(file)
    result = ImportResult()
    columns = _columns(records[0], result.errors)
    if result.errors:
        return result

    def cell(record: list[str], key: str) -> str:
        index = columns.get(key)
        return record[index].strip() if index is not None and index < len(record) else ""

    data = [(number, record) for number, record in enumerate(records[1:], start=2) if any(c.strip() for c in record)]
    numbers = {cell(record, "agreement") for _number, record in data} - {""}
    agreements = {
        agreement.number.casefold(): agreement
        for agreement in Agreement.objects.filter(
            Q(number__in=numbers) | Q(number__in={number.upper() for number in numbers})
        ).prefetch_related("targets")
    }
    metrics = _choice_names(Metric)
    priorities = _choice_names(Priority)
    checked: list[_Row] = []
    for number, record in data:
        if not cell(record, "actual"):
            result.skipped += 1
            continue
        before = len(result.errors)

        def error(column: str, message: str, row: int = number) -> None:
            result.errors.append(RowError(row, column, message))

        agreement_number = cell(record, "agreement")
        agreement = agreements.get(agreement_number.casefold())
        if not agreement_number:
            error("agreement", _("Give the agreement number."))
        elif agreement is None:
            error("agreement", _("Unknown agreement “%(number)s”.") % {"number": agreement_number})
        metric = metrics.get(_normal(cell(record, "metric")))
        if metric is None:
            error(
                "metric",
                _("Unknown metric “%(value)s”; use one of %(choices)s.")
                % {"value": cell(record, "metric"), "choices": ", ".join(Metric.values)},
            )
        raw_priority = cell(record, "priority")
        priority = priorities.get(_normal(raw_priority)) if raw_priority else ""
        if priority is None:
            error(
                "priority", _("Unknown priority “%(value)s”; use P1 to P4 or leave it blank.") % {"value": raw_priority}
            )
        target = None
        if agreement is not None and metric is not None and priority is not None:
            target, problem = _find_target(agreement, metric, priority, _normal(cell(record, "name")))
            if problem:
                error("metric", problem)
        period = _parse_period(cell(record, "month"))
        if period is None:
            error("month", _("“%(value)s” is not a month; write it as YYYY-MM.") % {"value": cell(record, "month")})
        actual = _parse_decimal(cell(record, "actual"))
        if actual is None:
            error("actual", _("“%(value)s” is not a number.") % {"value": cell(record, "actual")})
        elif target is not None:
            for message in _actual_errors(target, actual):
                error("actual", message)
        count, count_error = _sample_size(cell(record, "sample_size"))
        if count_error:
            error("sample_size", count_error)
        note = cell(record, "note")
        if len(note) > NOTE_MAX:
            error("note", _("At most %(count)s characters.") % {"count": NOTE_MAX})
        if len(result.errors) == before and target is not None and period is not None and actual is not None:
            checked.append(_Row(number, target, period, actual, count, note))
    _check_rows(checked, result.errors, _today())
    if result.errors:
        result.errors.sort(key=lambda problem: problem.row)
        return result
    if not checked:
        result.errors.append(RowError(1, "actual", _("The file holds no measurement (every actual is blank).")))
        return result
    try:
        written = _write(checked, MeasurementSource.CSV, actor)
    except MeasurementRowsInvalid as exc:
        result.errors = exc.row_errors
        return result
    for _measurement, created in written:
        if created is None:
            result.unchanged += 1
        elif created:
            result.created += 1
        else:
            result.updated += 1
    return result


def import_template_rows(targets: Iterable[ServiceLevelTarget], period: date) -> list[list[str]]:
    """The CSV template: the header, then one row per target for ``period`` with the actual blank."""
    rows = [[key for key, _label, _required in CSV_COLUMNS]]
    for target in targets:
        rows.append(
            [
                target.agreement.number,
                target.metric,
                target.priority,
                f"{period:%Y-%m}",
                "",
                "",
                "",
                target.name if target.metric == Metric.CUSTOM else "",
            ]
        )
    return rows
