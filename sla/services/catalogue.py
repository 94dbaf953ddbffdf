"""Every write to the service catalogue: create, edit, and the one service that moves a status.

Each service checks the actor's permission (``PermissionDenied``), validates (``ValidationError``
with a message per field; nothing is written), runs in one transaction with the actor on the
audit trail, and writes a ``ServiceEvent`` for what happened. ``service_transition`` is the only
code that assigns ``Service.status``: it locks the row and follows ``SERVICE_TRANSITIONS``.
A change to an accepted service needs the RFC that approved it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.audit import set_actor
from itsm.core.models import User
from itsm.core.permissions import can
from itsm.core.workflow import Machine, allowed, perform

from ..choices import ServiceStatus
from ..models import Service, ServiceEvent
from ..workflow import SERVICE_TRANSITIONS, Transition

# The fields of a service its form (and the API) may write; the status moves by the workflow.
SERVICE_FIELDS = (
    "code",
    "name",
    "category",
    "description",
    "owner",
    "standards",
    "contact_interface",
    "calendar",
    "exceptions",
    "security",
)


def _check_fields(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _event(
    service: Service,
    *,
    action: str,
    actor: User | None,
    from_status: str = "",
    to_status: str = "",
    rfc_ref: str = "",
    note: str = "",
) -> ServiceEvent:
    return ServiceEvent.objects.create(
        service=service,
        action=action,
        from_status=from_status,
        to_status=to_status,
        rfc_ref=rfc_ref,
        actor=actor,
        note=note,
    )


def service_create(*, actor: User, rfc_ref: str = "", **fields: Any) -> Service:
    """Propose a new service of the catalogue from ``fields`` (see ``SERVICE_FIELDS``).

    The service starts ``proposed``; a ``created`` event is written. Raises
    ``PermissionDenied`` without the add permission, ``ValidationError`` per field (unknown
    field, duplicate code, missing name …).
    """
    if not can(actor, "add", Service):
        raise PermissionDenied
    _check_fields(fields, SERVICE_FIELDS)
    service = Service(**{name: _strip(value) for name, value in fields.items()}, rfc_ref=rfc_ref.strip())
    service.full_clean()
    with set_actor(actor), transaction.atomic():
        service.save()
        _event(service, action="created", actor=actor, to_status=service.status, rfc_ref=service.rfc_ref)
    return service


def service_update(*, service: Service, actor: User, rfc_ref: str = "", **fields: Any) -> Service:
    """Change a service's description (not its status).

    A proposed service changes freely; an accepted one only with the RFC that approved the
    change (``rfc_ref``), recorded on the service and in a ``changed`` event; a retired one no
    longer changes. Nothing changed: nothing written. Raises ``PermissionDenied`` or
    ``ValidationError`` (``rfc_ref`` missing, unknown field, invalid value).
    """
    if not can(actor, "change", Service):
        raise PermissionDenied
    _check_fields(fields, SERVICE_FIELDS)
    rfc_ref = rfc_ref.strip()
    with set_actor(actor), transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if locked.status == ServiceStatus.RETIRED:
            raise ValidationError(_("A retired service can no longer be changed."))
        changed = [name for name, value in fields.items() if getattr(locked, name) != _strip(value)]
        if not changed:
            return locked
        if locked.status == ServiceStatus.ACCEPTED and not rfc_ref:
            raise ValidationError(
                {"rfc_ref": _("A change to an accepted service needs the reference of the RFC that approved it.")}
            )
        for name in changed:
            setattr(locked, name, _strip(fields[name]))
        if rfc_ref:
            locked.rfc_ref = rfc_ref
        locked.full_clean()
        locked.save()
        # The field names (not their labels: the page shows them in the reader's language).
        _event(locked, action="changed", actor=actor, rfc_ref=rfc_ref, note=", ".join(changed))
    return locked


def service_allowed_actions(service: Service, user: User | Any) -> list[Transition]:
    """The moves ``user`` may make on ``service`` now (state, role and permission)."""
    return allowed(SERVICE_MACHINE, service, user)


def service_transition(
    *, service: Service, action: str, actor: User | None, rfc_ref: str = "", note: str = ""
) -> Service:
    """Move ``service`` by ``action`` (accept or retire, as ``SERVICE_TRANSITIONS`` says).

    Raises ``TransitionRefused`` (a ``ValidationError``) for an unknown action or one the
    table does not allow from the current status, ``PermissionDenied`` when the actor's roles
    may not take it (no catalogue move is the system's), ``ValidationError`` naming
    ``rfc_ref`` / ``note`` when a required input is blank. Writes a ``ServiceEvent``.
    """
    return perform(SERVICE_MACHINE, service, action, actor=actor, note=note, inputs={"rfc_ref": rfc_ref})


SERVICE_MACHINE = Machine(
    model=Service,
    table=SERVICE_TRANSITIONS,
    refused=gettext_lazy("“%(action)s” is not possible while the service is %(status)s."),
    moved=gettext_lazy("%(action)s: the service is now “%(status)s”."),
    event_labels={"created": gettext_lazy("Proposed"), "changed": gettext_lazy("Changed")},
    event_model=ServiceEvent,
    event_fields=lambda move: {"rfc_ref": move.record.rfc_ref},
    permission="change",
)
