"""FilterSets of complaints, shared by the list page, the exports and the API."""

from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core import pickers
from itsm.core.choices import OrganisationKind
from itsm.core.filters import YesNoFilter
from itsm.core.models import Contact
from itsm.core.pickers import PickerFilter
from sla import pickers as sla_pickers

from .choices import Category, Channel, ComplaintStatus, EscalationLevel, Severity
from .models import Complaint
from .selectors import overdue_q

# A search term matching more contacts than this is not a contact search; the other fields
# still match.
CONTACT_MATCH_LIMIT = 500


class ComplaintFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=ComplaintStatus.choices, label=_("Status"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("Category"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    # Type-ahead pickers: the page holds only the chosen organisation / owner, not every row.
    organisation = PickerFilter(
        pickers.organisations, {"kind": OrganisationKind.CUSTOMER.value}, label=_("Customer organisation")
    )
    owner = PickerFilter(pickers.users, {"active": "1"}, label=_("Owner"))
    related_service = PickerFilter(sla_pickers.services, label=_("Related service"))
    escalation_level = django_filters.ChoiceFilter(choices=EscalationLevel.choices, label=_("Escalation level"))
    overdue = YesNoFilter(method="filter_overdue", label=_("Overdue"))
    open = YesNoFilter(method="filter_open", label=_("Open"))
    # Local days turned into a range on received_at (not ``received_at__date``, which no index
    # serves): the list stays fast on a million complaints.
    received_after = django_filters.DateFilter(method="filter_received_after", label=_("Received from"))
    received_before = django_filters.DateFilter(method="filter_received_before", label=_("Received until"))

    class Meta:
        model = Complaint
        fields = [
            "q",
            "status",
            "severity",
            "category",
            "channel",
            "organisation",
            "owner",
            "related_service",
            "escalation_level",
            "overdue",
            "open",
            "received_after",
            "received_before",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Matching contacts are looked up first (trigram-indexed on PostgreSQL) so the complaint
        # condition stays on one table, where the planner can OR its indexes together instead
        # of scanning a million rows through a join.
        contact_ids = list(
            Contact.objects.filter(Q(name__icontains=value) | Q(phone__icontains=value)).values_list("pk", flat=True)[
                :CONTACT_MATCH_LIMIT
            ]
        )
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(external_ticket_ref__icontains=value)
            | Q(contact_id__in=contact_ids)
        )

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = overdue_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_open(self, queryset, name, value):
        from .choices import OPEN_STATUSES

        if value is None:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_received_after(self, queryset, name, value):
        return queryset.filter(received_at__gte=_start_of_day(value)) if value else queryset

    def filter_received_before(self, queryset, name, value):
        return queryset.filter(received_at__lt=_start_of_day(value + timedelta(days=1))) if value else queryset


def _start_of_day(day: date) -> datetime:
    """Midnight of ``day`` in the current (local) time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
