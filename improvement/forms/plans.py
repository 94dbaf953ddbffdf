"""Forms of the plan pages: a plan's content and scope, the items it answers, its actions (add,
edit, done with evidence, cancelled), the effectiveness review, and the plan's workflow moves
(``PlanActionForm``). They parse and validate; ``improvement.services.plans`` writes. None of
them has a status, round or approval field: those move only through the plan's services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core import pickers as core_pickers
from itsm.core.choices import OrganisationKind
from itsm.core.forms import BootstrapFormMixin, TransitionForm, bootstrap_widgets
from itsm.core.models import Department, Organisation
from itsm.core.pickers import PickerField, PickerMultipleField, use_picker
from sla import pickers as sla_pickers
from sla.choices import ServiceStatus
from sla.models import Service

from .. import pickers
from ..choices import Effectiveness, ItemStatus
from ..models import ImprovementItem, ImprovementPlan, PlanAction
from ..services.plans import ACTION_FIELDS, EVIDENCE_TYPES, PLAN_FIELDS, SCOPE_FIELDS
from .items import ACTIVE, DATE, active_users

EVIDENCE_ACCEPT = ",".join(EVIDENCE_TYPES)
OPEN_ITEMS = {"status": ItemStatus.OPEN.value}


def _choice(form: forms.BaseForm, name: str) -> Any:
    return form.fields[name]


def open_items_field(**kwargs: Any) -> PickerMultipleField:
    """A type-ahead of the register's open items (those a plan may answer)."""
    return PickerMultipleField(
        pickers.items,
        OPEN_ITEMS,
        queryset=ImprovementItem.objects.filter(status=ItemStatus.OPEN),
        label=kwargs.pop("label", _("Items it answers")),
        **kwargs,
    )


class PlanForm(BootstrapFormMixin, forms.ModelForm):
    """A plan's content (``PLAN_FIELDS``) and scope; ``items`` (open items it answers) when
    drafting. A KPI-linked plan needs the target value (and, to be submitted, the date)."""

    services = PickerMultipleField(
        sla_pickers.services,
        {"current": "1"},
        queryset=Service.objects.exclude(status=ServiceStatus.RETIRED),
        required=False,
        label=_("Services"),
    )
    organisations = PickerMultipleField(
        core_pickers.organisations,
        {"kind": OrganisationKind.CUSTOMER.value, "active": "1"},
        queryset=Organisation.objects.filter(kind=OrganisationKind.CUSTOMER),
        required=False,
        label=_("Customer organisations"),
    )
    departments = PickerMultipleField(
        core_pickers.departments, queryset=Department.objects.all(), required=False, label=_("Departments")
    )

    class Meta:
        model = ImprovementPlan
        fields = [*PLAN_FIELDS, *SCOPE_FIELDS]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 3}),
            "baseline_measure": forms.Textarea(attrs={"rows": 2}),
            "target_measure": forms.Textarea(attrs={"rows": 2}),
            "target_date": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "baseline_value": forms.NumberInput(attrs={"step": "any"}),
            "target_value": forms.NumberInput(attrs={"step": "any"}),
        }
        help_texts = {
            "target_measure": _("How success is measured, unless a KPI measures it."),
            "kpi": _("Optional: the KPI whose closed period values say whether the plan worked."),
            "baseline_value": _("The KPI's value before the plan."),
            "target_value": _("The KPI's value the plan is to reach."),
            "target_date": _("When the target is to be reached."),
            "change_request_ref": _("The RFC of the change that carries the plan out, if any."),
        }

    def __init__(self, *args: Any, with_items: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kpi.models import KpiDefinition

        kpi = _choice(self, "kpi")
        kpi.queryset = KpiDefinition.objects.filter(is_active=True).order_by("sort_order", "code")
        owner = _choice(self, "owner")
        owner.queryset = active_users()
        owner.required = True
        use_picker(owner, core_pickers.users, ACTIVE)
        team = _choice(self, "team")
        team.queryset = Organisation.objects.filter(kind=OrganisationKind.INTERNAL_TEAM)
        use_picker(team, core_pickers.organisations, {"kind": OrganisationKind.INTERNAL_TEAM.value, "active": "1"})
        if with_items:
            self.fields["items"] = open_items_field(required=False)
        bootstrap_widgets(self)

    def plan_fields(self, *, changed_only: bool = False) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in PLAN_FIELDS
            if name in self.cleaned_data and (not changed_only or name in self.changed_data)
        }

    def scope(self, *, changed_only: bool = False) -> dict[str, Any]:
        """The scope fields as lists (``None``: unchanged, when ``changed_only``)."""
        return {
            name: (list(self.cleaned_data[name]) if not changed_only or name in self.changed_data else None)
            for name in SCOPE_FIELDS
        }


class AddItemsForm(BootstrapFormMixin, forms.Form):
    """Open items of the register that join the plan."""

    prefix = "add-items"
    items = open_items_field(label=pgettext_lazy("improvement", "Items"))


class ActionForm(BootstrapFormMixin, forms.Form):
    """A new action: what, who, and when — a date or a number of working days from today."""

    prefix = "action"
    title = forms.CharField(label=pgettext_lazy("improvement plan", "Action"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = PickerField(
        core_pickers.users, ACTIVE, queryset=active_users(), label=pgettext_lazy("improvement", "Owner")
    )
    due_on = forms.DateField(label=_("Due on"), required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    working_days = forms.IntegerField(
        label=_("or due in … working days"),
        required=False,
        min_value=1,
        max_value=250,
        help_text=_("Counted on the business calendar from today."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        due_on, days = cleaned.get("due_on"), cleaned.get("working_days")
        if "due_on" in self.errors or "working_days" in self.errors:
            return cleaned
        if due_on is None and days is None:
            self.add_error("due_on", _("Give the due date or the number of working days."))
        elif due_on is not None and days is not None:
            self.add_error("working_days", _("Give the due date or the number of working days, not both."))
        return cleaned

    def action_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {"title": data["title"], "description": data.get("description") or "", "owner": data["owner"]}
        if data.get("due_on") is not None:
            fields["due_on"] = data["due_on"]
        else:
            fields["working_days"] = data["working_days"]
        return fields


class ActionEditForm(BootstrapFormMixin, forms.ModelForm):
    """An open action's title, description, owner and due date (``ACTION_FIELDS``)."""

    class Meta:
        model = PlanAction
        fields = list(ACTION_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "due_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = _choice(self, "owner")
        owner.queryset = active_users()
        use_picker(owner, core_pickers.users, ACTIVE)
        bootstrap_widgets(self)

    def action_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ACTION_FIELDS if name in self.changed_data}


def _per_action(kwargs: dict[str, Any], action: PlanAction | None, name: str) -> None:
    # One small form per row of the actions table: ids must not repeat on the page.
    if action is not None:
        kwargs.setdefault("auto_id", f"id_{name}_{action.pk}_%s")


class ActionCompleteForm(BootstrapFormMixin, forms.Form):
    """The evidence that an action was done: what was done, a file or a link (one at least)."""

    evidence_note = forms.CharField(
        label=_("What was done"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence = forms.FileField(
        label=_("Evidence file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )
    evidence_link = forms.URLField(label=_("Evidence link"), required=False, max_length=500, assume_scheme="https")

    def __init__(self, *args: Any, action: PlanAction | None = None, **kwargs: Any) -> None:
        _per_action(kwargs, action, "complete")
        super().__init__(*args, **kwargs)
        self.action = action

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.errors:
            return cleaned
        if not (
            (cleaned.get("evidence_note") or "").strip() or cleaned.get("evidence") or cleaned.get("evidence_link")
        ):
            self.add_error("evidence_note", _("Say what was done, or attach a file or a link as evidence."))
        return cleaned


class ActionCancelForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, action: PlanAction | None = None, **kwargs: Any) -> None:
        _per_action(kwargs, action, "cancel")
        super().__init__(*args, **kwargs)
        self.action = action


class EffectivenessReviewForm(BootstrapFormMixin, forms.Form):
    """Did the plan work? The result, the evidence it rests on, and a file."""

    prefix = "review"
    result = forms.ChoiceField(
        label=pgettext_lazy("effectiveness review", "Result"), choices=Effectiveness.choices, widget=forms.RadioSelect
    )
    evidence_note = forms.CharField(
        label=_("Evidence"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the result rests on: measurements, feedback, records checked."),
    )
    evidence = forms.FileField(
        label=_("Evidence file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radio buttons take Bootstrap's check class, not the select's.
        self.fields["result"].widget.attrs["class"] = "form-check-input"


class PlanActionForm(TransitionForm):
    """Asks for what one move of a plan requires or accepts: the review's due date, the outcome."""

    input_fields = {
        "review_due_on": lambda: forms.DateField(
            label=_("Effectiveness review due on"),
            widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            help_text=_("When to check whether the plan worked."),
        ),
        "outcome_note": lambda: forms.CharField(
            label=_("Outcome"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
        ),
    }
    note_help = _("Optional; kept in the history.")
