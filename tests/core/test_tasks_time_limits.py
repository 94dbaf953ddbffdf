"""Every task fits the broker's visibility timeout (settings.BROKER_VISIBILITY_TIMEOUT).

Redis hands a message that is still unacknowledged after the visibility timeout to another
worker. Every task is acknowledged late, so each must be done — or killed by its hard time
limit — well within it, a retry's countdown included (a retry waits in the worker
unacknowledged); else a task still running, or waiting to retry, runs a second time. And the
mail claim must expire after a send's time limit and before the redelivery that relies on it.
"""

from django.conf import settings

from itsm.celery import app
from itsm.core.checks import LONGEST_TASK_LIMIT

# Between a message's delivery and its task's start, and clock skew between workers.
MARGIN = 60


def _our_tasks():
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_is_acknowledged_late_and_requeued_when_its_worker_dies():
    tasks = _our_tasks()
    assert {"itsm.core.send_notification", "surveys.send_invitations", "complaints.recompute_open"} <= set(tasks)
    for name, task in tasks.items():
        assert task.acks_late, name
        assert task.reject_on_worker_lost, name


def test_every_task_ends_within_the_visibility_timeout():
    timeout = settings.BROKER_VISIBILITY_TIMEOUT
    for name, task in _our_tasks().items():
        limit = task.time_limit or app.conf.task_time_limit
        assert limit, f"{name} has no hard time limit"
        assert limit + MARGIN <= timeout, f"{name}: time limit {limit} s does not fit {timeout} s"
        assert limit <= LONGEST_TASK_LIMIT, f"{name}: raise itsm.core.checks.LONGEST_TASK_LIMIT to {limit} s"
        if getattr(task, "autoretry_for", ()):
            countdown = task.retry_backoff_max if task.retry_backoff else task.default_retry_delay
            assert countdown + limit + MARGIN <= timeout, f"{name}: a retry waits {countdown} s + {limit} s"


def test_the_mail_claim_expires_between_the_send_limit_and_redelivery():
    send = app.tasks["itsm.core.send_notification"]
    assert send.time_limit == settings.MAIL_SEND_TIME_LIMIT
    assert send.time_limit < settings.MAIL_CLAIM_TIMEOUT < settings.BROKER_VISIBILITY_TIMEOUT
    # A redelivered message that finds a fresh claim retries once it expired: that wait fits too.
    assert settings.MAIL_CLAIM_TIMEOUT + 1 + send.time_limit + MARGIN <= settings.BROKER_VISIBILITY_TIMEOUT


def test_the_redis_transport_uses_the_visibility_timeout(monkeypatch):
    import importlib

    import itsm.settings.base as base

    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("CELERY_VISIBILITY_TIMEOUT", raising=False)
    monkeypatch.delenv("CELERY_RESTORE_INTERVAL", raising=False)
    try:
        options = importlib.reload(base).CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["visibility_timeout"] == base.BROKER_VISIBILITY_TIMEOUT == 420
        assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= 10
    finally:
        monkeypatch.undo()
        importlib.reload(base)


def test_a_system_check_refuses_times_that_do_not_fit(settings):
    from itsm.core.checks import mail_redelivery_settings

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert mail_redelivery_settings(None) == []
    settings.BROKER_VISIBILITY_TIMEOUT = 300
    assert [e.id for e in mail_redelivery_settings(None)] == ["core.E002", "core.E003"]
    settings.BROKER_VISIBILITY_TIMEOUT = 420
    settings.MAIL_CLAIM_TIMEOUT = settings.MAIL_SEND_TIME_LIMIT
    assert [e.id for e in mail_redelivery_settings(None)] == ["core.E001"]
