"""The complaint pages' own pickers: who may own a complaint at an escalation level, and the
services a complaint may name."""

from __future__ import annotations

from typing import ClassVar

from itsm.core.models import User
from itsm.core.permissions import can
from itsm.core.pickers import Picker, UserPicker, int_param
from sla.choices import ServiceStatus
from sla.pickers import ServicePicker

from .models import Complaint
from .services import LEVEL_ROLES


class EscalationOwnerPicker(UserPicker):
    """Active members of the role that owns complaints at ``level`` (1 BR manager,
    2 department head, 3 management representative); nobody for another level."""

    name = "escalation_owners"
    params: ClassVar[tuple[str, ...]] = ("level",)

    def permitted(self, user) -> bool:
        return bool(user and user.is_authenticated and can(user, "change", Complaint))

    def queryset(self, params=None):
        level = int_param(params or {}, "level")
        role = LEVEL_ROLES.get(level) if level is not None else None  # type: ignore[call-overload]
        queryset = User.objects.filter(is_active=True)
        return queryset.filter(groups__name=role.value) if role is not None else queryset.none()


class RelatedServicePicker(ServicePicker):
    """The services a complaint may name: those of the catalogue in use (accepted), by code or
    name. (A complaint naming a service retired since keeps it: its forms add that one.)"""

    name = "complaint_services"

    def queryset(self, params=None):
        # Accepted ones only, whatever ``current`` says: a retired or proposed one is never offered.
        return Picker.queryset(self, params).filter(status=ServiceStatus.ACCEPTED)


escalation_owners = EscalationOwnerPicker()
related_services = RelatedServicePicker()

urlpatterns = [escalation_owners.urlpattern(), related_services.urlpattern()]
