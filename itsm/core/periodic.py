"""The registry of periodic checks, and core's own checks.

A periodic check is a function that looks for due work (deadlines passed, held mail whose
window opened, reminders to send) and does it. Each app registers its checks in its own
``periodic.py`` with ``@periodic_check("app.name")``; ``CELERY_BEAT_SCHEDULE`` runs each by
name through ``run_periodic_check_task`` and ``manage.py run_due_checks`` runs them all now.

Contract: a check is idempotent. Running it twice in a row does nothing the second time
(unique notification keys, conditional updates), so beat, cron and an operator can overlap.
A check returns a short summary of what it did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicCheck:
    name: str
    func: Callable[[], str]
    description: str


_registry: dict[str, PeriodicCheck] = {}


def periodic_check(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register the decorated function as the periodic check ``name``."""

    def register(func: Callable[[], str]) -> Callable[[], str]:
        if name in _registry and _registry[name].func is not func:
            raise ValueError(f"Periodic check {name!r} is registered twice.")
        _registry[name] = PeriodicCheck(name=name, func=func, description=(func.__doc__ or "").strip())
        return func

    return register


def registered_checks() -> list[PeriodicCheck]:
    """Every registered check, by name (imports each app's ``periodic`` module first)."""
    autodiscover_modules("periodic")
    return sorted(_registry.values(), key=lambda check: check.name)


def run_check(name: str) -> str:
    """Run one check now and record when it ran and what it did."""
    from .models import PeriodicCheckRun

    autodiscover_modules("periodic")
    check = _registry[name]
    started = timezone.now()
    result = check.func() or ""
    PeriodicCheckRun.objects.update_or_create(
        name=name,
        defaults={"last_started_at": started, "last_finished_at": timezone.now(), "last_result": result[:300]},
    )
    logger.info("periodic check %s: %s", name, result)
    return result


def run_all_checks() -> dict[str, str]:
    """Run every registered check once, in name order."""
    return {check.name: run_check(check.name) for check in registered_checks()}


@periodic_check("core.deliver_due_notifications")
def deliver_due_notifications() -> str:
    """Send held mail whose working-hours window has opened; re-queue sends a dead worker left."""
    from .notifications import notification_deliver_due

    queued, released = notification_deliver_due()
    return f"{queued} queued, {released} stale claims released"
