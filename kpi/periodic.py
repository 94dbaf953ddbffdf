"""The KPIs' periodic check (registered with the core registry, run by Celery beat)."""

from __future__ import annotations

import logging

from django.utils import timezone

from itsm.core.periodic import periodic_check
from itsm.core.periods import period_of, report_due

logger = logging.getLogger(__name__)

# How many periods before the running one are closed when due (a product installed mid-year
# freezes the last ones; earlier ones stay unmeasured rather than computed from today's data).
CLOSE_BACK = 2


@periodic_check("kpi.compute_values")
def compute_values() -> str:
    """Recompute each KPI's open periods (the running one, and an earlier one until its report
    falls due) and forecast the running one (warning its owner once when it heads for a
    miss); freeze a period once its report has fallen due (the 10th / 15th / 20th rule,
    moved past holidays). Twice in a row: the same values, no second freeze."""
    from .forecast import forecast_update
    from .models import MANUAL, KpiDefinition
    from .registry import sources
    from .services import kpi_close, kpi_compute

    today = timezone.localdate()
    computed = closed = forecasts = 0
    known = sources()
    definitions = KpiDefinition.objects.filter(is_active=True).exclude(source=MANUAL)
    unknown = [d.code for d in definitions if d.source not in known]
    for definition in definitions:
        if definition.code in unknown:
            continue
        # Open: the running period and those before it whose report is not due yet (November
        # until 10 December); closed: the ones whose report has fallen due, once.
        period = period_of(definition.cycle, today)
        computed += bool(kpi_compute(definition, period))
        forecasts += forecast_update(definition, period, today) is not None
        period = period.previous()
        while report_due(period) > today:
            computed += bool(kpi_compute(definition, period))
            period = period.previous()
        for _ in range(CLOSE_BACK):
            closed += kpi_close(definition, period)
            period = period.previous()
    # Manual KPIs: the values entered are frozen when the report falls due ("no data" if none).
    from .services import kpi_close_manual, manual_periods_due

    for definition in KpiDefinition.objects.filter(is_active=True, source=MANUAL):
        for due in manual_periods_due(definition, today, back=CLOSE_BACK):
            closed += kpi_close_manual(definition, due)
    summary = f"{computed} running periods computed, {forecasts} forecasts, {closed} periods closed"
    if unknown:
        logger.warning("KPIs with no registered source: %s", ", ".join(unknown))
        summary += f"; no source for {', '.join(unknown)}"
    return summary
