"""Forms of the service catalogue, agreements and targets, measurements and reviews, one module
per area of pages (``catalogue``, ``agreements`` with their targets, ``measurements`` with the
underpinning links, ``reviews``). They parse and validate what a page sends; the services in
``sla/services/`` do every write (no ``form.save()``). No form has a status field: statuses move
only through the workflow services, asked for here by ``TransitionForm``.

This module holds what the areas share: the owner and calendar fields, and the workflow move form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers as core_pickers
from itsm.core.forms import BootstrapFormMixin, bootstrap_widgets
from itsm.core.models import Calendar, User
from itsm.core.pickers import use_picker

from ..workflow import Transition


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


class TransitionForm(BootstrapFormMixin, forms.Form):
    """Asks for what one workflow move requires (an RFC reference, a note).

    Prefixed with the action's name, so several action forms live on one page.
    """

    def __init__(self, *args: Any, transition: Transition, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", transition.action)
        super().__init__(*args, **kwargs)
        self.transition = transition
        if "rfc_ref" in transition.requires:
            self.fields["rfc_ref"] = forms.CharField(label=_("RFC reference"), max_length=60)
        note_required = "note" in transition.requires
        self.fields["note"] = forms.CharField(
            label=_("Reason") if note_required else _("Note"),
            required=note_required,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("Kept in the history."),
        )
        bootstrap_widgets(self)

    def inputs(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name in self.fields}
