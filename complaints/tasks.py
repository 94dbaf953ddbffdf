"""Celery tasks of complaints: take ids (or nothing), call a service, safe to run twice."""

from celery import shared_task


@shared_task(name="complaints.recompute_open", acks_late=True, time_limit=1800, soft_time_limit=1700)
def recompute_open_complaints_task() -> int:
    """Recompute the due dates of open complaints (a calendar or a target changed)."""
    from .services import complaints_recompute_open

    return complaints_recompute_open()
