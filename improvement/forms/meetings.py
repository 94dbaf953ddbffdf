"""Forms of the review meeting pages: planning and editing a meeting, its minutes once held,
its moves (``MeetingActionForm``, the workflow kit's ``TransitionForm``), a decision, and the
one-step forms that make a decision an item of the register or an action of a plan. They parse
and validate; ``improvement.services.meetings`` writes. None of them has a status or inputs
field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from itsm.core import pickers as core_pickers
from itsm.core.forms import BootstrapFormMixin, TransitionForm
from itsm.core.models import User
from itsm.core.pickers import PickerField, PickerMultipleField

from .. import pickers
from ..choices import PLAN_OPEN_STATUSES, MeetingKind, MeetingStatus, Priority
from ..models import ImprovementPlan, ReviewMeeting

DATE = {"type": "date"}
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
ACTIVE = {"active": "1"}
OWNER = pgettext_lazy("improvement", "Owner")


def _active_users():
    return User.objects.filter(is_active=True)


def _user_field(label: Any, **kwargs: Any) -> PickerField:
    return PickerField(core_pickers.users, ACTIVE, queryset=_active_users(), label=label, **kwargs)


def _date_field(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"), **kwargs)


class MeetingForm(BootstrapFormMixin, forms.Form):
    """A planned meeting: kind, period (a label), when and where, chair, attendees, agenda."""

    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices, initial=MeetingKind.REVIEW)
    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, help_text=_("Empty: the kind and the period.")
    )
    period_label = forms.CharField(
        label=_("Period"),
        max_length=12,
        help_text=_("The period the meeting reviews: 2026-11 (a month), 2026-Q4, 2026-H2 or 2026."),
    )
    scheduled_at = forms.DateTimeField(
        label=_("Scheduled at"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    chair = _user_field(_("Chair"), required=False, help_text=_("Empty: you chair it."))
    attendees = PickerMultipleField(
        core_pickers.users, ACTIVE, queryset=_active_users(), label=_("Attendees"), required=False
    )
    other_attendees = forms.CharField(
        label=_("Other attendees"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Customer representatives and guests, one per line."),
    )
    agenda = forms.CharField(
        label=_("Agenda"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("One item per line. Empty: the kind's standard agenda."),
    )

    @classmethod
    def for_meeting(cls, meeting: ReviewMeeting, data: Any = None) -> MeetingForm:
        initial = {
            "kind": meeting.kind,
            "title": meeting.title,
            "period_label": meeting.period_label,
            "scheduled_at": meeting.scheduled_at,
            "location": meeting.location,
            "chair": meeting.chair_id,
            "attendees": [user.pk for user in meeting.attendees.all()],
            "other_attendees": meeting.other_attendees,
            "agenda": meeting.agenda,
        }
        return cls(data, initial=initial)

    def meeting_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["attendees"] = list(data.get("attendees") or [])
        return data


class MinutesForm(BootstrapFormMixin, forms.Form):
    """The minutes of a held meeting (the only thing that changes once it is held)."""

    minutes = forms.CharField(
        label=_("Minutes"), required=False, max_length=50000, widget=forms.Textarea(attrs={"rows": 12})
    )


class MeetingActionForm(TransitionForm):
    """A meeting's move on the workflow kit (``action_forms`` draws one per move on offer,
    ``transition_view`` takes it): hold with the minutes, cancel with the reason."""

    input_fields = {
        "minutes": lambda: forms.CharField(
            label=_("Minutes"),
            max_length=50000,
            widget=forms.Textarea(attrs={"rows": 6}),
            help_text=_("Optional now: the minutes can be completed after the meeting."),
        )
    }


class MeetingFilterForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("any")), *MeetingKind.choices])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("any")), *MeetingStatus.choices])
    period = forms.CharField(label=_("Period"), required=False, max_length=12, help_text=_("2026, 2026-11, 2026-H2…"))


class DecisionForm(BootstrapFormMixin, forms.Form):
    """A decision of a held meeting: what, who follows it up, by when."""

    text = forms.CharField(label=_("Decision"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    owner = _user_field(OWNER, required=False)
    due_on = _date_field(_("Due on"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decision")
        super().__init__(*args, **kwargs)


class DecisionItemForm(BootstrapFormMixin, forms.Form):
    """Raise an item from a decision. Left empty, the title, owner and close-by date are the
    decision's (no initial values: one form per decision renders without a query)."""

    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, help_text=_("Empty: the decision's first line.")
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM)
    owner = _user_field(OWNER, required=False, help_text=_("Empty: the decision's owner."))

    def __init__(self, *args: Any, decision_pk: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"item-{decision_pk}")
        super().__init__(*args, **kwargs)


class DecisionActionForm(BootstrapFormMixin, forms.Form):
    """Add a decision to an open plan as an action. Left empty, the title, owner and due date
    are the decision's."""

    plan = PickerField(
        pickers.plans,
        pickers.OPEN,
        queryset=ImprovementPlan.objects.filter(status__in=PLAN_OPEN_STATUSES),
        label=_("Improvement plan"),
        help_text=_("An approved plan goes back for approval when an action is added."),
    )
    title = forms.CharField(
        label=pgettext_lazy("improvement plan", "Action"),
        max_length=200,
        required=False,
        help_text=_("Empty: the decision's first line."),
    )
    owner = _user_field(OWNER, required=False, help_text=_("Empty: the decision's owner."))
    due_on = _date_field(_("Due on"), required=False, help_text=_("Empty: the decision's due date."))
    working_days = forms.IntegerField(label=_("or due in working days"), required=False, min_value=1, max_value=250)

    def __init__(self, *args: Any, decision_pk: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"action-{decision_pk}")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("due_on") and cleaned.get("working_days"):
            self.add_error("working_days", _("Give the due date or the working days, not both."))
        return cleaned
