"""Forms of survey campaigns. They parse and validate; ``surveys.services.campaigns`` writes.

No form has a ``status`` field: a campaign moves only through a workflow action
(``CampaignActionForm``, one per action the user may take now).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers
from itsm.core.choices import OrganisationKind
from itsm.core.forms import BootstrapFormMixin, TransitionForm, bootstrap_widgets
from itsm.core.models import Department, Organisation, User
from itsm.core.pickers import PickerField, PickerMultipleField, scope_pickers, use_picker

from ..choices import AudienceMode
from ..models import Campaign, Questionnaire
from ..models.campaigns import default_reminder_days

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MAX_REMINDERS = 5
# What the pickers offer: active customer organisations and their departments, active staff.
CUSTOMERS = {"kind": OrganisationKind.CUSTOMER.value, "active": "1"}
CUSTOMER_DEPARTMENTS = {"kind": OrganisationKind.CUSTOMER.value}
ACTIVE_USERS = {"active": "1"}


def _label(name: str) -> Any:
    """The campaign field's label, capitalised like a ModelForm's (still lazy)."""
    return capfirst(getattr(Campaign._meta.get_field(name), "verbose_name", name))


def _close_field() -> forms.DateTimeField:
    # A naive value is read in the current (local) time zone; the initial value is shown in it.
    return forms.DateTimeField(
        label=_label("closes_at"),
        help_text=_("Local time. Survey links stop working then and the campaign closes by itself."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"invalid": _("Enter a date and time, e.g. 2026-11-30 18:00.")},
    )


def active_users(keep: Any = ()) -> QuerySet[User]:
    """Active staff accounts, plus ``keep`` (already chosen ones, even if deactivated since)."""
    return User.objects.filter(Q(is_active=True) | Q(pk__in=list(keep))).order_by("first_name", "username")


def customer_organisations(keep: Any = ()) -> QuerySet[Organisation]:
    """Active customer organisations, plus ``keep`` (already chosen ones)."""
    return Organisation.objects.filter(
        Q(kind=OrganisationKind.CUSTOMER, is_active=True) | Q(pk__in=list(keep))
    ).order_by("name")


def parse_reminder_days(value: str) -> list[int]:
    """``"3, 7"`` → ``[3, 7]``; raises ``ValidationError`` with a message saying what is wrong."""
    parts = [part.strip() for part in re.split(r"[,，;；\s]+", value or "") if part.strip()]
    days: list[int] = []
    for part in parts:
        if not part.isdigit():
            raise ValidationError(
                _("“%(value)s” is not a whole number of days. Write days after launch separated by commas, e.g. 3, 7."),
                code="invalid",
                params={"value": part},
            )
        days.append(int(part))
    if any(day < 1 or day > 365 for day in days):
        raise ValidationError(_("Each reminder must be between 1 and 365 days after launch."), code="range")
    if len(set(days)) != len(days):
        raise ValidationError(_("Each reminder must be on a different day."), code="duplicate")
    if len(days) > MAX_REMINDERS:
        raise ValidationError(_("At most %(max)d reminders."), code="too_many", params={"max": MAX_REMINDERS})
    return sorted(days)


class ReminderDaysField(forms.CharField):
    """Reminder days as text: comma-separated days after launch; cleaned to a sorted list."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(day) for day in value)
        return value

    def to_python(self, value: Any) -> Any:
        return parse_reminder_days(super().to_python(value) or "")

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return list(initial or []) != parse_reminder_days(data or "")
        except ValidationError:
            return True


class CampaignForm(BootstrapFormMixin, forms.ModelForm):
    """The plan of a draft campaign: what, why, whom, with which questionnaire, and when.

    The department shares are a separate formset (``DepartmentShareFormSet``). Nothing is
    saved here: the view hands ``plan_fields()`` and the relations to the services.
    """

    reminder_days = ReminderDaysField(
        label=_label("reminder_days"),
        required=False,
        initial=default_reminder_days,
        help_text=_("Days after launch on which non-respondents are reminded, separated by commas, e.g. 3, 7."),
    )
    closes_at = _close_field()

    class Meta:
        model = Campaign
        fields = [
            "title",
            "kind",
            "domain",
            "objective",
            "scope",
            "audience_description",
            "resources",
            "method",
            "schedule",
            "questionnaire",
            "audience_mode",
            "organisations",
            "sample_percent",
            "repeat_interval_days",
            "reminder_days",
            "closes_at",
            "stakeholders",
        ]
        widgets = {
            "objective": forms.Textarea(attrs={"rows": 2}),
            "scope": forms.Textarea(attrs={"rows": 2}),
            "audience_description": forms.Textarea(attrs={"rows": 2}),
            "resources": forms.Textarea(attrs={"rows": 2}),
            "method": forms.Textarea(attrs={"rows": 2}),
            "schedule": forms.Textarea(attrs={"rows": 2}),
            "audience_mode": forms.RadioSelect,
        }
        help_texts = {
            "organisations": _(
                "Customer organisations surveyed (all or a sample of their contacts). "
                "Not used for the key-customer audience."
            ),
            "stakeholders": _("They receive the results when they are published."),
        }

    # The plan fields passed to the services as keyword arguments (the rest are relations).
    RELATIONS = ("organisations", "stakeholders")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        chosen_organisations: list[int] = []
        chosen_stakeholders: list[int] = []
        if instance.pk:
            chosen_organisations = list(instance.organisations.values_list("pk", flat=True))
            chosen_stakeholders = list(instance.stakeholders.values_list("pk", flat=True))
        questionnaire = self.fields["questionnaire"]
        assert isinstance(questionnaire, forms.ModelChoiceField)  # noqa: S101  (narrowing for mypy)
        questionnaire.queryset = Questionnaire.objects.visible_to(user).order_by("title", "-version")
        questionnaire.help_text = _("The version sent. It is frozen when the campaign is submitted for review.")
        organisations = self.fields["organisations"]
        assert isinstance(organisations, forms.ModelMultipleChoiceField)  # noqa: S101
        organisations.queryset = customer_organisations(chosen_organisations)
        organisations.required = False
        use_picker(organisations, pickers.organisations, CUSTOMERS)
        self.fields["stakeholders"] = PickerMultipleField(
            pickers.users,
            ACTIVE_USERS,
            queryset=active_users(chosen_stakeholders),
            label=_label("stakeholders"),
            required=False,
            help_text=self.fields["stakeholders"].help_text,
        )
        scope_pickers(self, user)
        mode = self.fields["audience_mode"]
        assert isinstance(mode, forms.ChoiceField)  # noqa: S101
        mode.choices = list(AudienceMode.choices)  # no empty choice: the field has a default
        bootstrap_widgets(self)
        # Radio buttons are styled by the template, not as a select.
        mode.widget.attrs.pop("class", None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        surveyed = cleaned.get("audience_mode") in (AudienceMode.ALL, AudienceMode.SAMPLE)
        if surveyed and not cleaned.get("organisations") and "organisations" not in self.errors:
            self.add_error("organisations", _("Choose at least one organisation, or the key-customer audience."))
        return cleaned

    def plan_fields(self, *, changed_only: bool = False) -> dict[str, Any]:
        """The plan fields for ``campaign_create`` / ``campaign_update`` (no relations)."""
        names = [name for name in self._meta.fields or [] if name not in self.RELATIONS]
        if changed_only:
            names = [name for name in names if name in self.changed_data]
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}

    def relation(self, name: str, *, changed_only: bool = False) -> list[Any] | None:
        """A many-to-many choice as a list, or ``None`` (leave as is) when unchanged."""
        if changed_only and name not in self.changed_data:
            return None
        return list(self.cleaned_data.get(name) or [])


class DepartmentShareForm(forms.Form):
    """One department's own sample share (overrides the campaign's sample %)."""

    department = PickerField(
        pickers.departments,
        CUSTOMER_DEPARTMENTS,
        label=_("Department"),
        required=False,
        empty_label=_("— no department —"),
    )
    percent = forms.IntegerField(
        label=_("Share %"),
        min_value=0,
        max_value=100,
        required=False,
        error_messages={
            "min_value": _("Give a share from 0 to 100."),
            "max_value": _("Give a share from 0 to 100."),
            "invalid": _("Give a share from 0 to 100."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap_widgets(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        department, percent = cleaned.get("department"), cleaned.get("percent")
        if department is not None and percent is None and "percent" not in self.errors:
            self.add_error("percent", _("Give this department's share, from 0 to 100."))
        if department is None and percent is not None and "department" not in self.errors:
            self.add_error("department", _("Choose the department this share is for."))
        return cleaned


class BaseDepartmentShareFormSet(forms.BaseFormSet):
    """Rows of department + share; a row without a department is ignored.

    Each row's department is a type-ahead picker; the chosen departments of all rows are
    looked up in one query when the rows are drawn, not once per row.
    ``check_against(organisations, mode)`` says a department whose organisation is not
    surveyed, and the same department twice.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._chosen: dict[str, Department] | None = None
        kwargs.setdefault("prefix", "shares")
        super().__init__(*args, **kwargs)

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.fields["department"].widget.offered = lambda: self._chosen_department(form)  # type: ignore[attr-defined]
        return form

    def _chosen_department(self, form: forms.Form) -> list[Department]:
        if self._chosen is None:
            values = {str(row["department"].value() or "") for row in self.forms}
            pks = [int(value) for value in values if value.isdigit()]
            queryset = pickers.departments.queryset(CUSTOMER_DEPARTMENTS).filter(pk__in=pks)
            self._chosen = {str(department.pk): department for department in queryset}
        department = self._chosen.get(str(form["department"].value() or ""))
        return [department] if department is not None else []

    def clean(self) -> None:
        seen: set[int] = set()
        for form in self.forms:
            department = form.cleaned_data.get("department") if hasattr(form, "cleaned_data") else None
            if department is None:
                continue
            if department.pk in seen:
                form.add_error("department", _("This department has a share already (in another row)."))
            seen.add(department.pk)

    def check_against(self, organisations: list[Organisation], mode: str) -> bool:
        """Add an error to each row whose department's organisation is not surveyed; True if none."""
        chosen = {organisation.pk for organisation in organisations}
        ok = True
        for form in self.forms:
            department = form.cleaned_data.get("department") if hasattr(form, "cleaned_data") else None
            organisation = department.organisation if department is not None else None
            if organisation is None:
                continue
            surveyed = organisation.is_key_customer if mode == AudienceMode.KEY_CUSTOMERS else organisation.pk in chosen
            if not surveyed:
                form.add_error(
                    "department",
                    _("%(organisation)s is not surveyed by this campaign.") % {"organisation": organisation.name},
                )
                ok = False
        return ok

    def ratios(self) -> dict[int, int]:
        """``{department_id: percent}`` for ``campaign_create`` / ``campaign_update``."""
        shares: dict[int, int] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            if data.get("department") is not None and data.get("percent") is not None:
                shares[data["department"].pk] = data["percent"]
        return shares


DepartmentShareFormSet = forms.formset_factory(
    DepartmentShareForm, formset=BaseDepartmentShareFormSet, extra=3, max_num=200, validate_max=True
)


def share_initial(campaign: Campaign) -> list[dict[str, Any]]:
    return [
        {"department": department, "percent": percent}
        for department, percent in campaign.department_ratios.order_by("department__name").values_list(
            "department_id", "percent"
        )
    ]


class StakeholdersForm(BootstrapFormMixin, forms.Form):
    """Who receives the results; changeable until they are published."""

    stakeholders = PickerMultipleField(
        pickers.users,
        ACTIVE_USERS,
        queryset=User.objects.none(),
        label=_label("stakeholders"),
        required=False,
        help_text=_("They receive the results when they are published."),
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        chosen = list(campaign.stakeholders.values_list("pk", flat=True))
        kwargs.setdefault("initial", {"stakeholders": chosen})
        kwargs.setdefault("prefix", "stakeholders")
        super().__init__(*args, **kwargs)
        field = self.fields["stakeholders"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101
        field.queryset = active_users(chosen)


class CloseDateForm(BootstrapFormMixin, forms.Form):
    """Move the close date (``campaign_set_close``): before the campaign has closed."""

    closes_at = _close_field()

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"closes_at": campaign.closes_at})
        kwargs.setdefault("prefix", "close")
        super().__init__(*args, **kwargs)


class CampaignActionForm(TransitionForm):
    """Asks for what one workflow action requires or accepts (the analysis), plus a note."""

    input_fields = {
        "analysis": lambda: forms.CharField(
            label=_label("analysis"),
            max_length=20000,
            widget=forms.Textarea(attrs={"rows": 6}),
            help_text=_("Causes, comparisons with earlier surveys, conclusions."),
        ),
    }
    note_label_required = _("What must change")
    note_help = _("Optional; kept in the history.")
    note_help_required = _("Mailed to the owner and kept in the history.")
