"""Type-ahead pickers of the satisfaction pages (``itsm.core.pickers``)."""

from __future__ import annotations

from typing import ClassVar

from itsm.core.permissions import can_view
from itsm.core.pickers import OrganisationPicker, int_param

from .models import Campaign, Invitation


class CampaignOrganisationPicker(OrganisationPicker):
    """The organisations one campaign invited (``campaign=<id>``): the invitation list's filter.
    For whoever may read the campaign's invitations."""

    name = "campaign-organisations"
    params: ClassVar[tuple[str, ...]] = ("campaign",)

    def permitted(self, user) -> bool:
        return super().permitted(user) and can_view(user, Campaign) and can_view(user, Invitation)

    def queryset(self, params=None):
        campaign = int_param(params or {}, "campaign")
        invited = Invitation.objects.filter(campaign_id=campaign).values("organisation_id")
        return super().queryset({}).filter(pk__in=invited)

    def label(self, obj, params=None):
        return obj.name


campaign_organisations = CampaignOrganisationPicker()

urlpatterns = [campaign_organisations.urlpattern()]
