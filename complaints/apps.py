from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from itsm.core.signals import calendar_changed

        from . import periodic  # noqa: F401  (registers the periodic checks)
        from .models import Complaint, ComplaintAttachment, ComplaintTarget

        auditlog.register(Complaint)
        auditlog.register(ComplaintTarget)
        auditlog.register(ComplaintAttachment)
        calendar_changed.connect(_recompute_after_calendar_change, dispatch_uid="complaints.recompute")


def _recompute_after_calendar_change(sender, calendar, **kwargs) -> None:
    # Sent on commit by the calendar services; the work goes to a worker.
    from .tasks import recompute_open_complaints_task

    recompute_open_complaints_task.delay()
