"""The KPIs on the home page (registered with ``itsm.core.home``): the KPIs that need a manager's
eye — off or near target in their latest period, or heading for a miss in the running one —
for the roles that run the relationship from the KPIs (SPEC §6)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.home import HOME_ITEMS, PanelContent, PanelItem, register_panel
from itsm.core.roles import Role as R

from . import selectors
from .models import Status
from .templatetags.kpi import kpi_figure


def kpis_needing_attention(user) -> PanelContent:
    """Cards read as the dashboard reads them (stored values only, constant queries)."""
    items = []
    for card in selectors.dashboard():
        definition, value, forecast = card["definition"], card["current"], card["forecast"]
        off = value is not None and value.status in (Status.RED, Status.AMBER)
        heading = forecast is not None and forecast.heading_for_miss
        if not (off or heading):
            continue
        parts = []
        if off:
            figure = kpi_figure(value.value, definition.unit)
            parts.append(f"{value.period_label}: {figure} · {value.get_status_display()}")
        if heading:
            parts.append(
                _("%(period)s heading for a miss (projected %(value)s)")
                % {"period": forecast.period_label, "value": kpi_figure(forecast.projected, definition.unit)}
            )
        items.append(
            PanelItem(
                label=definition.name,
                url=reverse("kpi_detail", args=[definition.pk]),
                detail=" · ".join(parts),
                overdue=off and value.status == Status.RED,
                badge=str(value.get_status_display()) if off else _("heading for a miss"),
            )
        )
    return PanelContent(count=len(items), items=items[:HOME_ITEMS], url=reverse("kpi_dashboard"))


register_panel(
    "kpi.needing_attention",
    gettext_lazy("KPIs off target or heading for a miss"),
    roles=[R.BR_MANAGER, R.PROCESS_OWNER, R.DEPARTMENT_HEAD, R.MANAGEMENT_REP, R.QUALITY_MANAGER],
    permission="kpi.view_kpidefinition",
    build=kpis_needing_attention,
    empty=gettext_lazy("Every KPI is on target and on course."),
    order=15,
)
