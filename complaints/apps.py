from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self) -> None:
        from itsm.core.history import audit_register
        from itsm.core.signals import calendar_changed

        from . import home, periodic  # noqa: F401  (register the home panels and periodic checks)
        from .models import Complaint, ComplaintAttachment, ComplaintTarget

        # The paused clock and the warning moments are bookkeeping of the deadline checks:
        # the timeline says when the clock stopped and who was warned.
        audit_register(
            Complaint,
            url_name="complaint_detail",
            hidden=("paused_at", "paused_seconds", "response_warn_at", "resolution_warn_at", "reply_working_seconds"),
        )
        audit_register(ComplaintTarget)
        audit_register(ComplaintAttachment, hidden=("file",))
        calendar_changed.connect(_recompute_after_calendar_change, dispatch_uid="complaints.recompute")


def _recompute_after_calendar_change(sender, calendar, **kwargs) -> None:
    # Sent on commit by the calendar services; the work goes to a worker.
    from .tasks import recompute_open_complaints_task

    recompute_open_complaints_task.delay()
