"""Forms of the agreement pages: a draft's content, the signed document, a new version of an
active agreement, its targets and the comparison of two versions (moves: ``SlaActionForm``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers as core_pickers
from itsm.core.forms import BootstrapFormMixin, bootstrap_widgets
from itsm.core.models import Organisation
from itsm.core.pickers import use_picker

from .. import pickers
from ..choices import ServiceStatus
from ..models import AGREEMENT_SECTIONS, Agreement, Service, ServiceLevelTarget
from ..services.agreements import SIGNED_DOCUMENT_TYPES, VERSION_FIELDS
from ..services.targets import target_problems
from . import ACTIVE, _calendar_field, _choices, _owner_picker

SECTION_NAMES = [name for name, _label in AGREEMENT_SECTIONS]
DATE = {"type": "date"}
MARKDOWN_HELP = _("Markdown: **bold**, *italic*, lists (- item), tables, links.")
DOCUMENT_ACCEPT = ",".join(SIGNED_DOCUMENT_TYPES)
CURRENT_SERVICES = {"current": "1"}


def _services_field(label: Any) -> forms.ModelMultipleChoiceField:
    """Services covered: a type-ahead of the services not retired (the agreement's own kept)."""
    field = forms.ModelMultipleChoiceField(queryset=Service.objects.none(), required=False, label=label)
    use_picker(field, pickers.services, CURRENT_SERVICES)
    return field


class AgreementForm(BootstrapFormMixin, forms.ModelForm):
    """A draft's (or negotiated agreement's) content; ``kind`` only when creating."""

    services = _services_field(_("Services covered"))

    class Meta:
        model = Agreement
        fields = ["kind", "title", "counterparty", "services", "valid_from", "valid_to", "owner", *SECTION_NAMES]
        widgets = {
            "valid_from": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            **{name: forms.Textarea(attrs={"rows": 4}) for name in SECTION_NAMES},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        if not creating:
            del self.fields["kind"]
        counterparty = _choices(self, "counterparty")
        counterparty.queryset = Organisation.objects.filter(is_active=True).order_by("kind", "name")
        counterparty.help_text = _("SLA: a customer; OLA: an internal team; UC: a supplier.")
        # Without a kind, the picker labels each organisation with its kind.
        use_picker(counterparty, core_pickers.organisations, ACTIVE)
        _owner_picker(self)
        _choices(self, "services").queryset = _service_choices(None if creating else self.instance)
        for name in SECTION_NAMES:
            self.fields[name].help_text = MARKDOWN_HELP
        bootstrap_widgets(self)

    def agreement_fields(self, *, changed_only: bool = False) -> dict[str, Any]:
        names = [
            n
            for n in self.Meta.fields
            if n in self.fields and n not in ("kind", "services") and (not changed_only or n in self.changed_data)
        ]
        return {name: self.cleaned_data[name] for name in names}


def _service_choices(agreement: Agreement | None):
    """Services offered: every one not retired, plus those the agreement already covers."""
    offered = ~Q(status=ServiceStatus.RETIRED)
    if agreement is not None:
        offered |= Q(pk__in=agreement.services.values("pk"))
    return Service.objects.filter(offered).order_by("category", "code")


class DocumentForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Signed agreement"),
        help_text=_("PDF, image or Word document."),
        widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT}),
    )
    signed_on = forms.DateField(
        label=_("Signed on"), required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )


class AgreementChangeForm(BootstrapFormMixin, forms.ModelForm):
    """A new version of an active agreement: why, under which RFC, and what changes."""

    reason = forms.CharField(
        label=_("Reason for the change"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    rfc_ref = forms.CharField(label=_("RFC reference"), max_length=60)
    services = _services_field(_("Services covered"))
    file = forms.FileField(
        label=_("New signed document"),
        required=False,
        help_text=_("Optional: the signed amendment (PDF, image or Word document)."),
        widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT}),
    )

    class Meta:
        model = Agreement
        fields = [*VERSION_FIELDS, "services"]
        widgets = {
            "valid_from": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "signed_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            **{name: forms.Textarea(attrs={"rows": 4}) for name in SECTION_NAMES},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "services").queryset = _service_choices(self.instance)
        for name in SECTION_NAMES:
            self.fields[name].help_text = MARKDOWN_HELP
        bootstrap_widgets(self)

    def version_changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in VERSION_FIELDS if name in self.changed_data}


class TargetForm(BootstrapFormMixin, forms.ModelForm):
    """One target; the rules of ``sla.services.targets`` shown next to the fields."""

    class Meta:
        model = ServiceLevelTarget
        fields = ["metric", "priority", "name", "value", "unit", "calendar"]
        widgets = {"value": forms.NumberInput(attrs={"step": "0.01", "min": "0"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        help_text = ServiceLevelTarget._meta.get_field("calendar").help_text
        self.fields["calendar"] = _calendar_field(label=_("Calendar"), help_text=help_text)
        if self.instance.pk is not None:
            self.initial["calendar"] = self.instance.calendar_id
        bootstrap_widgets(self)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        values: dict[str, Any] = {name: cleaned.get(name) or "" for name in ("metric", "priority", "name", "unit")}
        values["value"] = cleaned.get("value")
        probe = ServiceLevelTarget(**values)
        for name, messages in target_problems(probe).items():
            for message in messages:
                if name in self.fields and name not in self.errors:
                    self.add_error(name, message)
        return cleaned

    def target_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


TargetFormSet = forms.modelformset_factory(ServiceLevelTarget, form=TargetForm, extra=2, can_delete=True)


class StandardTargetsForm(BootstrapFormMixin, forms.Form):
    calendar = _calendar_field(
        label=_("Count the working days on"),
        help_text=_("The standard P3 / P4 targets are in working days: on which calendar?"),
    )


class CompareForm(forms.Form):
    """Two versions of an agreement to compare (``?a=1&b=3``)."""

    a = forms.TypedChoiceField(label=_("From version"), coerce=int)
    b = forms.TypedChoiceField(label=_("To version"), coerce=int)

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(v, f"v{v}") for v in versions]
        _choices(self, "a").choices = choices
        _choices(self, "b").choices = choices
        bootstrap_widgets(self)
