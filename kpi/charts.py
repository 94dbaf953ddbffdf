"""The KPI charts (Vega-Lite specs from ``itsm.core.charts``, drawn with ``{% chart %}``): a KPI's
trend on its page and the sparkline on its dashboard card.

Each point is one overall period value: its status shows as its colour *and* its shape (never
colour alone), named in the legend and the tooltip with the period, the value and the target;
a click on it (or its link in the figures table) opens the records behind the value. The target
in force each period is a dashed line. A running period's forecast is a hollow point with its
range. Only stored values are read: building a spec runs no query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from itsm.core import charts

from .models import KpiDefinition, KpiValue, Status, Unit
from .templatetags.kpi import kpi_figure

# status → (colour, Vega symbol): the shapes differ as the colours do.
STATUS_STYLES = {
    Status.GREEN: ("#198754", "circle"),
    Status.AMBER: ("#D39E00", "triangle-up"),
    Status.RED: ("#DC3545", "diamond"),
    Status.NO_DATA: ("#6C757D", "square"),
}


def _styles(history: Sequence[KpiValue]) -> dict[str, charts.PointStyle]:
    """The styles of the statuses the points have, in the order of ``STATUS_STYLES`` (the legend
    names only those shown)."""
    present = {value.status for value in history}
    return {
        status.value: charts.PointStyle(str(status.label), colour, shape)
        for status, (colour, shape) in STATUS_STYLES.items()
        if status in present
    }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _status_word(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def _points(definition: KpiDefinition, history: Sequence[KpiValue], links: bool) -> list[charts.TrendPoint]:
    """``links``: each point opens the records behind it (only for a reader allowed to see them)."""
    unit = definition.unit
    return [
        charts.TrendPoint(
            value.period_label,
            _float(value.value),
            value_label=kpi_figure(value.value, unit) if value.value is not None else None,
            href=reverse("kpi_records", args=[definition.pk, value.pk]) if links else None,
            target=_float(value.target),
            style=value.status,
            cells=(kpi_figure(value.target, unit), _status_word(value.status)),
        )
        for value in history
    ]


def _get(forecast: Any, name: str) -> Any:
    if isinstance(forecast, Mapping):
        return forecast.get(name)
    return getattr(forecast, name, None)


def _forecast(definition: KpiDefinition, forecast: Any) -> charts.Forecast | None:
    """A forecast given as a dict (``period_label``, ``projected``, ``low``, ``high``) or a
    ``KpiForecast``; None when it projects nothing yet."""
    if forecast is None or _get(forecast, "projected") is None:
        return None
    unit = definition.unit
    projected, low, high = (_get(forecast, name) for name in ("projected", "low", "high"))
    text = _("projected %(value)s (range %(low)s – %(high)s)") % {
        "value": kpi_figure(projected, unit),
        "low": kpi_figure(low, unit),
        "high": kpi_figure(high, unit),
    }
    return charts.Forecast(str(_get(forecast, "period_label")), float(projected), _float(low), _float(high), text)


def _axis_title(definition: KpiDefinition) -> str:
    return str(Unit(definition.unit).label) if definition.unit in Unit.values else ""


def trend_spec(
    definition: KpiDefinition, history: Sequence[KpiValue], forecast: Any = None, *, links: bool = True
) -> dict[str, Any]:
    """The KPI's trend over ``history`` (its overall values, oldest first), the target in force
    each period dashed, each point coloured and shaped by its status, with the running period's
    ``forecast`` when one is given."""
    return charts.trend_spec(
        _points(definition, history, links),
        title=_("%(name)s by period") % {"name": definition.name},
        styles=_styles(history),
        columns=[pgettext("KPI", "Target"), _("Status")],
        forecast=_forecast(definition, forecast),
        period_title=pgettext("KPI", "Period"),
        value_title=_("Value"),
        axis_title=_axis_title(definition),
        width=640,
        height=220,
    )


def sparkline_spec(definition: KpiDefinition, history: Sequence[KpiValue], *, links: bool = True) -> dict[str, Any]:
    """The small trend of a dashboard card (``history`` oldest first): no axes; the figures
    (period, value, target, status) stay in its table."""
    return charts.sparkline_spec(
        _points(definition, history, links),
        title=_("%(name)s: the last periods") % {"name": definition.name},
        styles=_styles(history),
        columns=[pgettext("KPI", "Target"), _("Status")],
        width=220,
        height=40,
    )
