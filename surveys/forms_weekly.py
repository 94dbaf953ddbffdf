"""Forms of weekly visit reports. They parse and validate; ``services.weekly`` does the writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core.forms import BootstrapFormMixin
from itsm.core.models import Department, User

from .choices import WeeklyItemKind


def staff_users():
    """Who may record a visit or own an item: active staff accounts."""
    return User.objects.filter(is_active=True).order_by("username")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class WeeklyReportCreateForm(BootstrapFormMixin, forms.Form):
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.select_related("organisation")
    )
    week_start = forms.DateField(
        label=_("week of"),
        help_text=_("The Monday of the week visited."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    recorder = StaffChoiceField(label=_("recorder"), queryset=staff_users())
    recorded_at = forms.DateTimeField(
        label=_("recorded at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class WeeklyItemForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=WeeklyItemKind.choices)
    text = forms.CharField(label=_("matter"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = StaffChoiceField(label=_("owner"), queryset=staff_users(), required=False)
    resolved = forms.BooleanField(label=_("resolved"), required=False)
    user_confirmed = forms.BooleanField(label=_("confirmed by the user"), required=False)


class WeeklyReportFilterForm(BootstrapFormMixin, forms.Form):
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.select_related("organisation"), required=False
    )
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
