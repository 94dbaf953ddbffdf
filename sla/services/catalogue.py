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

from itsm.core.audit import set_actor
from itsm.core.models import User
from itsm.core.permissions import can
from itsm.core.roles import roles_of

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


class TransitionRefused(ValidationError):
    """The workflow table has no such move from the record's current state."""


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
    if not can(user, "change", Service):
        return []
    roles = set(roles_of(user))
    return [t for t in SERVICE_TRANSITIONS.values() if service.status in t.sources and roles & t.roles]


def service_transition(
    *, service: Service, action: str, actor: User | None, rfc_ref: str = "", note: str = ""
) -> Service:
    """Move ``service`` by ``action`` (accept or retire, as ``SERVICE_TRANSITIONS`` says).

    Raises ``TransitionRefused`` (a ``ValidationError``) for an unknown action or one the
    table does not allow from the current status, ``PermissionDenied`` when the actor's roles
    may not take it (no catalogue move is the system's), ``ValidationError`` naming
    ``rfc_ref`` / ``note`` when a required input is blank. Writes a ``ServiceEvent``.
    """
    transition = SERVICE_TRANSITIONS.get(action)
    if transition is None:
        raise TransitionRefused({"action": _("Unknown action “%(action)s”.") % {"action": action}})
    rfc_ref, note = rfc_ref.strip(), note.strip()
    with set_actor(actor), transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if locked.status not in transition.sources:
            raise TransitionRefused(
                {
                    "action": _("“%(action)s” is not possible while the service is %(status)s.")
                    % {"action": transition.label, "status": locked.get_status_display()}
                }
            )
        if actor is None and not transition.system:
            raise PermissionDenied(_("“%(action)s” needs a person.") % {"action": transition.label})
        if actor is not None and not (set(roles_of(actor)) & transition.roles and can(actor, "change", Service)):
            raise PermissionDenied(_("Your role may not perform “%(action)s”.") % {"action": transition.label})
        inputs = {"rfc_ref": rfc_ref, "note": note}
        errors = {
            name: _("This is required for “%(action)s”.") % {"action": transition.label}
            for name in transition.requires
            if not inputs.get(name)
        }
        if errors:
            raise ValidationError(errors)
        from_status = locked.status
        locked.status = transition.target
        if rfc_ref:
            locked.rfc_ref = rfc_ref
        locked.full_clean()
        locked.save()
        _event(
            locked,
            action=action,
            actor=actor,
            from_status=from_status,
            to_status=locked.status,
            rfc_ref=rfc_ref,
            note=note,
        )
    return locked
