"""Celery tasks of the core app. Tasks take ids, call a service and are safe to run twice.

Every task is acknowledged late and rejected back to the queue when its worker process dies
(``CELERY_TASK_ACKS_LATE``, ``CELERY_TASK_REJECT_ON_WORKER_LOST``); a message whose whole worker
was killed comes back after the broker's visibility timeout. Each task's hard time limit is
below that timeout, so a task still running is never handed to a second worker (see
``BROKER_VISIBILITY_TIMEOUT`` in the settings).
"""

import smtplib

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings

from .notifications import notification_claim_expires_in, notification_send
from .periodic import run_check

SEND_TIME_LIMIT = settings.MAIL_SEND_TIME_LIMIT


@shared_task(
    bind=True,
    name="itsm.core.send_notification",
    autoretry_for=(smtplib.SMTPException, OSError, SoftTimeLimitExceeded),
    retry_backoff=30,
    # A retry waits in the worker unacknowledged (an ETA task): its wait plus the time limit
    # stays below the visibility timeout, or Redis would hand it to a second worker meanwhile.
    retry_backoff_max=SEND_TIME_LIMIT * 2,
    retry_jitter=True,
    max_retries=5,
    time_limit=SEND_TIME_LIMIT,
    soft_time_limit=max(1, SEND_TIME_LIMIT * 3 // 4),
)
def send_notification_task(self, notification_id: int) -> bool:
    """Send one notification; a duplicate delivery finds it claimed or sent and does nothing.

    A redelivered message (its first worker died) that finds the row still claimed cannot
    tell a dead claimant from a slow one: it looks again once the claim has expired, and
    then takes the row over or finds it sent."""
    if notification_send(notification_id):
        return True
    if (self.request.delivery_info or {}).get("redelivered"):
        wait = notification_claim_expires_in(notification_id)
        if wait is not None:
            raise self.retry(countdown=wait + 1)
    return False


@worker_ready.connect
def _send_what_a_dead_worker_left(sender, **kwargs) -> None:
    """A worker that starts sends the mail a dead one left, without waiting for beat.

    Redelivery covers a message the dead worker had taken and not acknowledged, but Redis
    loses one taken in the instant between its BRPOP and the worker recording it as
    unacknowledged — a kill then leaves the row pending with no message. So the starting
    worker runs the mail check once (due pending rows queued again, expired claims released):
    a row whose message still exists is then queued twice, and the second send finds it sent.
    """
    queues = list(sender.app.amqp.queues.consume_from)
    default = sender.app.conf.task_default_queue
    queue = default if default in queues or not queues else queues[0]
    run_periodic_check_task.apply_async(args=["core.deliver_due_notifications"], queue=queue)


# The periodic checks are short (the frequent ones expire after 4 minutes in the beat schedule);
# the hard limit keeps a run below the visibility timeout, so none is handed to a second worker.
@shared_task(name="itsm.core.run_periodic_check", time_limit=300, soft_time_limit=270)
def run_periodic_check_task(name: str) -> str:
    """Run one registered periodic check (the beat schedule names checks by their key)."""
    return run_check(name)
