"""Forms of the KPI management pages: a definition, a target, the end of a target, a manual
KPI's value and its CSV import.

They parse input; ``kpi.services`` checks the rules (breakdowns the source can give, what a
closed period fixes, overlapping targets, closed manual periods) and does the writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core import pickers
from itsm.core.forms import BootstrapFormMixin, CsvUploadForm, bootstrap_widgets
from itsm.core.pickers import PickerField, use_picker
from sla import pickers as sla_pickers

from .models import MANUAL, ElementKind, KpiDefinition
from .registry import OVERALL, sources
from .services import BREAKDOWN_KINDS, DEFINITION_FIELDS, MANUAL_KINDS

MANUAL_LABEL = _("Manual: values entered by form, CSV import or API")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def source_choices() -> list[tuple[str, Any]]:
    """Every computation of the registry (``key → label``), then "manual"."""
    return [(key, f"{kpi_source.label} ({key})") for key, kpi_source in sources().items()] + [(MANUAL, MANUAL_LABEL)]


class KpiDefinitionForm(BootstrapFormMixin, forms.ModelForm):
    """A KPI's definition. ``code_fixed``: the KPI has values, its code no longer changes."""

    source = forms.ChoiceField(
        label=_("Computed from"),
        help_text=_(
            "Fixed, like the unit and the cycle, once a period is closed. Changed before, the open periods' "
            "values are dropped: they measured the old definition."
        ),
    )
    breakdowns = forms.MultipleChoiceField(
        label=_("Breakdowns"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only those the source can give (see the table below); a manual KPI: any but the category."),
    )

    class Meta:
        model = KpiDefinition
        fields = list(DEFINITION_FIELDS)
        widgets = {"formula": forms.Textarea(attrs={"rows": 2}), "measurement": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, code_fixed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = source_choices()
        stored = getattr(self.instance, "source", "")
        if stored and stored not in dict(choices):
            # A source no app registers now (a KPI waiting for its data) stays choosable as it is.
            choices.append((stored, _("%(key)s (not registered)") % {"key": stored}))
        self.fields["source"].choices = [("", "---------"), *choices]  # type: ignore[attr-defined]
        self.fields["breakdowns"].choices = [(kind, ElementKind(kind).label) for kind in BREAKDOWN_KINDS]  # type: ignore[attr-defined]
        self.fields["breakdowns"].widget.attrs["class"] = "form-check-input"
        use_picker(self.fields["owner"], pickers.users, {"active": "1"})
        if code_fixed:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("Fixed: the KPI has values (reports and the API name it by its code).")

    def definition_fields(self) -> dict[str, Any]:
        """What the services write: every field but a fixed code."""
        return {name: self.cleaned_data[name] for name in DEFINITION_FIELDS if not self.fields[name].disabled}


class TargetForm(BootstrapFormMixin, forms.Form):
    """A new target: for everyone, one organisation or one service, from a day (to a day)."""

    prefix = "target"
    SCOPES = [
        ("all", _("Everyone")),
        (ElementKind.ORGANISATION.value, _("One organisation")),
        (ElementKind.SERVICE.value, _("One service")),
    ]

    value = forms.DecimalField(label=pgettext_lazy("KPI", "Target"), max_digits=12, decimal_places=4)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(
        label=_("Valid to"), required=False, widget=DATE, help_text=_("Empty: until further notice.")
    )
    scope = forms.ChoiceField(label=_("For"), choices=SCOPES, initial="all")
    organisation = PickerField(pickers.organisations, label=_("Organisation"), required=False)
    service = PickerField(sla_pickers.services, label=_("Service"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        for name in (ElementKind.ORGANISATION, ElementKind.SERVICE):
            if scope == name and not data.get(name):
                self.add_error(name, _("Choose the %(what)s this target is for.") % {"what": ElementKind(name).label})
            elif scope != name:
                data[name] = None
        return data

    def target_fields(self) -> dict[str, Any]:
        names = ("value", "valid_from", "valid_to", "organisation", "service")
        return {name: self.cleaned_data.get(name) for name in names}


class TargetEndForm(BootstrapFormMixin, forms.Form):
    """The last day a target is in force."""

    valid_to = forms.DateField(label=_("Last day in force"), widget=DATE)


class ManualValueForm(BootstrapFormMixin, forms.Form):
    """One period's value of a manual KPI for one element (the KPI's breakdowns only)."""

    prefix = "value"
    PICKERS: ClassVar[dict[str, Callable[[], PickerField]]] = {
        ElementKind.ORGANISATION: lambda: PickerField(pickers.organisations, label=_("Organisation"), required=False),
        ElementKind.DEPARTMENT: lambda: PickerField(pickers.departments, label=_("Department"), required=False),
        ElementKind.SERVICE: lambda: PickerField(sla_pickers.services, label=_("Service"), required=False),
        ElementKind.TECHNICIAN: lambda: PickerField(
            pickers.users, {"active": "1"}, label=_("Technician"), required=False
        ),
    }

    period = forms.CharField(label=pgettext_lazy("KPI", "Period"), max_length=12)
    element_kind = forms.ChoiceField(label=_("For"))
    value = forms.DecimalField(label=_("Value"), required=False, min_value=0, max_digits=16, decimal_places=4)
    numerator = forms.DecimalField(label=_("Numerator"), required=False, min_value=0, max_digits=20, decimal_places=4)
    denominator = forms.DecimalField(
        label=_("Denominator"), required=False, min_value=0, max_digits=20, decimal_places=4
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed for a closed period: the correction becomes a new revision, the earlier one stays."),
    )

    def __init__(self, *args: Any, definition: KpiDefinition, example: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = [kind for kind in MANUAL_KINDS if kind in definition.breakdowns]
        self.fields["element_kind"].choices = [  # type: ignore[attr-defined]
            (OVERALL, ElementKind.OVERALL.label),
            *((kind, ElementKind(kind).label) for kind in self.kinds),
        ]
        self.fields["period"].help_text = _("A period of the KPI's cycle (%(cycle)s), e.g. %(example)s.") % {
            "cycle": definition.get_cycle_display(),
            "example": example,
        }
        self.fields["value"].help_text = _(
            "Give the value, or the numerator and the denominator (the value is then worked out), or all three."
        )
        # The element pickers after the kind, before the figures.
        figures = {name: self.fields.pop(name) for name in ("value", "numerator", "denominator", "reason")}
        for kind in self.kinds:
            self.fields[kind] = self.PICKERS[kind]()
        self.fields.update(figures)
        self.fields["period"].widget.attrs["placeholder"] = example
        bootstrap_widgets(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("element_kind")
        if kind in self.kinds and not data.get(kind):
            self.add_error(kind, _("Choose the %(what)s.") % {"what": ElementKind(kind).label})
        return data

    def value_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["element_kind"]
        element = data.get(kind) if kind in self.kinds else None
        return {
            "period": data["period"],
            "element_kind": kind,
            "element_id": element.pk if element is not None else 0,
            "value": data.get("value"),
            "numerator": data.get("numerator"),
            "denominator": data.get("denominator"),
            "reason": data.get("reason", ""),
        }


class ManualImportForm(CsvUploadForm):
    """The CSV file of an import (all or nothing)."""


class RevisionForm(BootstrapFormMixin, forms.Form):
    """A closed period recomputed as a new revision (a process owner, with a reason)."""

    reason = forms.CharField(
        label=_("Why is the closed period recomputed?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the new revision; the earlier one stays readable."),
    )
