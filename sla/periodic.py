"""Periodic checks of the service catalogue and agreements (registered with the core registry).

Each is idempotent: expiring moves only agreements still active, drafting creates a month's
report once, reminders are recorded once per key.
"""

from __future__ import annotations

from itsm.core.periodic import periodic_check


@periodic_check("sla.expire_agreements")
def expire_agreements() -> str:
    """Expire active agreements whose validity ended before today (through the workflow
    service, by the system)."""
    from .services.agreements import agreements_expire_due

    return f"{agreements_expire_due()} agreements expired"


@periodic_check("sla.draft_reports")
def draft_reports() -> str:
    """From the first working day of a month, draft last month's report of every SLA in force."""
    from .services.reports import sla_reports_draft_due

    return f"{sla_reports_draft_due()} reports drafted"


@periodic_check("sla.review_reminders")
def review_reminders() -> str:
    """Remind agreement owners 30 and 7 days before a review is due, and once when overdue."""
    from .services.reviews import reviews_remind

    return f"{reviews_remind()} review reminders"
