"""Computed values: RAG, the target in force, a period computed, closed (frozen with its
records) and revised; a target set."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from itsm.core.audit import set_actor
from itsm.core.periods import Period
from itsm.core.permissions import can

from ..models import MANUAL, Direction, ElementKind, KpiDefinition, KpiTarget, KpiValue, KpiValueRecord, Status
from ..registry import OVERALL, KpiSource, source


def rag(value: Decimal | None, target: Decimal | None, direction: str, tolerance: Decimal) -> str:
    """The status of ``value`` against ``target``: met → green; missed by at most
    ``tolerance`` (in the KPI's unit) → amber; else red. No value → no data; no target → green
    when there is a value (nothing to miss)."""
    if value is None:
        return Status.NO_DATA
    if target is None:
        return Status.GREEN
    gap = target - value if direction == Direction.AT_LEAST else value - target
    if gap <= 0:
        return Status.GREEN
    return Status.AMBER if gap <= tolerance else Status.RED


def target_for(definition: KpiDefinition, day: Any, kind: str = OVERALL, element_id: int = 0) -> Decimal | None:
    """The target in force on ``day``: an organisation's or service's own where the element is
    one, else the KPI's general target."""
    targets = [t for t in definition.targets.all() if t.valid_from <= day and (t.valid_to is None or t.valid_to >= day)]
    scoped = {
        ElementKind.ORGANISATION: lambda t: t.organisation_id == element_id,
        ElementKind.SERVICE: lambda t: t.service_id == element_id,
    }.get(kind)  # type: ignore[call-overload]
    if scoped is not None:
        own = [t for t in targets if scoped(t)]
        if own:
            return own[0].value
    general = [t for t in targets if t.organisation_id is None and t.service_id is None]
    return general[0].value if general else None


def element_labels(kind: str, ids: list[int]) -> dict[int, str]:
    """The names of a breakdown's elements as they stand now (frozen into the values)."""
    if kind == OVERALL or not ids:
        return {0: ""} if kind == OVERALL else {}
    if kind not in (ElementKind.ORGANISATION, ElementKind.DEPARTMENT, ElementKind.SERVICE, ElementKind.TECHNICIAN):
        return {}  # named by its source (a complaint category)
    from itsm.core.models import Department, Organisation, User
    from sla.models import Service

    if kind == ElementKind.ORGANISATION:
        return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
    if kind == ElementKind.DEPARTMENT:
        return {
            d.pk: f"{d.organisation.name} · {d.name}"
            for d in Department.objects.filter(pk__in=ids).select_related("organisation")
        }
    if kind == ElementKind.SERVICE:
        return dict(Service.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}


def _kinds(definition: KpiDefinition, kpi_source: KpiSource) -> list[str]:
    return [OVERALL, *(kind for kind in definition.breakdowns if kind in kpi_source.breakdowns)]


def _measure(definition: KpiDefinition, period: Period) -> tuple[KpiSource, list[dict[str, Any]]]:
    """Every element's figures for ``period``: one grouped query per breakdown."""
    if definition.source == MANUAL:
        raise ValidationError({"source": _("A manual KPI takes its values by form, import or API.")})
    kpi_source = source(definition.source)
    definition = KpiDefinition.objects.prefetch_related("targets").get(pk=definition.pk)
    scale = kpi_source.current_scale()  # once: a function's scale reads the calendar
    rows = []
    for kind in _kinds(definition, kpi_source):
        figures = kpi_source.compute(period, kind)
        ids = [key for key in figures if key]
        labels = (kpi_source.labels(kind, ids) if kpi_source.labels is not None else {}) or element_labels(kind, ids)
        for element_id, figure in figures.items():
            value = kpi_source.value(figure, scale)
            target = target_for(definition, period.end, kind, element_id)
            rows.append(
                {
                    "element_kind": kind,
                    "element_id": element_id,
                    "element_label": labels.get(element_id, ""),
                    "value": value,
                    "numerator": figure.numerator,
                    "denominator": figure.denominator,
                    "target": target,
                    "status": rag(value, target, definition.direction, definition.amber_tolerance),
                }
            )
    if not any(row["element_kind"] == OVERALL for row in rows):
        rows.insert(0, _no_data_row(definition, period))
    return kpi_source, rows


def _no_data_row(definition: KpiDefinition, period: Period) -> dict[str, Any]:
    return {
        "element_kind": OVERALL,
        "element_id": 0,
        "element_label": "",
        "value": None,
        "numerator": Decimal(0),
        "denominator": Decimal(0),
        "target": target_for(definition, period.end),
        "status": Status.NO_DATA,
    }


def _period_fields(period: Period) -> dict[str, Any]:
    return {"period_start": period.start, "period_end": period.end, "period_label": period.label}


def _is_closed(definition: KpiDefinition, period: Period) -> bool:
    return KpiValue.objects.filter(
        definition=definition, period_start=period.start, is_current=True, closed=True
    ).exists()


def kpi_compute(definition: KpiDefinition, period: Period) -> int:
    """Compute and store the values of a period still running (a closed period is left as it
    is: 0). Returns how many values it holds now."""
    kpi_source, rows = _measure(definition, period)
    now = timezone.now()
    with transaction.atomic():
        locked = KpiDefinition.objects.select_for_update().get(pk=definition.pk)
        if _is_closed(locked, period):
            return 0
        current = {
            (v.element_kind, v.element_id): v
            for v in KpiValue.objects.filter(definition=locked, period_start=period.start, is_current=True)
        }
        changed, added = [], []
        for row in rows:
            fields = {**_period_fields(period), **row, "record_model": kpi_source.model}
            value = current.pop((row["element_kind"], row["element_id"]), None)
            if value is None:
                added.append(KpiValue(definition=locked, computed_at=now, **fields))
            elif any(getattr(value, name) != fields[name] for name in _RECOMPUTED):
                for name in _RECOMPUTED:
                    setattr(value, name, fields[name])
                changed.append(value)
        # In bulk, and only what moved: a breakdown by organisation holds thousands of
        # elements, and most of them stand still from one run to the next.
        KpiValue.objects.bulk_update(changed, [*_RECOMPUTED], batch_size=500)
        KpiValue.objects.bulk_create(added, batch_size=1000)
        # Elements with no records any more (a complaint moved to another organisation).
        KpiValue.objects.filter(pk__in=[v.pk for v in current.values()]).delete()
        KpiValue.objects.filter(definition=locked, period_start=period.start, is_current=True).update(computed_at=now)
    return len(rows)


# What a recomputation of a running period rewrites.
_RECOMPUTED = (
    "period_end",
    "period_label",
    "element_label",
    "value",
    "numerator",
    "denominator",
    "target",
    "status",
    "record_model",
)


def _freeze(definition: KpiDefinition, period: Period, *, revision: int, actor: Any, reason: str) -> list[KpiValue]:
    kpi_source, rows = _measure(definition, period)
    now = timezone.now()
    values = KpiValue.objects.bulk_create(
        [
            KpiValue(
                definition=definition,
                **_period_fields(period),
                **row,
                closed=True,
                revision=revision,
                reason=reason,
                computed_at=now,
                computed_by=actor,
                record_model=kpi_source.model,
            )
            for row in rows
        ],
        batch_size=1000,
    )
    by_kind: dict[str, dict[int, int]] = {}
    for value in values:
        by_kind.setdefault(value.element_kind, {})[value.element_id] = value.pk
    for kind, value_ids in by_kind.items():
        _insert_records(_record_pairs(kpi_source, period, kind, value_ids))
    return values


def _record_pairs(kpi_source: KpiSource, period: Period, kind: str, value_ids: dict[int, int]) -> Iterator[tuple]:
    """``(value id, record id)`` of every element of ``kind``: one query for the whole
    breakdown where the source names its column, one per element otherwise."""
    column = (kpi_source.element_fields or {}).get(kind)
    if kind == OVERALL or column is None:
        for element_id, value_id in value_ids.items():
            ids = kpi_source.records(period, kind, element_id).order_by().values_list("pk", flat=True)
            for pk in ids.iterator(chunk_size=5000):
                yield value_id, pk
        return
    records = kpi_source.records(period, OVERALL, 0).filter(**{f"{column}__isnull": False})
    pairs = records.order_by().values_list(column, "pk")
    for element_id, pk in pairs.iterator(chunk_size=5000):
        if element_id in value_ids:
            yield value_ids[element_id], pk


def _insert_records(pairs: Iterator[tuple], batch: int = 5000) -> None:
    """Store the records behind values in batches (memory stays flat for 100,000s of them)."""
    while chunk := list(islice(pairs, batch)):
        KpiValueRecord.objects.bulk_create(
            [KpiValueRecord(value_id=value_id, record_id=pk) for value_id, pk in chunk], ignore_conflicts=True
        )


def kpi_close(definition: KpiDefinition, period: Period) -> bool:
    """Freeze ``period`` (its report has fallen due): computed once more and stored closed with
    the records behind each value. Already closed: nothing (False)."""
    with transaction.atomic():
        locked = KpiDefinition.objects.select_for_update().get(pk=definition.pk)
        if _is_closed(locked, period):
            return False
        KpiValue.objects.filter(definition=locked, period_start=period.start, is_current=True).delete()
        _freeze(locked, period, revision=1, actor=None, reason="")
        # What the forecast said at mid-period, beside what came out (the KPI page).
        from ..forecast import forecast_backtest

        forecast_backtest(locked, period)
    return True


def kpi_revise(definition: KpiDefinition, period: Period, *, actor: Any, reason: str) -> list[KpiValue]:
    """Recompute a closed period as a new revision (a process owner, with a reason); the
    earlier revision stays readable, no longer current."""
    if not can(actor, "change", KpiValue):
        raise PermissionDenied(_("Only a process owner may recompute a closed period."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the closed period is recomputed.")})
    with set_actor(actor), transaction.atomic():
        locked = KpiDefinition.objects.select_for_update().get(pk=definition.pk)
        current = KpiValue.objects.filter(definition=locked, period_start=period.start, is_current=True, closed=True)
        revision = max((v.revision for v in current), default=0)
        if not revision:
            raise ValidationError({"period": _("This period is not closed yet: it is recomputed as it runs.")})
        current.update(is_current=False)
        return _freeze(locked, period, revision=revision + 1, actor=actor, reason=reason)


def target_set(definition: KpiDefinition, *, actor: Any, **fields: Any) -> KpiTarget:
    """Add a target; one scope's targets never overlap in time."""
    if not can(actor, "add", KpiTarget):
        raise PermissionDenied
    target = KpiTarget(definition=definition, **fields)
    target.full_clean()
    overlapping = KpiTarget.objects.filter(
        definition=definition, organisation=target.organisation, service=target.service
    ).exclude(valid_to__lt=target.valid_from)
    if target.valid_to is not None:
        overlapping = overlapping.exclude(valid_from__gt=target.valid_to)
    if overlapping.exists():
        raise ValidationError({"valid_from": _("Another target of this KPI is in force for part of these dates.")})
    with set_actor(actor):
        target.save()
    return target
