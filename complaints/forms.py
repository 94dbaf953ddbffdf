"""Forms of complaints. They parse and validate; ``complaints.services`` does every write.

No form has a ``status`` field: the state moves only through a workflow action.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from itsm.core.choices import Language, OrganisationKind
from itsm.core.forms import BootstrapFormMixin, bootstrap_widgets
from itsm.core.models import Calendar, Contact, Organisation, User
from itsm.core.roles import Role
from itsm.core.uploads import validate_upload

from .choices import Category, Channel, Severity
from .models import Complaint, ComplaintTarget
from .services import EDITABLE_FIELDS, LEVEL_ROLES, escalation_level_after
from .workflow import Transition

CONTACT_OPTIONS_LIMIT = 200  # contacts of one organisation offered in the select
CONTACT_MATCHES_LIMIT = 20  # contacts a look-up returns
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
CHOOSE_CONTACT = _("— choose a contact —")


def _label(name: str):
    """The model field's label, capitalised like a ModelForm's (still lazy)."""
    return capfirst(getattr(Complaint._meta.get_field(name), "verbose_name", name))


def contact_label(contact: Contact, *, with_organisation: bool = False) -> str:
    parts = [contact.name, contact.phone, contact.email]
    if with_organisation:
        parts.append(contact.organisation.name)
    return " · ".join(part for part in parts if part)


def customer_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.CUSTOMER, is_active=True).order_by("name")


def contact_matches(query: str, organisation_id: Any = None) -> QuerySet[Contact]:
    """Active contacts of customer organisations whose name, phone or email contains ``query``
    (at least two characters; a phone number matches with or without spaces and dashes)."""
    query = (query or "").strip()
    contacts = Contact.objects.filter(
        is_active=True, organisation__is_active=True, organisation__kind=OrganisationKind.CUSTOMER
    ).select_related("organisation")
    if str(organisation_id or "").isdigit():
        contacts = contacts.filter(organisation_id=int(organisation_id))
    if len(query) < 2:
        return contacts.none()
    condition = Q(name__icontains=query) | Q(email__icontains=query)
    digits = "".join(ch for ch in query if ch.isdigit() or ch == "+")
    condition |= Q(phone__icontains=digits if len(digits) >= 3 else query)
    return contacts.filter(condition).order_by("name", "pk")[:CONTACT_MATCHES_LIMIT]


def organisation_contacts(organisation_id: Any) -> QuerySet[Contact]:
    """The active contacts of one organisation, as many as a select can sensibly offer."""
    if not str(organisation_id or "").isdigit():
        return Contact.objects.none()
    return (
        Contact.objects.filter(organisation_id=int(organisation_id), is_active=True)
        .select_related("organisation")
        .order_by("name", "pk")[:CONTACT_OPTIONS_LIMIT]
    )


def service_desk_users() -> QuerySet[User]:
    return User.objects.filter(groups__name=Role.SERVICE_DESK.value, is_active=True).order_by("first_name", "username")


class _UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return str(obj)


class ComplaintRegisterForm(BootstrapFormMixin, forms.Form):
    """Registration during a phone call: the caller (an existing contact found by name or phone,
    or a new one entered here) and the complaint. ``initial`` may come from the query string."""

    channel = forms.ChoiceField(label=_label("channel"), choices=Channel.choices, initial=Channel.PHONE)
    organisation = forms.ModelChoiceField(
        label=_label("organisation"),
        queryset=customer_organisations(),
        required=False,
        empty_label=_("— the contact's organisation —"),
    )
    contact_q = forms.CharField(
        label=_("Find the contact"),
        required=False,
        max_length=100,
        help_text=_("Name, phone number or email: at least two characters."),
    )
    contact = forms.ModelChoiceField(
        label=_label("contact"),
        required=False,
        queryset=Contact.objects.filter(is_active=True, organisation__kind=OrganisationKind.CUSTOMER).select_related(
            "organisation"
        ),
        empty_label=CHOOSE_CONTACT,
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
    related_service = forms.CharField(label=_label("related_service"), max_length=200, required=False)
    external_ticket_ref = forms.CharField(label=_label("external_ticket_ref"), max_length=100, required=False)
    handler = _UserChoiceField(
        label=_label("handler"),
        queryset=service_desk_users(),
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["contact_q"].widget.attrs.update(
            {"autocomplete": "off", "type": "search", "placeholder": _("e.g. 138 0000 0001 or Chen")}
        )
        self.fields["contact"].widget.choices = self._contact_options()
        # The look-up as you type (htmx): matches replace the contact select's options.
        search = {
            "hx-get": reverse("complaint_contact_search"),
            "hx-target": "#id_contact",
            "hx-swap": "innerHTML",
            "hx-include": "#id_organisation, #id_contact_q",
        }
        self.fields["contact_q"].widget.attrs.update(search, **{"hx-trigger": "input changed delay:300ms, search"})
        self.fields["organisation"].widget.attrs.update(search, **{"hx-trigger": "change"})

    def _value(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name), "") or "")
        value = self.initial.get(name, self.fields[name].initial)
        return str(getattr(value, "pk", value) or "")

    def _contact_options(self) -> list[tuple[Any, str]]:
        """The contact select's options (the no-JavaScript fallback): the look-up's matches, else
        the chosen organisation's contacts, plus the chosen contact; never every contact."""
        organisation, chosen, query = self._value("organisation"), self._value("contact"), self._value("contact_q")
        options: list[tuple[Any, str]] = [("", str(CHOOSE_CONTACT))]
        if query:
            contacts = list(contact_matches(query, organisation))
            with_organisation = True
        else:
            contacts, with_organisation = list(organisation_contacts(organisation)), False
        if chosen.isdigit() and all(str(contact.pk) != chosen for contact in contacts):
            extra = Contact.objects.select_related("organisation").filter(pk=int(chosen), is_active=True).first()
            if extra is not None:
                contacts.insert(0, extra)
        for contact in contacts:
            options.append((contact.pk, contact_label(contact, with_organisation=with_organisation)))
        return options

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
        for name in ("related_service", "external_ticket_ref", "category"):
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
        field_classes = {"handler": _UserChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        handler = self.fields["handler"]
        assert isinstance(handler, forms.ModelChoiceField)  # noqa: S101  (narrowing for mypy)
        current = self.instance.handler_id
        handler.queryset = (
            User.objects.filter(Q(groups__name=Role.SERVICE_DESK.value, is_active=True) | Q(pk=current or 0))
            .distinct()
            .order_by("first_name", "username")
        )


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
    "remedial_actions": lambda: _text(_label("remedial_actions")),
    "category": lambda: forms.ChoiceField(label=_label("category"), choices=[("", "—"), *Category.choices]),
    "root_cause": lambda: _text(_label("root_cause")),
    "improvement_plan_ref": lambda: forms.CharField(
        label=_label("improvement_plan_ref"),
        max_length=100,
        help_text=_("The reference of the SIP, e.g. SIP-2026-004."),
    ),
    "result": lambda: _text(_label("result"), rows=4, help_text=_("Mailed to the customer with the rating link.")),
}


class ComplaintActionForm(BootstrapFormMixin, forms.Form):
    """Asks exactly for what one workflow action requires or accepts, plus a note.

    Prefixed with the action's name, so several action forms live on one page.
    """

    def __init__(self, *args, transition: Transition, complaint: Complaint, **kwargs):
        kwargs.setdefault("prefix", transition.action)
        super().__init__(*args, **kwargs)
        self.transition = transition
        for name in dict.fromkeys((*transition.requires, *transition.accepts)):
            if name in ("note", "owner"):
                continue
            field = _ACTION_FIELDS[name]()
            field.required = name in transition.requires
            field.initial = getattr(complaint, name, "") or None
            self.fields[name] = field
        if "owner" in transition.accepts:
            level = escalation_level_after(complaint, transition.action)
            role = LEVEL_ROLES.get(level) if level is not None else None  # type: ignore[call-overload]
            if role is not None:
                self.fields["owner"] = _UserChoiceField(
                    label=_("New owner (%(role)s)") % {"role": role.label},
                    queryset=User.objects.filter(groups__name=role.value, is_active=True).order_by(
                        "first_name", "username"
                    ),
                    required=False,
                    empty_label=_("— the first available —"),
                )
        note_required = "note" in transition.requires
        self.fields["note"] = _text(_("Reason") if note_required else _("Note"), rows=2, required=note_required)
        bootstrap_widgets(self)

    def transition_inputs(self) -> tuple[str, dict[str, Any]]:
        """(note, inputs) for ``complaint_transition``: accepted inputs left empty are not sent."""
        data = self.cleaned_data
        inputs = {
            name: data[name] for name in self.transition.accepts if name != "note" and data.get(name) not in (None, "")
        }
        return data.get("note", ""), inputs


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
