"""How a KPI figure and its status are shown: the value in its unit, the status as a word and an
icon as well as a colour (never colour alone)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..models import Status, Unit

register = template.Library()

# status → (Bootstrap colour, icon)
BADGES = {
    Status.GREEN: ("success", "✓"),
    Status.AMBER: ("warning", "!"),
    Status.RED: ("danger", "✗"),
    Status.NO_DATA: ("secondary", "–"),
}


@register.filter
def kpi_figure(value: Decimal | None, unit: str) -> str:
    """``95.2 %``, ``0.36 working days``, ``12``, ``4.3 / 5``; ``—`` for no value."""
    if value is None:
        return "—"
    if unit == Unit.PERCENT:
        return f"{value:.1f} %"
    if unit == Unit.COUNT:
        return f"{value:.0f}"
    if unit == Unit.RATING:
        return f"{value:.1f} / 5"
    if unit == Unit.WORKING_DAYS:
        return _("%(value)s working days") % {"value": f"{value:.2f}"}
    return _("%(value)s hours") % {"value": f"{value:.1f}"}


_UNSET = object()


@register.simple_tag
def kpi_status(status: str, target: object = _UNSET) -> str:
    """The status as a badge with its icon and its word. Given the value's ``target`` and it is
    none (a count kept without one), a value is "no target" rather than "on target"."""
    if target is None and status == Status.GREEN:
        return format_html(
            '<span class="badge text-bg-light border" data-status="no_target">'
            '<span aria-hidden="true">·</span> {}</span>',
            _("no target"),
        )
    colour, icon = BADGES.get(status, BADGES[Status.NO_DATA])  # type: ignore[call-overload]
    text_class = "text-dark" if colour == "warning" else ""
    return format_html(
        '<span class="badge text-bg-{} {}" data-status="{}"><span aria-hidden="true">{}</span> {}</span>',
        colour,
        text_class,
        status,
        icon,
        Status(status).label if status in Status.values else status,
    )


@register.filter
def kpi_share(fraction: Decimal | None) -> str:
    """A share of a period as a whole percentage: ``0.4500`` → ``45 %``."""
    if fraction is None:
        return "—"
    return f"{fraction * 100:.0f} %"
