"""Celery tasks of the satisfaction app: take ids, call a service, safe to run twice."""

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="surveys.send_invitations",
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    # A retry waits in the worker unacknowledged: wait plus time limit stay below the broker's
    # visibility timeout (settings.BROKER_VISIBILITY_TIMEOUT), or a second worker gets it too.
    retry_backoff_max=60,
    max_retries=8,
    time_limit=300,
    soft_time_limit=270,
)
def send_invitations_task(campaign_id: int) -> int:
    """Mail one batch of a campaign's unsent invitations, then queue the next batch.

    Each batch is one transaction (see ``surveys.services.invitations``): a duplicate
    delivery or a restarted worker finds the batch sent or rolled back, never half-done."""
    from django.db import transaction

    from .services.invitations import invitations_send_batch

    sent, more = invitations_send_batch(campaign_id=campaign_id)
    if more:
        transaction.on_commit(lambda: send_invitations_task.delay(campaign_id), robust=True)
    return sent
