"""Periodic checks of complaints (registered with the core registry, run by Celery beat)."""

from itsm.core.periodic import periodic_check


@periodic_check("complaints.check_deadlines")
def check_deadlines() -> str:
    """Warn owners at 75 % of a deadline; escalate complaints past their response or resolution deadline."""
    from .services import complaints_check_deadlines

    done = complaints_check_deadlines()
    return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in done.items())
