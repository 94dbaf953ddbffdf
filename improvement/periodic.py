"""The periodic checks of continual improvement (``itsm.core.periodic``): the system's intake
of findings into the register, and the reminders of actions and effectiveness reviews."""

from __future__ import annotations

from itsm.core.periodic import periodic_check


@periodic_check("improvement.intake")
def intake() -> str:
    """Suggest items for red KPI periods, repeated SLA breaches and survey questions below target."""
    from .services.intake import intake_run

    created = intake_run()
    return ", ".join(f"{name}: {count}" for name, count in created.items()) or "no rules"


@periodic_check("improvement.action_reminders")
def action_reminders() -> str:
    """Remind action owners 3 working days before an action is due and each working day it is
    overdue; escalate to the plan's owner once it is IMPROVEMENT_ESCALATE_AFTER_WORKING_DAYS
    working days overdue (``improvement.services.reminders``)."""
    from .services.reminders import actions_remind

    sent = actions_remind()
    return f"{sent['due_soon']} due soon, {sent['overdue']} overdue, {sent['escalated']} escalated"


@periodic_check("improvement.review_reminders")
def review_reminders() -> str:
    """Remind plan owners each working day an effectiveness review is due and not recorded."""
    from .services.reminders import reviews_remind

    return f"{reviews_remind()} effectiveness review reminders"
