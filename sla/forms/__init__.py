"""Forms of the service catalogue, agreements and targets, measurements and reviews, one module
per area of pages (``catalogue``, ``agreements`` with their targets, ``measurements`` with the
underpinning links, ``reviews``). They parse and validate what a page sends; the services in
``sla/services/`` do every write (no ``form.save()``). No form has a status field: statuses move
only through the workflow services, asked for here by ``SlaActionForm``.

This module holds what the areas share: the owner and calendar fields, and the workflow move form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers as core_pickers
from itsm.core.forms import TransitionForm
from itsm.core.models import Calendar, User
from itsm.core.pickers import use_picker


def _choices(form: forms.BaseForm, name: str) -> Any:
    """A choice field of ``form`` (typed loosely: its ``queryset`` / ``choices`` are set here)."""
    return form.fields[name]


ACTIVE = {"active": "1"}


def _users():
    return User.objects.filter(is_active=True).order_by("username")


def _owner_picker(form: forms.BaseForm) -> None:
    field = _choices(form, "owner")
    field.queryset = _users()
    use_picker(field, core_pickers.users, ACTIVE)


def _calendar_field(**kwargs: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Calendar.objects.order_by("-is_default", "name"),
        required=False,
        empty_label=_("24×7 (around the clock)"),
        **kwargs,
    )


class SlaActionForm(TransitionForm):
    """Asks for what one catalogue or agreement move requires (an RFC reference, a note)."""

    input_fields = {"rfc_ref": lambda: forms.CharField(label=_("RFC reference"), max_length=60)}
