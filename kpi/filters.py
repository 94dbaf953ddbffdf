"""The KPI dashboard's filters: a month (each KPI shows its period holding it: the month, its
quarter, half-year or year) and one element — an organisation, a department or a service —
whose own values the cards then show, for the KPIs broken down by it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers
from itsm.core.choices import OrganisationKind
from itsm.core.forms import BootstrapFormMixin
from itsm.core.pickers import PickerField
from sla.pickers import services

from .models import ElementKind

CUSTOMERS = {"kind": OrganisationKind.CUSTOMER.value}


class DashboardFilterForm(BootstrapFormMixin, forms.Form):
    month = forms.CharField(
        label=_("Month"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-10"}),
        help_text=_("Each KPI shows its period holding this month: the month, its quarter, half-year or year."),
    )
    organisation = PickerField(pickers.organisations, CUSTOMERS, label=_("Organisation"), required=False)
    department = PickerField(
        pickers.departments,
        CUSTOMERS,
        depends={"organisation": "id_organisation"},
        label=_("Department"),
        required=False,
        help_text=_("With a department chosen, its own figures (its organisation's are the organisation's)."),
    )
    service = PickerField(services, label=_("Service"), required=False)

    def clean_month(self) -> date | None:
        text = (self.cleaned_data.get("month") or "").strip()
        if not text:
            return None
        try:
            year, month = text.split("-")
            return date(int(year), int(month), 1)
        except ValueError as exc:
            raise ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-10.")) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("service") and (data.get("organisation") or data.get("department")):
            raise ValidationError(
                _(
                    "Choose an organisation (or one of its departments) or a service: "
                    "figures are kept for one at a time."
                )
            )
        department = data.get("department")
        if department and data.get("organisation") and department.organisation_id != data["organisation"].pk:
            self.add_error("department", _("This department is not one of the chosen organisation's."))
        return data

    def element(self) -> tuple[str, int, str] | None:
        """The element chosen (kind, id, name), the most specific one; None: overall."""
        data = self.cleaned_data
        if data.get("department"):
            department = data["department"]
            return ElementKind.DEPARTMENT, department.pk, f"{department.organisation.name} · {department.name}"
        if data.get("organisation"):
            return ElementKind.ORGANISATION, data["organisation"].pk, data["organisation"].name
        if data.get("service"):
            return ElementKind.SERVICE, data["service"].pk, data["service"].name
        return None
