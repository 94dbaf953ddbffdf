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


@periodic_check("surveys.campaigns")
def campaigns() -> str:
    """Survey campaigns: close those past their date, send what is unsent, mark refused
    addresses, and remind non-respondents on each campaign's schedule."""
    from .services.campaigns import campaigns_close_due
    from .services.invitations import invitations_mark_bounced, invitations_remind, invitations_send_pending

    closed = campaigns_close_due()
    sent = invitations_send_pending()
    bounced = invitations_mark_bounced()
    reminded = invitations_remind()
    return f"{closed} closed, {sent} invitations sent, {bounced} bounced, {reminded} reminders"
