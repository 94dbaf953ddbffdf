"""Forms of the register's pages: raising an item from a source, editing one, and the item's
workflow moves (``ItemActionForm``). They parse and validate; ``improvement.services.items``
writes. None of them has a status field: an item's status moves only through ``item_transition``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core import pickers as core_pickers
from itsm.core.forms import BootstrapFormMixin, TransitionForm, bootstrap_widgets
from itsm.core.models import User
from itsm.core.pickers import PickerField, use_picker

from .. import pickers
from ..choices import PLAN_OPEN_STATUSES, Priority
from ..models import ImprovementItem, ImprovementPlan
from ..services.items import ITEM_FIELDS

DATE = {"type": "date"}
ACTIVE = {"active": "1"}


def active_users():
    return User.objects.filter(is_active=True)


def open_plans_field(**kwargs: Any) -> PickerField:
    """A type-ahead of the plans still open (an item joins one of them)."""
    return PickerField(
        pickers.plans,
        pickers.OPEN,
        queryset=ImprovementPlan.objects.filter(status__in=PLAN_OPEN_STATUSES),
        label=kwargs.pop("label", _("Improvement plan")),
        **kwargs,
    )


def _owner_field(**kwargs: Any) -> PickerField:
    return PickerField(
        core_pickers.users, ACTIVE, queryset=active_users(), label=pgettext_lazy("improvement", "Owner"), **kwargs
    )


class ItemCreateForm(BootstrapFormMixin, forms.Form):
    """A new item from one source, pre-filled from the source's kind (``prefill``)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM)
    owner = _owner_field(required=False, help_text=_("Empty: you own it."))
    target_date = forms.DateField(
        label=_("Close by"),
        required=False,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        help_text=_("Empty: worked out from the priority in working days."),
    )
    plan = open_plans_field(
        required=False, help_text=_("Optional: an open improvement plan the item joins straight away.")
    )

    def item_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data.get("description") or "",
            "priority": data["priority"],
            "owner": data.get("owner"),
            "target_date": data.get("target_date"),
            "plan": data.get("plan"),
        }


class ItemEditForm(BootstrapFormMixin, forms.ModelForm):
    """An item's text, priority, owner and close-by date (``ITEM_FIELDS``)."""

    class Meta:
        model = ImprovementItem
        fields = list(ITEM_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "target_date": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)  # noqa: S101  (narrowing)
        owner.queryset = active_users()
        use_picker(owner, core_pickers.users, ACTIVE)
        bootstrap_widgets(self)

    def item_fields(self, *, changed_only: bool = True) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in ITEM_FIELDS
            if name in self.cleaned_data and (not changed_only or name in self.changed_data)
        }


class ItemActionForm(TransitionForm):
    """Asks for what one move of an item requires or accepts: the reason (the note), the item a
    dismissed one duplicates, the plan it joins, what was done."""

    input_fields = {
        "resolution": lambda: forms.CharField(
            label=_("What was done"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
        ),
    }
    own_inputs = ("duplicate_of", "plan")
    note_help = _("Optional; kept in the history.")

    def add_inputs(self, record: ImprovementItem | None, user: Any) -> None:
        wanted = (*self.transition.requires, *self.transition.accepts)
        if "duplicate_of" in wanted:
            originals = ImprovementItem.objects.filter(duplicate_of__isnull=True)
            if record is not None:
                originals = originals.exclude(pk=record.pk)
            self.fields["duplicate_of"] = PickerField(
                pickers.items,
                queryset=originals,
                label=_("Duplicate of"),
                required="duplicate_of" in self.transition.requires,
                help_text=_("Only when it repeats another item: that item's reference."),
            )
        if "plan" in wanted:
            self.fields["plan"] = open_plans_field(required="plan" in self.transition.requires)
