"""The log-in lock-out: per username and address, and per username across addresses.

django-axes counts failed log-ins per (username, client address) — ``client_ip``, so behind
the proxies the README describes each client counts apart — and locks that pair out after
``LOGIN_FAILURE_LIMIT`` (5) failures for ``LOGIN_COOLOFF_HOURS``. That alone lets a guesser
with ten addresses try 40 passwords unhindered, so ``LockoutHandler`` also locks the
username once it has ``LOGIN_USERNAME_FAILURE_LIMIT`` (20) failures within the cool-off from
any number of addresses. The second limit is higher than the first: a colleague mistyping
from the shared office address, or someone else guessing, locks the account for everyone
only after many more attempts than a person makes.

A locked-out sign-in gets the lock-out page (HTTP 429) saying how long to wait and that an
administrator can lift it: in the admin, *Access attempts* → delete the username's rows, or
``manage.py axes_reset_username <name>``. A successful sign-in clears that pair's count.
"""

from __future__ import annotations

import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render


def username_failures(request, username: str) -> int:
    """Failed log-ins for ``username`` from every address within the cool-off."""
    attempts = AccessAttempt.objects.filter(username=username)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler, with the per-username limit on top of the per-pair one."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        if not username:
            return failures
        if username_failures(request, username) >= settings.LOGIN_USERNAME_FAILURE_LIMIT:
            # Reported as at the pair limit, which is what axes compares with.
            return max(failures, get_failure_limit(request, credentials))
        return failures


def lockout_response(request, credentials: dict | None = None, *args, **kwargs) -> HttpResponse:
    """The lock-out page (429): how many minutes to wait, and that an administrator can unlock."""
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    if cool_off:
        response.headers["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
