"""Celery tasks of the core app. Tasks take ids, call a service and are safe to run twice."""

import smtplib

from celery import shared_task

from .notifications import notification_send
from .periodic import run_check


@shared_task(
    name="itsm.core.send_notification",
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=90,
)
def send_notification_task(notification_id: int) -> bool:
    """Send one notification; a duplicate delivery finds it claimed or sent and does nothing."""
    return notification_send(notification_id)


@shared_task(name="itsm.core.run_periodic_check", acks_late=True, time_limit=600, soft_time_limit=540)
def run_periodic_check_task(name: str) -> str:
    """Run one registered periodic check (the beat schedule names checks by their key)."""
    return run_check(name)
