"""What KPIs give the improvement register (``improvement.registry``): a period value is a
source of improvement items, and a period that closes red suggests one by itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from improvement.registry import ImprovementSource, Suggestion, intake_rule, register_source

from .models import ElementKind, KpiValue, Status

# How far back the intake looks for periods that closed red (older ones were seen already).
INTAKE_DAYS = 120


def _describe(value: KpiValue, part: object) -> str:
    element = "" if value.element_kind == ElementKind.OVERALL else f" · {value.element_label}"
    return f"{value.definition.name} {value.period_label}{element}"


def _url(value: KpiValue, part: object) -> str:
    return f"{reverse('kpi_detail', args=[value.definition_id])}?{urlencode({'period': value.period_label})}"


def _prefill(value: KpiValue, part: object) -> dict:
    return {
        "title": (
            _("%(kpi)s missed its target in %(period)s") % {"kpi": value.definition.name, "period": value.period_label}
        )[:200],
        "description": _("Value %(value)s against the target %(target)s.")
        % {
            "value": value.value if value.value is not None else "—",
            "target": value.target if value.target is not None else "—",
        },
        "priority": "high" if value.status == Status.RED else "medium",
    }


KPI_VALUE = register_source(
    ImprovementSource(
        kind="kpi_value",
        label=gettext_lazy("KPI period value"),
        model="kpi.kpivalue",
        describe=_describe,
        url=_url,
        prefill=_prefill,
        queryset=lambda: KpiValue.objects.select_related("definition"),
    )
)


@intake_rule("kpi.closed_red")
def closed_red_periods() -> Iterator[Suggestion]:
    """A KPI period that closed red (overall) suggests one item to the KPI's owner."""
    since = timezone.localdate() - timedelta(days=INTAKE_DAYS)
    values = KpiValue.objects.filter(
        element_kind=ElementKind.OVERALL, closed=True, is_current=True, status=Status.RED, period_end__gte=since
    ).select_related("definition", "definition__owner")
    for value in values:
        prefill = _prefill(value, None)
        yield Suggestion(
            # Per KPI and period, whatever revision closed it: a revised value is the same miss.
            key=f"kpi-red:{value.definition_id}:{value.period_start.isoformat()}",
            kind="kpi_value",
            source=value,
            title=prefill["title"],
            description=prefill["description"],
            priority="high",
            owner=value.definition.owner,
        )
