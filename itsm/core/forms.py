"""Forms of the core records. They parse and validate; services do the writes."""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import pickers
from .models import Calendar, CalendarOverride, Contact, Department, Organisation
from .pickers import use_picker
from .uploads import validate_upload


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


class CsvUploadForm(BootstrapFormMixin, forms.Form):
    """The file of an all-or-nothing CSV import (read with ``itsm.core.csvimport.read_csv``)."""

    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 (with or without BOM) or GB18030, comma separated, with a header row; at most 2 MB."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            validate_upload(upload)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("file", exc.messages)) from exc
        if not (upload.name or "").lower().endswith((".csv", ".txt")):
            raise ValidationError(_("Upload a .csv file."))
        return upload


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


class TransitionForm(BootstrapFormMixin, forms.Form):
    """Asks for what one workflow action requires or accepts, plus a note (the kit's page form).

    Prefixed with the action's name, so several action forms live on one page. A machine's
    subclass names a field factory per input in ``input_fields`` (``{"rfc_ref": lambda: …}``),
    the note's labels and help, and adds any input it builds itself in ``add_inputs``
    (``own_inputs`` are skipped by the loop). Each input starts from the record's value.
    """

    input_fields: ClassVar[Mapping[str, Callable[[], forms.Field]]] = {}
    own_inputs: ClassVar[tuple[str, ...]] = ()
    note_label: Any = _("Note")
    note_label_required: Any = _("Reason")
    note_help: Any = _("Kept in the history.")
    note_help_required: Any = _("Kept in the history.")
    note_max_length: int | None = 4000

    def __init__(self, *args: Any, transition: Any, record: Any = None, user: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", transition.action)
        super().__init__(*args, **kwargs)
        self.transition = transition
        for name in dict.fromkeys((*transition.requires, *transition.accepts)):
            if name == "note" or name in self.own_inputs:
                continue
            field = self.input_fields[name]()
            field.required = name in transition.requires
            if record is not None:
                field.initial = getattr(record, name, "") or None
            self.fields[name] = field
        self.add_inputs(record, user)
        required = "note" in transition.requires
        self.fields["note"] = forms.CharField(
            label=self.note_label_required if required else self.note_label,
            required=required,
            max_length=self.note_max_length,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=self.note_help_required if required else self.note_help,
        )
        bootstrap_widgets(self)

    def add_inputs(self, record: Any, user: Any) -> None:
        """Add the fields of ``own_inputs`` (an escalation's level and owner)."""

    def transition_inputs(self) -> tuple[str, dict[str, Any]]:
        """(note, inputs) for the move: the inputs the action accepts, those left empty not sent."""
        data = self.cleaned_data
        inputs = {
            name: data[name] for name in self.transition.accepts if name != "note" and data.get(name) not in (None, "")
        }
        return data.get("note", ""), inputs
