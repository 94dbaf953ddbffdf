"""Periodic checks of the satisfaction app (registered with the core registry)."""

from itsm.core.periodic import periodic_check


@periodic_check("surveys.weekly_reminders")
def weekly_reminders() -> str:
    """On Friday, remind recorders whose department has no submitted weekly visit report yet."""
    from .services.weekly import weekly_reports_remind

    return f"{weekly_reports_remind()} reminders"


@periodic_check("surveys.callbacks_overdue")
def callbacks_overdue() -> str:
    """Mail the service desk lead a digest of call-backs newly past their 24-hour due time."""
    from .services.callbacks import callbacks_notify_overdue

    return f"{callbacks_notify_overdue()} overdue call-backs notified"
