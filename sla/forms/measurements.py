"""Forms of the measurement and underpinning pages: record a measurement, import a CSV file,
filter the measurement and underpinning lists, link and unlink supporting targets.

They parse and validate input; ``sla.services.measurements`` and ``sla.underpinning`` check
the rules (closed and future months, which targets may underpin which) and do the writes.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from itsm.core.forms import BootstrapFormMixin, CsvUploadForm
from itsm.core.pickers import PickerField

from .. import pickers
from ..choices import AgreementKind, AgreementStatus, TargetUnit
from ..models import ServiceLevelTarget
from ..underpinning import CHECKED_STATUSES, LIVE_STATUSES, UnderpinningStatus, target_label

MONTH_FORMATS = ["%Y-%m", "%Y/%m", "%Y-%m-%d"]


class MonthField(forms.DateField):
    """A month (``<input type="month">``, "YYYY-MM"), cleaned to its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("input_formats", MONTH_FORMATS)
        super().__init__(**kwargs)
        self.error_messages["invalid"] = _("Give a month as YYYY-MM.")

    def to_python(self, value: Any) -> date | None:
        day = super().to_python(value)
        return day.replace(day=1) if day else None


class TargetMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ServiceLevelTarget) -> str:
        calendar = obj.calendar.name if obj.calendar_id and obj.calendar else _("24×7")
        return f"{obj.agreement.number} · {target_label(obj)} ({calendar})"


def measurable_targets() -> QuerySet[ServiceLevelTarget]:
    """Targets a measurement may be recorded for: those of agreements that are not drafts."""
    return (
        ServiceLevelTarget.objects.exclude(agreement__status=AgreementStatus.DRAFT)
        .select_related("agreement", "calendar")
        .order_by("agreement__number", "priority", "metric", "pk")
    )


class MeasurementForm(BootstrapFormMixin, forms.Form):
    """One month's actual of one target (in the target's unit)."""

    target = PickerField(pickers.targets, {"measurable": "1"}, label=_("target"))
    period = MonthField(label=_("month"))
    actual = forms.DecimalField(
        label=_("actual"),
        max_digits=10,
        decimal_places=2,
        min_value=0,
        help_text=_("In the target's unit: minutes, hours, working days or %."),
    )
    sample_size = forms.IntegerField(label=_("cases measured"), min_value=0, required=False)
    note = forms.CharField(label=_("note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(PickerField, self.fields["target"]).queryset = measurable_targets()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target, actual = data.get("target"), data.get("actual")
        if target is not None and actual is not None and target.unit == TargetUnit.PERCENT and actual > 100:
            self.add_error("actual", _("A percentage is at most 100."))
        return data


class MeasurementImportForm(CsvUploadForm):
    """The CSV file of an import (all or nothing)."""


class MeasurementFilterForm(BootstrapFormMixin, forms.Form):
    agreement = PickerField(pickers.agreements, label=_("agreement"), required=False)
    month = MonthField(label=_("month"), required=False)
    breaches = forms.BooleanField(label=_("breaches only"), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(PickerField, self.fields["agreement"]).empty_label = _("All agreements")


class UnderpinningFilterForm(BootstrapFormMixin, forms.Form):
    """Which SLA and which status; by default the problems (missing and weak)."""

    PROBLEMS = "problems"
    ALL = "all"

    agreement = PickerField(
        pickers.agreements,
        {"kind": AgreementKind.SLA.value, "status": ",".join(sorted(CHECKED_STATUSES))},
        label=_("SLA"),
        required=False,
    )
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[
            (PROBLEMS, _("Missing or weak")),
            (UnderpinningStatus.MISSING.value, UnderpinningStatus.MISSING.label),
            (UnderpinningStatus.WEAK.value, UnderpinningStatus.WEAK.label),
            (UnderpinningStatus.SUPPORTED.value, UnderpinningStatus.SUPPORTED.label),
            (ALL, _("All")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(PickerField, self.fields["agreement"]).empty_label = _("All SLAs")

    def statuses(self) -> set[str]:
        wanted = (self.cleaned_data.get("status") if self.is_bound and self.is_valid() else "") or self.PROBLEMS
        if wanted == self.PROBLEMS:
            return {UnderpinningStatus.MISSING.value, UnderpinningStatus.WEAK.value}
        if wanted == self.ALL:
            return set(UnderpinningStatus.values)
        return {wanted}


class SupportLinkForm(forms.Form):
    """Which OLA / UC targets to link under an SLA target (the choices: any target of a live
    OLA or UC; the service refuses one of another metric or priority, with the reason)."""

    supporting = TargetMultipleChoiceField(label=_("underpinning targets"), queryset=ServiceLevelTarget.objects.none())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(TargetMultipleChoiceField, self.fields["supporting"]).queryset = ServiceLevelTarget.objects.filter(
            agreement__kind__in=[AgreementKind.OLA, AgreementKind.UC], agreement__status__in=LIVE_STATUSES
        ).select_related("agreement", "calendar")


class SupportUnlinkForm(forms.Form):
    supporting = forms.ModelMultipleChoiceField(
        label=_("underpinning targets"), queryset=ServiceLevelTarget.objects.all()
    )
