"""Forms of complaints. They parse and validate; ``complaints.services`` does every write.

No form has a ``status`` field: the state moves only through a workflow action.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from improvement import pickers as improvement_pickers
from itsm.core import pickers
from itsm.core.choices import Language, OrganisationKind
from itsm.core.forms import BootstrapFormMixin, TransitionForm
from itsm.core.models import Calendar, Contact, User
from itsm.core.pickers import PickerField, scope_pickers, use_picker
from itsm.core.roles import Role
from itsm.core.uploads import validate_upload
from sla.models import Service

from .choices import Category, Channel, EscalationLevel, Severity
from .models import Complaint, ComplaintTarget
from .pickers import escalation_owners, related_services
from .services import EDITABLE_FIELDS, LEVEL_ROLES, escalation_level_after, escalation_levels

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
CHOOSE_CONTACT = _("— choose a contact —")
# What the registration pickers offer: active customer organisations and their active contacts.
CUSTOMERS = {"kind": OrganisationKind.CUSTOMER.value, "active": "1"}
SERVICE_DESK = {"role": Role.SERVICE_DESK.value, "active": "1"}


def _label(name: str):
    """The model field's label, capitalised like a ModelForm's (still lazy)."""
    return capfirst(getattr(Complaint._meta.get_field(name), "verbose_name", name))


def contact_matches(query: str, organisation_id: Any = None, *, user: Any = None) -> list[Contact]:
    """Active contacts of active customer organisations whose name, phone or email contains
    ``query`` (two characters, or one Chinese character; a phone number matches with or
    without spaces and dashes), within ``organisation_id`` when given; with no query, that
    organisation's contacts. The contact picker's search, for the look-up without JavaScript."""
    params = {**CUSTOMERS, "organisation": str(organisation_id or "")}
    return pickers.contacts.matching(query or "", params, user=user)


def service_desk_users() -> QuerySet[User]:
    return pickers.users.queryset(SERVICE_DESK).order_by("first_name", "username")


class ComplaintRegisterForm(BootstrapFormMixin, forms.Form):
    """Registration during a phone call: the caller (an existing contact found by name or phone,
    or a new one entered here) and the complaint. ``initial`` may come from the query string."""

    channel = forms.ChoiceField(label=_label("channel"), choices=Channel.choices, initial=Channel.PHONE)
    organisation = PickerField(
        pickers.organisations,
        CUSTOMERS,
        label=_label("organisation"),
        required=False,
        empty_label=_("— the contact's organisation —"),
    )
    # The look-up without JavaScript (the page shows it in <noscript>): "Find" re-renders the
    # form with the matches as the contact's options. With JavaScript the contact picker
    # searches as one types.
    contact_q = forms.CharField(
        label=_("Find the contact"),
        required=False,
        max_length=100,
        help_text=_("Name, phone number or email: at least two characters, or one Chinese character."),
    )
    contact = PickerField(
        pickers.contacts,
        CUSTOMERS,
        depends={"organisation": "id_organisation"},
        placeholder=_("e.g. 138 0000 0001 or Chen"),
        label=_label("contact"),
        required=False,
        empty_label=CHOOSE_CONTACT,
        help_text=_("Name, phone number or email; with the organisation chosen, its contacts."),
    )
    new_contact_name = forms.CharField(label=_("Name of the new contact"), required=False, max_length=120)
    new_contact_phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    new_contact_email = forms.EmailField(label=_("Email"), required=False)
    new_contact_language = forms.ChoiceField(
        label=_("Preferred language"), choices=Language.choices, initial=Language.ZH_HANS
    )
    title = forms.CharField(label=_label("title"), max_length=200)
    description = forms.CharField(label=_label("description"), widget=forms.Textarea(attrs={"rows": 4}))
    severity = forms.ChoiceField(label=_label("severity"), choices=Severity.choices, initial=Severity.NORMAL)
    category = forms.ChoiceField(
        label=_label("category"), choices=[("", _("— not yet known —")), *Category.choices], required=False
    )
    related_service = PickerField(
        related_services,
        label=_label("related_service"),
        required=False,
        empty_label=_("— not yet known —"),
        help_text=_("A service of the catalogue in use, by code or name."),
    )
    external_ticket_ref = forms.CharField(label=_label("external_ticket_ref"), max_length=100, required=False)
    handler = PickerField(
        pickers.users,
        SERVICE_DESK,
        label=_label("handler"),
        required=False,
        empty_label=_("— me —"),
        help_text=_("The service-desk member who handles it; empty: you."),
    )
    received_at = forms.DateTimeField(
        label=_label("received_at"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)

    # What other pages may pre-fill through the query string (?external_ticket_ref=…&contact=…).
    PREFILL = (
        "channel",
        "organisation",
        "contact",
        "contact_q",
        "title",
        "description",
        "severity",
        "category",
        "related_service",
        "external_ticket_ref",
    )
    # Also carried over when the no-JavaScript look-up re-renders the form.
    KEPT_ON_LOOKUP = (
        "new_contact_name",
        "new_contact_phone",
        "new_contact_email",
        "new_contact_language",
        "handler",
        "received_at",
    )
    NEW_CONTACT_FIELDS = {
        "name": "new_contact_name",
        "phone": "new_contact_phone",
        "email": "new_contact_email",
        "preferred_language": "new_contact_language",
        "organisation": "organisation",
    }

    def __init__(self, *args, user: Any = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None:
            scope_pickers(self, user)
        self.fields["received_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["contact_q"].widget.attrs.update(
            {"autocomplete": "off", "type": "search", "placeholder": _("e.g. 138 0000 0001 or Chen")}
        )
        # Looked up only if the form is rendered.
        self.fields["contact"].widget.offered = self._contact_options  # type: ignore[attr-defined]

    def _value(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name), "") or "")
        value = self.initial.get(name, self.fields[name].initial)
        return str(getattr(value, "pk", value) or "")

    def _contact_options(self) -> list[Contact]:
        """Contacts offered besides the chosen one (the picker renders that one itself): the
        no-JavaScript look-up's matches, else the chosen organisation's first contacts; never
        every contact."""
        organisation, query = self._value("organisation"), self._value("contact_q")
        if not query and not organisation.isdigit():
            return []
        return contact_matches(query, organisation, user=self.user)

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value is not None and value > timezone.now() + timedelta(minutes=5):
            raise ValidationError(_("A complaint cannot be received in the future."))
        return value

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            try:
                validate_upload(upload)
            except ValidationError as exc:
                raise ValidationError(exc.messages) from exc
        return upload

    def clean(self):
        cleaned = super().clean()
        contact, organisation = cleaned.get("contact"), cleaned.get("organisation")
        new_name = cleaned.get("new_contact_name", "").strip()
        if contact is not None and new_name:
            self.add_error("new_contact_name", _("Either choose a contact or enter a new one, not both."))
        elif contact is None and not new_name and "contact" not in self.errors:
            self.add_error("contact", _("Choose the contact, or enter a new contact below."))
        if contact is not None and organisation is None and "organisation" not in self.errors:
            cleaned["organisation"] = organisation = contact.organisation
        if contact is not None and organisation is not None and contact.organisation_id != organisation.pk:
            self.add_error("contact", _("The contact must belong to the customer organisation."))
        if contact is None and new_name and organisation is None and "organisation" not in self.errors:
            self.add_error("organisation", _("Choose the customer organisation of the new contact."))
        if (
            new_name
            and not cleaned.get("new_contact_phone", "").strip()
            and not cleaned.get("new_contact_email")
            and "new_contact_email" not in self.errors
        ):
            self.add_error("new_contact_phone", _("Give an email address or a phone number."))
        return cleaned

    def new_contact_fields(self) -> dict[str, Any] | None:
        """The fields for ``contact_create`` when the caller is a new contact, else None."""
        data = self.cleaned_data
        if data.get("contact") is not None or not data.get("new_contact_name", "").strip():
            return None
        return {
            "organisation": data["organisation"],
            "name": data["new_contact_name"].strip(),
            "phone": data.get("new_contact_phone", "").strip(),
            "email": data.get("new_contact_email", ""),
            "preferred_language": data.get("new_contact_language") or Language.ZH_HANS,
        }

    def complaint_fields(self) -> dict[str, Any]:
        """The keyword arguments of ``complaint_register`` except actor and contact."""
        data = self.cleaned_data
        names = ("organisation", "title", "description", "channel", "severity", "received_at", "handler")
        fields = {name: data[name] for name in names}
        fields["related_service"] = data.get("related_service")
        for name in ("external_ticket_ref", "category"):
            fields[name] = data.get(name) or ""
        return fields


class ComplaintEditForm(BootstrapFormMixin, forms.ModelForm):
    """The details staff may edit (``services.EDITABLE_FIELDS``); never the state."""

    class Meta:
        model = Complaint
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        handler = self.fields["handler"]
        assert isinstance(handler, forms.ModelChoiceField)  # noqa: S101  (narrowing for mypy)
        current = self.instance.handler_id
        # The service desk, plus the current handler (kept even if no longer in it).
        handler.queryset = (
            User.objects.filter(Q(groups__name=Role.SERVICE_DESK.value, is_active=True) | Q(pk=current or 0))
            .distinct()
            .order_by("first_name", "username")
        )
        use_picker(handler, pickers.users, SERVICE_DESK)
        service = self.fields["related_service"]
        assert isinstance(service, forms.ModelChoiceField)  # noqa: S101  (narrowing for mypy)
        # The catalogue's services in use, plus the one named now (kept even if since retired).
        current = Service.objects.filter(pk=self.instance.related_service_id or 0)
        service.queryset = related_services.queryset() | current
        service.help_text = _("A service of the catalogue in use, by code or name.")
        use_picker(service, related_services)


class ComplaintAttachmentForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            validate_upload(upload)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return upload


def _text(label, rows: int = 3, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


# One form field per input a workflow action may ask for (``Transition.requires``/``accepts``).
_ACTION_FIELDS = {
    "diagnosis": lambda: _text(_label("diagnosis"), help_text=_("What the investigation found.")),
    "remedial_actions": lambda: _text(_label("remedial_actions")),
    "category": lambda: forms.ChoiceField(label=_label("category"), choices=[("", "—"), *Category.choices]),
    "root_cause": lambda: _text(_label("root_cause")),
    "plan": lambda: PickerField(
        improvement_pickers.plans,
        improvement_pickers.OPEN,
        label=_("Improvement plan"),
        required=False,
        help_text=_("An open service improvement plan, by reference or title."),
    ),
    "new_plan_title": lambda: forms.CharField(
        label=_("…or a new plan"),
        max_length=200,
        required=False,
        help_text=_("The title of a new draft plan you will own; leave empty when choosing a plan."),
    ),
    "result": lambda: _text(_label("result"), rows=4, help_text=_("Mailed to the customer with the rating link.")),
}


class ComplaintActionForm(TransitionForm):
    """Asks exactly for what one workflow action requires or accepts, plus a note.

    An escalation offers the levels ``user`` may take the complaint to (the next one up; a BR
    manager also the management representative) and an owner of the chosen level's role.
    """

    input_fields = _ACTION_FIELDS
    own_inputs = ("owner", "level")
    note_help = note_help_required = ""
    note_max_length = None

    def add_inputs(self, complaint: Complaint, user: User | None) -> None:
        transition = self.transition
        level = escalation_level_after(complaint, transition.action)
        if "level" in transition.accepts:
            levels = escalation_levels(complaint, user)
            self.fields["level"] = forms.TypedChoiceField(
                label=_("Escalate to"),
                coerce=int,
                required=False,  # none sent: one level up
                empty_value=None,
                choices=[(value, f"{value} · {EscalationLevel(value).label}") for value in levels],
                initial=levels[0] if levels else None,
            )
            chosen = self.data.get(self.add_prefix("level")) if self.is_bound else None
            level = int(chosen) if chosen and str(chosen).isdigit() and int(chosen) in levels else level
        if "owner" in transition.accepts and level is not None:
            role = LEVEL_ROLES.get(level)  # type: ignore[call-overload]
            level_field = self.fields.get("level")
            several = isinstance(level_field, forms.ChoiceField) and len(level_field.choices) > 1  # type: ignore[arg-type]  # a list here
            self.fields["owner"] = PickerField(
                escalation_owners,
                {"level": level},
                # Several levels on offer: the owners searched are those of the level chosen.
                depends={"level": f"id_{self.add_prefix('level')}"} if several else None,
                label=(
                    _("New owner (a member of the chosen level's role)")
                    if several or role is None
                    else _("New owner (%(role)s)") % {"role": role.label}
                ),
                required=False,
                empty_label=_("— the first available —"),
            )


class ComplaintFeedbackForm(forms.Form):
    """The customer's answer: satisfaction 1–5, settled or not, an optional comment."""

    RATINGS = [
        (5, _("Very satisfied")),
        (4, _("Satisfied")),
        (3, _("Neutral")),
        (2, _("Dissatisfied")),
        (1, _("Very dissatisfied")),
    ]

    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied are you with the result?"),
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a rating from 1 to 5."),
            "invalid_choice": _("Choose a rating from 1 to 5."),
        },
    )
    settled = forms.TypedChoiceField(
        label=_("Is the matter settled for you?"),
        choices=[("yes", _("Yes, it is settled")), ("no", _("No, it is not settled"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Tell us whether the matter is settled.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to add? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


# --- deadline targets (the targets pages) ---------------------------------------------------


class ComplaintTargetForm(BootstrapFormMixin, forms.ModelForm):
    """One severity's response and resolution targets (``services.complaint_target_update`` saves)."""

    class Meta:
        model = ComplaintTarget
        fields = [
            "response_value",
            "response_unit",
            "resolution_value",
            "resolution_unit",
            "warning_percent",
            "calendar",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        calendar = self.fields["calendar"]
        assert isinstance(calendar, forms.ModelChoiceField)  # noqa: S101  (narrowing for mypy)
        calendar.queryset = Calendar.objects.all()
        calendar.empty_label = _("The default business calendar")


class ComplaintConfirmationForm(BootstrapFormMixin, forms.Form):
    """Staff record the customer's answer on the result, given by phone, on their behalf."""

    prefix = "confirmation"
    satisfaction = forms.TypedChoiceField(
        label=_("The customer's rating of the result"),
        choices=ComplaintFeedbackForm.RATINGS,
        coerce=int,
        error_messages={
            "required": _("Choose a rating from 1 to 5."),
            "invalid_choice": _("Choose a rating from 1 to 5."),
        },
    )
    settled = forms.TypedChoiceField(
        label=_("Does the customer say the matter is settled?"),
        choices=[("yes", _("Yes, settled")), ("no", _("No, not settled"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the customer considers the matter settled.")},
    )
    comment = forms.CharField(
        label=_("What the customer said"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
