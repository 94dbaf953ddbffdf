"""Forms of the core records. They parse and validate; services do the writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import pickers
from .models import Calendar, CalendarOverride, Contact, Department, Organisation
from .pickers import use_picker


def bootstrap_widgets(form: forms.BaseForm) -> forms.BaseForm:
    """Give every widget of ``form`` its Bootstrap class (edit forms and filter forms alike)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        if css not in widget.attrs.get("class", ""):
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
    return form


class BootstrapFormMixin:
    """Render fields uniformly: every widget gets its Bootstrap class."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap_widgets(self)


class OrganisationForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "code", "kind", "is_key_customer", "address", "notes", "is_active"]


class DepartmentForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Department
        fields = ["organisation", "name", "weekly_visits"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_picker(self.fields["organisation"], pickers.organisations)


class ContactForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "organisation",
            "department",
            "name",
            "email",
            "phone",
            "is_vip",
            "preferred_language",
            "unsubscribed",
            "is_active",
            "notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(is_active=True)
        self.fields["department"].queryset = Department.objects.select_related("organisation")
        # Type-ahead pickers; the department one searches within the organisation chosen.
        use_picker(self.fields["organisation"], pickers.organisations, {"active": "1"})
        use_picker(
            self.fields["department"], pickers.departments, depends={"organisation": self["organisation"].auto_id}
        )

    def clean(self):
        cleaned = super().clean()
        # Shown next to the email field, where the API reports it too.
        if not cleaned.get("email") and not cleaned.get("phone") and "email" not in self.errors:
            self.add_error("email", _("Give an email address or a phone number."))
        return cleaned


class CalendarForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Calendar
        fields = ["name", "country", "subdivision", "time_zone", "work_start", "work_end", "always_open"]
        widgets = {
            "work_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "work_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("work_start"), cleaned.get("work_end")
        # The model's check constraint says the same, but only as a form-wide error.
        if start is not None and end is not None and end <= start:
            self.add_error("work_end", _("Working hours must end after they start."))
        return cleaned


class CalendarOverrideForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = CalendarOverride
        fields = ["date", "is_working_day", "reason"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
