"""Forms of agreement reviews. They parse and validate; ``sla.services.reviews`` does the writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core.forms import BootstrapFormMixin

from ..choices import AgreementKind
from ..models import AgreementReview


class AgreementReviewForm(BootstrapFormMixin, forms.ModelForm):
    """Everything a review records; never saved by itself (``agreement_review_record`` is).
    Its improvement items are raised in the improvement register, one per line."""

    improvement_items = forms.CharField(
        label=_("Improvement items"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: each becomes an item of the improvement register with this review as its source."),
    )

    class Meta:
        model = AgreementReview
        fields = [
            "held_on",
            "attendees",
            "minutes",
            "findings",
            "decisions",
            "improvement_items",
            "changes_agreement",
        ]
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "attendees": forms.Textarea(attrs={"rows": 2}),
            "minutes": forms.Textarea(attrs={"rows": 6}),
            "findings": forms.Textarea(attrs={"rows": 3}),
            "decisions": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "attendees": _("Who took part, for the provider and for the counterparty."),
            "changes_agreement": _("The review decided the agreement must change: a new version follows."),
        }


class ReviewDueFilterForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("kind"), required=False, choices=[("", _("any")), *AgreementKind.choices])
