"""System checks (``manage.py check``) for settings whose values depend on one another."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

# The longest hard time limit of any task (itsm/core/tasks.py, surveys/tasks.py,
# complaints/tasks.py; tests/core/test_tasks_time_limits.py holds them to it) and the margin
# kept for the wait between a message's delivery and its task's start and for clock skew.
LONGEST_TASK_LIMIT = 300
MARGIN = 60


@register(Tags.compatibility)
def mail_redelivery_settings(app_configs, **kwargs) -> list[Error]:
    """The mail claim expires after a send's time limit, and before the broker redelivers."""
    errors: list[Error] = []
    limit, claim = settings.MAIL_SEND_TIME_LIMIT, settings.MAIL_CLAIM_TIMEOUT
    if claim <= limit:
        errors.append(
            Error(
                f"MAIL_CLAIM_TIMEOUT ({claim} s) must exceed MAIL_SEND_TIME_LIMIT ({limit} s): a mail still "
                "being sent could be taken over and sent twice.",
                id="core.E001",
            )
        )
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
        timeout = settings.BROKER_VISIBILITY_TIMEOUT
        longest = max(LONGEST_TASK_LIMIT, limit, settings.CELERY_TASK_TIME_LIMIT)
        if timeout < longest + MARGIN:
            errors.append(
                Error(
                    f"CELERY_VISIBILITY_TIMEOUT ({timeout} s) must exceed the longest task time limit "
                    f"({longest} s) by {MARGIN} s, or Redis hands a task still running to a second worker.",
                    id="core.E002",
                )
            )
        if claim + limit + MARGIN > timeout:
            errors.append(
                Error(
                    f"MAIL_CLAIM_TIMEOUT ({claim} s) must expire well before CELERY_VISIBILITY_TIMEOUT "
                    f"({timeout} s), or a redelivered mail waits for the periodic check.",
                    id="core.E003",
                )
            )
    return errors
