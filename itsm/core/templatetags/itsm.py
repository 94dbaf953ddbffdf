"""Template helpers shared by every app's pages."""

from django import template
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def attr(obj, path: str):
    """Follow a dotted attribute path, calling methods (``department.name``, ``get_kind_display``)."""
    value = obj
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part, None)
        if callable(value) and not isinstance(value, models.Manager):
            value = value()
    return value


@register.filter
def display(value):
    """A value as shown in tables: yes / no for booleans, a dash for nothing."""
    if value is True:
        return format_html('<span class="badge text-bg-success">{}</span>', _("Yes"))
    if value is False:
        return format_html('<span class="text-body-secondary">{}</span>', _("No"))
    if value is None or value == "":
        return "—"
    return value


@register.simple_tag(takes_context=True)
def sort_url(context, field: str) -> str:
    """The list URL sorted by ``field``, toggling the direction when it is already sorted so."""
    request = context["request"]
    query = request.GET.copy()
    current = query.get("sort", "")
    query["sort"] = f"-{field}" if current == field else field
    query.pop("page", None)
    return f"?{query.urlencode()}"
