"""Every write to the core records. Views, forms and serializers never save these themselves.

Each service takes the acting user, validates with ``full_clean`` (raising
``ValidationError`` with a message per field), saves in one transaction with the actor on the
audit trail, and checks the actor's permission first (``PermissionDenied``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F

from itsm.core.audit import set_actor

from .models import Calendar, CalendarOverride, Contact, Department, Organisation
from .permissions import can, require
from .signals import calendar_changed

M = TypeVar("M", bound=models.Model)


def _save(instance: M, *, fields: dict[str, Any], actor, verb: str) -> M:
    require(can(actor, verb, instance))
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    with set_actor(actor), transaction.atomic():
        instance.save()
    return instance


def _delete(instance: models.Model, *, actor) -> None:
    require(can(actor, "delete", instance))
    with set_actor(actor), transaction.atomic():
        instance.delete()


def organisation_create(*, actor, **fields: Any) -> Organisation:
    """Create an organisation (customer, internal team or supplier)."""
    return _save(Organisation(), fields=fields, actor=actor, verb="add")


def organisation_update(*, organisation: Organisation, actor, **fields: Any) -> Organisation:
    return _save(organisation, fields=fields, actor=actor, verb="change")


def organisation_delete(*, organisation: Organisation, actor) -> None:
    """Delete an organisation; raises ``ProtectedError`` while departments or contacts refer to it."""
    _delete(organisation, actor=actor)


def department_create(*, actor, **fields: Any) -> Department:
    return _save(Department(), fields=fields, actor=actor, verb="add")


def department_update(*, department: Department, actor, **fields: Any) -> Department:
    return _save(department, fields=fields, actor=actor, verb="change")


def department_delete(*, department: Department, actor) -> None:
    """Delete a department; raises ``ProtectedError`` while contacts refer to it."""
    _delete(department, actor=actor)


def contact_create(*, actor, **fields: Any) -> Contact:
    """Create a contact; the department, if any, must belong to the organisation."""
    return _save(Contact(), fields=fields, actor=actor, verb="add")


def contact_update(*, contact: Contact, actor, **fields: Any) -> Contact:
    return _save(contact, fields=fields, actor=actor, verb="change")


def contact_delete(*, contact: Contact, actor) -> None:
    """Delete a contact; raises ``ProtectedError`` while other records refer to it."""
    _delete(contact, actor=actor)


def calendar_touch(calendar: Calendar) -> None:
    """Record that ``calendar`` or its overrides changed: bump its version (cached year tables
    refresh) and, after commit, tell the apps holding due dates computed from it."""
    Calendar.objects.filter(pk=calendar.pk).update(version=F("version") + 1)
    calendar.refresh_from_db(fields=["version"])
    transaction.on_commit(lambda: calendar_changed.send(sender=Calendar, calendar=calendar))


def calendar_create(*, actor, **fields: Any) -> Calendar:
    """Create a business calendar (e.g. 24×7 for P1 targets, or another country's)."""
    return _save(Calendar(), fields=fields, actor=actor, verb="add")


def calendar_update(*, calendar: Calendar, actor, **fields: Any) -> Calendar:
    """Change a calendar's country, zone or hours; due dates computed from it are refreshed."""
    with transaction.atomic():
        # save() writes every column, version included: start from the stored version (row
        # locked) so a stale instance cannot set it back and revive a cached year table.
        calendar.version = Calendar.objects.select_for_update().values_list("version", flat=True).get(pk=calendar.pk)
        _save(calendar, fields=fields, actor=actor, verb="change")
        calendar_touch(calendar)
    return calendar


def calendar_override_create(*, actor, **fields: Any) -> CalendarOverride:
    """Mark a day working or not on one calendar, beating the holidays package."""
    with transaction.atomic():
        override = _save(CalendarOverride(), fields=fields, actor=actor, verb="add")
        calendar_touch(override.calendar)
    return override


def calendar_override_update(*, override: CalendarOverride, actor, **fields: Any) -> CalendarOverride:
    with transaction.atomic():
        _save(override, fields=fields, actor=actor, verb="change")
        calendar_touch(override.calendar)
    return override


def calendar_override_delete(*, override: CalendarOverride, actor) -> None:
    calendar = override.calendar
    with transaction.atomic():
        _delete(override, actor=actor)
        calendar_touch(calendar)
