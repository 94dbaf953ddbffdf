"""Forms of ticket call-backs: the call-back answer (the desk's phone call and the public link)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..services.callbacks import CallbackAnswer

RATING_CHOICES = [(i, str(i)) for i in range(1, 6)]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class CallbackAnswerForm(forms.Form):
    """The call-back questions; the same form for the desk's phone call and the customer's link."""

    fixed = forms.TypedChoiceField(
        label=_("Is the fault fixed?"), choices=YES_NO, coerce=lambda v: v == "yes", widget=forms.RadioSelect
    )
    rating_attitude = forms.TypedChoiceField(
        label=_("Service attitude (服务态度)"), choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    rating_speed = forms.TypedChoiceField(
        label=_("Service speed (服务速度)"), choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    rating_effect = forms.TypedChoiceField(
        label=_("Service effect (服务效果)"), choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    satisfied = forms.TypedChoiceField(
        label=_("Satisfied overall?"), choices=YES_NO, coerce=lambda v: v == "yes", widget=forms.RadioSelect
    )
    complaint_raised = forms.BooleanField(label=_("The customer wants to complain"), required=False)
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def answer(self) -> CallbackAnswer:
        data = self.cleaned_data
        return CallbackAnswer(
            fixed=data["fixed"],
            rating_attitude=data["rating_attitude"],
            rating_speed=data["rating_speed"],
            rating_effect=data["rating_effect"],
            satisfied=data["satisfied"],
            complaint_raised=data["complaint_raised"],
            comment=data["comment"],
        )

    @classmethod
    def initial_from(cls, callback) -> dict:
        if callback.answered_at is None:
            return {}
        return {
            "fixed": "yes" if callback.fixed else "no",
            "rating_attitude": callback.rating_attitude,
            "rating_speed": callback.rating_speed,
            "rating_effect": callback.rating_effect,
            "satisfied": "yes" if callback.satisfied else "no",
            "complaint_raised": callback.complaint_raised,
            "comment": callback.comment,
        }
