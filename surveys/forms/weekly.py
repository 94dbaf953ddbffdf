"""Forms of weekly visit reports. They parse and validate; ``services.weekly`` does the writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers
from itsm.core.forms import BootstrapFormMixin
from itsm.core.models import User
from itsm.core.pickers import PickerField

from ..choices import WeeklyItemKind

ACTIVE_STAFF = {"active": "1"}  # who may record a visit or own an item: active staff accounts


class WeeklyReportCreateForm(BootstrapFormMixin, forms.Form):
    department = PickerField(pickers.departments, label=_("department"))
    week_start = forms.DateField(
        label=_("week of"),
        help_text=_("The Monday of the week visited."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    recorder = PickerField(pickers.users, ACTIVE_STAFF, label=_("recorder"))
    recorded_at = forms.DateTimeField(
        label=_("recorded at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class WeeklyItemForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=WeeklyItemKind.choices)
    text = forms.CharField(label=_("matter"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = PickerField(pickers.users, ACTIVE_STAFF, label=_("owner"), required=False)
    resolved = forms.BooleanField(label=_("resolved"), required=False)
    user_confirmed = forms.BooleanField(label=_("confirmed by the user"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An item's owner handed in as a row (loaded with the items) is drawn without a query
        # of its own: one form per item stays one query per page.
        owner = self.initial.get("owner")
        if isinstance(owner, User):
            self.fields["owner"].widget.offered = [owner]  # type: ignore[attr-defined]


class WeeklyReportFilterForm(BootstrapFormMixin, forms.Form):
    department = PickerField(pickers.departments, label=_("department"), required=False)
    week = forms.DateField(
        label=_("week of"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    state = forms.ChoiceField(
        label=_("state"),
        required=False,
        choices=[
            ("", _("any")),
            ("open", _("not submitted")),
            ("submitted", _("submitted")),
            ("late", _("late")),
        ],
    )
