"""Tasks over a real broker: enqueued after commit, consumed by a real Celery worker.

Runs only when CELERY_BROKER_URL points at Redis (the PostgreSQL + Redis CI pass); on the
embedded defaults tasks run eagerly and these are skipped.
"""

import os

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connections

from itsm.celery import app as celery_app
from itsm.core.choices import NotificationStatus
from itsm.core.models import Notification
from itsm.core.notifications import Recipient, notification_queue

pytestmark = [
    pytest.mark.broker,
    # One xdist worker runs every real-broker test, one after the other (with --dist loadgroup).
    pytest.mark.xdist_group("broker"),
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
        reason="needs CELERY_BROKER_URL=redis://… (runs in the PostgreSQL + Redis pass)",
    ),
    pytest.mark.django_db(transaction=True),
]


def _close_worker_connections(**kwargs):
    # Runs in the worker thread: close its own database connections (they are per thread),
    # as Celery's Django fix-up does in a real worker, so the test database can be dropped.
    connections.close_all()


@pytest.fixture
def real_worker(settings):
    """A Celery worker thread consuming from the configured broker, tasks not eager."""
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = os.environ["CELERY_BROKER_URL"]
    task_postrun.connect(_close_worker_connections, weak=False, dispatch_uid="test-close-connections")
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
            yield worker
    finally:
        task_postrun.disconnect(dispatch_uid="test-close-connections")
        celery_app.conf.task_always_eager = True


def _wait_for(predicate, timeout=20.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_mail_is_sent_by_a_real_worker_after_commit(real_worker):
    notification = notification_queue(
        key="broker-test:1",
        template="core/email/test_message",
        recipient=Recipient(email="someone@customer.example", name="Someone", language="en"),
        context={"sent_at": None},
        urgent=True,
    )
    assert _wait_for(lambda: Notification.objects.get(pk=notification.pk).status == NotificationStatus.SENT)
    assert [m.to for m in mail.outbox] == [["someone@customer.example"]]


def test_duplicate_deliveries_send_one_mail(real_worker):
    from itsm.core.tasks import send_notification_task

    notification = notification_queue(
        key="broker-test:2",
        template="core/email/test_message",
        recipient=Recipient(email="twice@customer.example", name="Twice", language="zh-hans"),
        context={"sent_at": None},
        urgent=True,
    )
    # The same id delivered twice more (a redelivery after a lost ack, an operator re-run).
    send_notification_task.delay(notification.pk)
    send_notification_task.delay(notification.pk)
    assert _wait_for(lambda: Notification.objects.get(pk=notification.pk).status == NotificationStatus.SENT)
    real_worker  # noqa: B018  (the worker drains the queue before the fixture stops it)
    assert _wait_for(lambda: len(mail.outbox) >= 1)
    import time

    time.sleep(1.0)
    assert len(mail.outbox) == 1
