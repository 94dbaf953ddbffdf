"""FilterSets of survey campaigns and their invitations, shared by the pages and the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers
from itsm.core.filters import YesNoFilter
from itsm.core.models import Organisation
from itsm.core.pickers import PickerFilter, PickerSelect

from .choices import CampaignKind, CampaignStatus, InvitationStatus
from .models import Campaign, Invitation, Questionnaire
from .pickers import campaign_organisations


def _start_of_day(day: date) -> datetime:
    """Midnight of ``day`` in the current (local) time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class CampaignFilter(django_filters.FilterSet):
    """Campaigns by status, kind, owner, questionnaire version, close date (local days) and title."""

    q = django_filters.CharFilter(method="search", label=_("Search title"))
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=CampaignKind.choices, label=_("Kind"))
    owner = PickerFilter(pickers.users, label=_("Owner"))
    questionnaire = django_filters.ModelChoiceFilter(
        queryset=Questionnaire.objects.order_by("title", "-version"), label=_("Questionnaire")
    )
    closes_after = django_filters.DateFilter(method="filter_closes_after", label=_("Closes on or after"))
    closes_before = django_filters.DateFilter(method="filter_closes_before", label=_("Closes on or before"))

    class Meta:
        model = Campaign
        fields = ["q", "status", "kind", "owner", "questionnaire", "closes_after", "closes_before"]

    def search(self, queryset: QuerySet[Campaign], name: str, value: str) -> QuerySet[Campaign]:
        value = value.strip()
        return queryset.filter(title__icontains=value) if value else queryset

    def filter_closes_after(self, queryset: QuerySet[Campaign], name: str, value: date | None) -> QuerySet[Campaign]:
        return queryset.filter(closes_at__gte=_start_of_day(value)) if value else queryset

    def filter_closes_before(self, queryset: QuerySet[Campaign], name: str, value: date | None) -> QuerySet[Campaign]:
        return queryset.filter(closes_at__lt=_start_of_day(value + timedelta(days=1))) if value else queryset


class InvitationFilter(django_filters.FilterSet):
    """One campaign's invitations by status, organisation, unsubscribed, and contact name or email.

    Pass ``organisations`` (a queryset) to accept only the organisations the campaign invited,
    and ``campaign`` to have the organisation picker offer only those.
    """

    q = django_filters.CharFilter(method="search", label=_("Search contact"))
    status = django_filters.ChoiceFilter(choices=InvitationStatus.choices, label=_("Status"))
    organisation = PickerFilter(pickers.organisations, label=_("Organisation"))
    unsubscribed = YesNoFilter(method="filter_unsubscribed", label=_("Unsubscribed"))

    class Meta:
        model = Invitation
        fields = ["q", "status", "organisation", "unsubscribed"]

    def __init__(
        self,
        *args,
        organisations: QuerySet[Organisation] | None = None,
        campaign: Campaign | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        organisation = self.filters["organisation"]
        if organisations is not None:
            organisation.queryset = organisations
        if campaign is not None:
            organisation.extra["widget"] = PickerSelect(campaign_organisations, {"campaign": campaign.pk})

    def search(self, queryset: QuerySet[Invitation], name: str, value: str) -> QuerySet[Invitation]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(contact__name__icontains=value) | Q(email__icontains=value))

    def filter_unsubscribed(self, queryset: QuerySet[Invitation], name: str, value: bool | None):
        if value is None:
            return queryset
        return queryset.filter(unsubscribed_at__isnull=not value)
