"""Celery tasks of complaints: take ids (or nothing), call a service, safe to run twice."""

from celery import shared_task


# Acknowledged late (the settings' default) and so bounded below the broker's visibility
# timeout (settings.BROKER_VISIBILITY_TIMEOUT): a run still going after that would be handed
# to a second worker. A recompute is one pass saving batches of 500; one cut short by the limit
# keeps the batches it saved, and the next calendar or target change runs it again.
@shared_task(name="complaints.recompute_open", time_limit=300, soft_time_limit=270)
def recompute_open_complaints_task() -> int:
    """Recompute the due dates of open complaints (a calendar or a target changed)."""
    from .services import complaints_recompute_open

    return complaints_recompute_open()
