"""The registry of KPI computations (the shape of ``itsm.core.periodic``).

Each app registers the figures it can measure in its own ``kpis.py`` (``complaints/kpis.py``,
``surveys/kpis.py``, ``sla/kpis.py``; the improvement module adds its own) with
``@kpi_source(...)``. A source is a function ``(period, breakdown) → {element id: Figures}``:
for the period's records and one breakdown (``overall`` or an element kind it supports), the
numerator and denominator of every element in **one aggregate query** (GROUP BY), never a loop
over records; ``records(period, kind, element_id)`` is the queryset of the records behind a
figure, whose ids a closed value keeps for the drill-down.

A ``KpiDefinition`` names its source by key; its value is ``numerator / denominator`` times
the source's ``scale`` (100 for a percentage; a working day's seconds inverted for a reply
time), and no value at all when the denominator is 0 ("no data", never 0 % or 100 %).

A source may name the ``columns`` its records export with (the drill-down's CSV / XLSX, in the
shape of ``itsm.core.exports``: ``(label, accessor)`` pairs, or a function returning them when
they need something read at export time); without them a record exports as its id and name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

from itsm.core.exports import Column
from itsm.core.periods import Period

OVERALL = "overall"


@dataclass(frozen=True)
class Figures:
    numerator: Decimal
    denominator: Decimal


Compute = Callable[[Period, str], Mapping[int, Figures]]
Records = Callable[[Period, str, int], QuerySet]
Labels = Callable[[str, list[int]], Mapping[int, str]]
Columns = Sequence[Column] | Callable[[], Sequence[Column]]

# A record's export when its source names no columns.
DEFAULT_COLUMNS: tuple[Column, ...] = ((_("ID"), "pk"), (_("Record"), str))


@dataclass(frozen=True)
class KpiSource:
    key: str
    label: str | Promise
    # ``app_label.model`` of the records behind the figures.
    model: str
    compute: Compute
    records: Records
    unit: str
    breakdowns: tuple[str, ...] = ()
    # value = numerator / denominator × scale (100: a percentage); a function where the scale
    # depends on the data (a working day's length in seconds, for a reply time in working days).
    scale: Decimal | Callable[[], Decimal] = Decimal("100")
    description: str = ""
    # Names of a breakdown's elements (organisation names, technicians).
    labels: Labels | None = None
    # The export's columns of a record (see the module); None: its id and name.
    columns: Columns | None = None
    # The column of each breakdown on a record (``{"organisation": "organisation_id"}``): with
    # it, a period closing reads the records behind every element of a breakdown in one query
    # instead of one query per element.
    element_fields: Mapping[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def export_columns(self) -> list[Column]:
        """The columns the records behind a figure export with (read now: a function's
        columns may depend on the data, as a working day's length does)."""
        columns = self.columns() if callable(self.columns) else self.columns
        return list(columns if columns is not None else DEFAULT_COLUMNS)

    def readable_by(self, user: Any) -> bool:
        """Whether ``user`` may open the records behind this source's figures (a department
        head reads the KPIs, not the call-backs behind them)."""
        from django.apps import apps

        from itsm.core.permissions import can

        try:
            return can(user, "view", apps.get_model(self.model))
        except (LookupError, ValueError):
            return False

    def current_scale(self) -> Decimal:
        """The scale now (a function's is read from the data: a working day's length)."""
        return self.scale() if callable(self.scale) else self.scale

    def value(self, figures: Figures, scale: Decimal | None = None) -> Decimal | None:
        """``numerator / denominator × scale``; pass ``scale`` (``current_scale()``) when
        valuing many figures at once, so a function's scale is read once, not per figure."""
        if not figures.denominator:
            return None
        scale = self.current_scale() if scale is None else scale
        return (figures.numerator / figures.denominator * scale).quantize(Decimal("0.0001"))


_registry: dict[str, KpiSource] = {}


def kpi_source(
    key: str,
    *,
    label: str | Promise,
    model: str,
    unit: str,
    records: Records,
    breakdowns: tuple[str, ...] | Mapping[str, str] = (),
    scale: Decimal | Callable[[], Decimal] = Decimal("100"),
    labels: Labels | None = None,
    columns: Columns | None = None,
) -> Callable[[Compute], Compute]:
    """Register the decorated ``compute`` function as the KPI source ``key``. ``breakdowns``:
    the element kinds it can group by, or better, each kind's column on a record (what
    ``grouped`` and ``scope`` take), so a closing period reads each breakdown's records in one
    query."""

    def register(compute: Compute) -> Compute:
        if key in _registry and _registry[key].compute is not compute:
            raise ValueError(f"KPI source {key!r} is registered twice.")
        _registry[key] = KpiSource(
            key=key,
            label=label,
            model=model,
            compute=compute,
            records=records,
            unit=unit,
            breakdowns=tuple(breakdowns),
            scale=scale,
            description=(compute.__doc__ or "").strip(),
            labels=labels,
            columns=columns,
            element_fields=dict(breakdowns) if isinstance(breakdowns, Mapping) else None,
        )
        return compute

    return register


# --- what the sources share: a period's filter, one element's records, the grouped figures ----


def in_period(field: str, period: Period) -> Q:
    """``field`` within the period's local days (``[start, end)`` in the calendar's zone)."""
    start, end = period.bounds()
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def scope(queryset: QuerySet, columns: Mapping[str, str], kind: str, element_id: int) -> QuerySet:
    """The records of one element (``columns``: the column of each breakdown); all for overall."""
    if kind == OVERALL:
        return queryset
    return queryset.filter(**{columns[kind]: element_id})


def grouped(queryset: QuerySet, columns: Mapping[str, str], kind: str, **aggregates: Any) -> dict[int, Figures]:
    """``{element id: Figures(numerator, denominator)}`` in one query: an aggregate for overall
    (``0``), a GROUP BY on the breakdown's column otherwise. ``aggregates`` name ``numerator``
    and ``denominator``."""
    if kind == OVERALL:
        row = queryset.aggregate(**aggregates)
        return {0: Figures(Decimal(row["numerator"] or 0), Decimal(row["denominator"] or 0))}
    column = columns[kind]
    rows = queryset.filter(**{f"{column}__isnull": False}).values(column).annotate(**aggregates).order_by(column)
    return {row[column]: Figures(Decimal(row["numerator"] or 0), Decimal(row["denominator"] or 0)) for row in rows}


def sources() -> dict[str, KpiSource]:
    """Every registered source by key (imports each app's ``kpis`` module first)."""
    autodiscover_modules("kpis")
    return dict(sorted(_registry.items()))


def source(key: str) -> KpiSource:
    return sources()[key]
