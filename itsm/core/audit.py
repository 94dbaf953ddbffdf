"""Audit trail: every create / update / delete of a domain record, with actor and changes.

Recording is django-auditlog's (actor from the request middleware, or ``set_actor`` in
services and tasks). What this module adds is that the trail cannot be changed: the admin
offers no add / change / delete, and database triggers (migration core.0003) refuse UPDATE
and DELETE of log rows except the ``actor_id`` being nulled when a user row goes away.
"""

from auditlog.models import LogEntry
from auditlog.registry import auditlog

from .models import Calendar, CalendarOverride, Contact, Department, Organisation, User

auditlog.register(Organisation)
auditlog.register(Department)
auditlog.register(Contact)
auditlog.register(Calendar)
auditlog.register(CalendarOverride)
auditlog.register(User, exclude_fields=["password", "last_login"], m2m_fields={"groups"})


def history_of(obj):
    """The audit trail of ``obj``, newest first, with actors loaded in the same query."""
    return LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp", "-pk")
