"""Forms of the service catalogue pages: a service's description (its moves: ``SlaActionForm``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core.forms import BootstrapFormMixin, bootstrap_widgets

from ..choices import ServiceStatus
from ..models import Service
from ..services.catalogue import SERVICE_FIELDS
from . import _calendar_field, _owner_picker


class ServiceForm(BootstrapFormMixin, forms.ModelForm):
    """A service's description; ``rfc_ref`` is asked for every change of an accepted service."""

    change_rfc = forms.CharField(
        label=_("RFC reference"),
        required=False,
        max_length=60,
        help_text=_("Required to change an accepted service: the RFC that approved the change."),
    )

    class Meta:
        model = Service
        fields = list(SERVICE_FIELDS)
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("description", "standards", "contact_interface", "exceptions", "security")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _owner_picker(self)
        self.fields["calendar"] = _calendar_field(
            label=_("Service hours"), help_text=Service._meta.get_field("calendar").help_text
        )
        if self.instance.pk is not None:
            self.initial["calendar"] = self.instance.calendar_id
        if self.instance.pk is None or self.instance.status == ServiceStatus.PROPOSED:
            del self.fields["change_rfc"]
        else:
            self.fields["change_rfc"].required = True
        bootstrap_widgets(self)

    def service_fields(self, *, changed_only: bool = False) -> dict[str, Any]:
        names = [n for n in SERVICE_FIELDS if not changed_only or n in self.changed_data]
        return {name: self.cleaned_data[name] for name in names}
